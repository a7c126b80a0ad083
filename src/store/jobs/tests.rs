//! Store tests: batched enqueue, leases across a reopen, refused stale or broken saves.
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
    second.fail(crate::clock::Millis(3000), "x".into()).unwrap();
    assert!(matches!(
        store.save(&mut second).await,
        Err(SaveError::Conflict)
    ));
    assert_eq!(
        store.get(&a.id).unwrap().unwrap().state(),
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

#[tokio::test]
async fn a_job_that_breaks_a_rule_is_refused_by_every_write_and_nothing_is_written() {
    use crate::job::{Outcome, Rule};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = job("t1", "e1");
    store.enqueue(&a).await.unwrap();
    let mut a = store.get(&a.id).unwrap().unwrap();
    a.vendor = Some(crate::ids::VendorId::new("splashtop"));
    a.ticket_read = Some(Default::default());
    a.session = Some(crate::remote::Session {
        id: "s1".into(),
        code: "123456789".into(),
        end_user_link: Some("https://x.example/s".into()),
        technician_link: None,
        seat: None,
        created_at: crate::clock::Millis(1500),
        extra: serde_json::Value::Null,
    });
    a.apply(Outcome::Done("created".into()), crate::clock::Millis(2000))
        .unwrap();
    store.save(&mut a).await.unwrap();

    let mut broken = a.clone();
    broken.session = None;
    let err = store.save(&mut broken).await.unwrap_err();
    assert!(
        matches!(&err, SaveError::Store(StoreError::Invalid(b)) if b.rule == Rule::SessionFromSessionCreated),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(
            "session_created) breaks a rule: from session_created on, a job has its session"
        ),
        "{err}"
    );
    assert!(store.get(&a.id).unwrap().unwrap().session.is_some());

    broken.id = crate::ids::JobId::new();
    assert!(matches!(
        store.insert_bulk(std::slice::from_ref(&broken)),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.enqueue(&broken).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.get(&broken.id).unwrap().map(|j| j.id), None);
}
