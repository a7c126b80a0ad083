//! What only the sled backend does: batched enqueue and leases given back at open (the shared
//! suite of every backend is `store/tests.rs`).
use super::jobs::enqueue_batch_tx;
use super::SledBackend;
use crate::clock::Millis;
use crate::store::tests::job;
use crate::store::{Enqueued, Store};

#[tokio::test]
async fn one_batch_sees_its_own_duplicates_and_second_clicks() {
    let dir = tempfile::tempdir().unwrap();
    let b = SledBackend::open(dir.path()).unwrap();
    let a = job("t1", "e1");
    let other = job("t2", "e3");
    let batch = [a.clone(), job("t1", "e1"), job("t1", "e2"), other.clone()];
    let out = enqueue_batch_tx(&b.trees, &batch).unwrap();
    assert_eq!(
        out,
        vec![
            Enqueued::Queued(a.id),
            Enqueued::Duplicate(a.id),
            Enqueued::Existing(a.id),
            Enqueued::Queued(other.id)
        ]
    );
    assert_eq!(b.due_jobs_sync(Millis(2000), 10).unwrap().len(), 2);
}

#[tokio::test]
async fn leases_are_given_back_when_the_store_is_opened_again() {
    let dir = tempfile::tempdir().unwrap();
    let a = job("t1", "e1");
    {
        let store = Store::open_sled(dir.path()).unwrap();
        store.enqueue(&a).await.unwrap();
        let far = Millis(10_000_000_000_000);
        assert!(store
            .lease(&a.id, 7, Millis(2000), far)
            .await
            .unwrap()
            .is_some());
        store.flush_blocking().unwrap();
    }
    let store = Store::open_sled(dir.path()).unwrap();
    assert_eq!(
        store.due_jobs(Millis(2000), 10).await.unwrap(),
        vec![a.id],
        "the crashed holder's job is due again at once"
    );
}

#[tokio::test]
async fn a_store_written_before_the_ended_index_gets_it_at_open_and_retention_finds_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = job("t1", "e1");
    old.cancel(Millis(3_000)).unwrap();
    {
        let b = SledBackend::open(dir.path()).unwrap();
        b.insert_bulk_sync(std::slice::from_ref(&old)).unwrap();
        // as an older build left it: no `ended` entries, no marker
        b.tree(super::ENDED).clear().unwrap();
        b.db.remove(b"\0ended-indexed").unwrap();
        b.db.flush().unwrap();
    }
    let store = Store::open_sled(dir.path()).unwrap();
    let purged = store.purge(Millis(5_000), Millis(5_000)).await.unwrap();
    assert_eq!(purged.jobs, 1);
    assert!(store.get(&old.id).await.unwrap().is_none());
}
