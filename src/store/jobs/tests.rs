//! Store tests: batched enqueue, leases across a reopen, refused stale saves.
use super::*;
use crate::ids::{ConnectionId, EventId, TicketRef};
use crate::job::NewJob;

fn job(ticket: &str, event: &str) -> Job {
    Job::new(
        NewJob {
            connection: ConnectionId::new("c"),
            ticket: TicketRef::new(ticket),
            ticket_number: None,
            event_id: Some(EventId::new(event)),
            vendor: None,
            rule: None,
            hint: Default::default(),
        },
        crate::clock::Millis(1000),
    )
}

#[tokio::test]
async fn one_batch_sees_its_own_duplicates_and_second_clicks() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = job("t1", "e1");
    let dup = job("t1", "e1");
    let click = job("t1", "e2");
    let other = job("t2", "e3");
    let out =
        enqueue_batch_tx(&store.inner.trees, &[a.clone(), dup, click, other.clone()]).unwrap();
    assert_eq!(
        out,
        vec![
            Enqueued::Queued(a.id),
            Enqueued::Duplicate(a.id),
            Enqueued::Existing(a.id),
            Enqueued::Queued(other.id)
        ]
    );
    assert_eq!(store.get(&a.id).unwrap().unwrap().id, a.id);
    assert_eq!(
        store
            .due_jobs(crate::clock::Millis(2000), 10)
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn leases_are_given_back_when_the_store_is_opened_again() {
    let dir = tempfile::tempdir().unwrap();
    let a = job("t1", "e1");
    {
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.enqueue(&a).await.unwrap(), Enqueued::Queued(a.id));
        let now = crate::clock::Millis(2000);
        assert!(store
            .lease(&a.id, 7, now, crate::clock::Millis(10_000_000_000_000))
            .unwrap()
            .is_some());
        assert!(
            store.due_jobs(now, 10).unwrap().is_empty(),
            "a held job is not due"
        );
        assert!(
            store
                .lease(&a.id, 8, now, crate::clock::Millis(9_000))
                .unwrap()
                .is_none(),
            "nor can another take it"
        );
        store.flush_blocking().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.due_jobs(crate::clock::Millis(2000), 10).unwrap(),
        vec![a.id],
        "the crashed holder's job is due again at once"
    );
}

#[tokio::test]
async fn a_stale_save_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = job("t1", "e1");
    store.enqueue(&a).await.unwrap();
    let mut first = store.get(&a.id).unwrap().unwrap();
    let mut second = first.clone();
    first.cancel(crate::clock::Millis(3000)).unwrap();
    store.save(&mut first).await.unwrap();
    second.fail(crate::clock::Millis(3000), "x".into());
    assert!(matches!(
        store.save(&mut second).await,
        Err(SaveError::Conflict)
    ));
    assert_eq!(
        store.get(&a.id).unwrap().unwrap().state,
        JobState::Cancelled
    );
    assert_eq!(
        store
            .count_by_state()
            .iter()
            .find(|(s, _)| *s == JobState::Cancelled)
            .unwrap()
            .1,
        1
    );
}
