//! One suite of store tests, run against both backends: each case is an async function of a
//! [`Fx`] (a store and a second handle on the same data, the way a second replica sees it), and
//! `both!` makes a sled test and a PostgreSQL one of it. The PostgreSQL ones start a throw-away
//! cluster each and are ignored by a plain `cargo test` (they need the server binaries).
//! Jobs here; named values, locks and retention in `values.rs`.

mod values;

use super::*;
use crate::clock::Millis;
use crate::ids::{ConnectionId, EventId, TicketRef};
use crate::job::{NewJob, Outcome, Rule};
use values::*;

pub(crate) struct Fx {
    pub store: Store,
    /// Another handle on the same data: for PostgreSQL a second pool, as another replica has.
    pub other: Store,
    _keep: Box<dyn std::any::Any + Send>,
}

pub(crate) async fn sled_fx() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sled(dir.path()).unwrap();
    Fx {
        other: store.clone(),
        store,
        _keep: Box::new(dir),
    }
}

pub(crate) async fn pg_fx() -> Fx {
    let pg = postgres::scratch::Scratch::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.database().await.unwrap();
    let store = Store::open_postgres(&url, 8).await.unwrap();
    let other = Store::open_postgres(&url, 8).await.unwrap();
    Fx {
        store,
        other,
        _keep: Box::new(pg),
    }
}

macro_rules! both {
    ($($case:ident),* $(,)?) => {
        mod on_sled {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::sled_fx().await).await
            })*
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL; run: cargo test -- --ignored"]
            async fn $case() {
                super::$case(super::pg_fx().await).await
            })*
        }
    };
}

both!(
    a_delivery_seen_before_and_a_second_click_answer_with_the_first_job,
    concurrent_clicks_on_one_ticket_through_two_handles_make_one_job,
    a_lease_is_fenced_and_a_lapsed_one_is_taken_over,
    a_checkpoint_keeps_the_lease_and_the_outcome_gives_it_back,
    a_stale_write_is_refused_and_counts_follow_the_state,
    a_job_that_breaks_a_rule_is_refused_by_every_write,
    values_swap_take_and_scan_atomically,
    a_named_lock_has_one_holder_across_handles,
    lists_page_newest_first_and_filter,
    retention_deletes_old_finished_jobs_and_attached_artifacts,
);

/// A new job on ticket `ticket` of connection "c" for delivery `event` (other stores' tests
/// use it too).
pub(crate) fn job(ticket: &str, event: &str) -> Job {
    Job::new(
        NewJob {
            connection: ConnectionId::new("c"),
            ticket: TicketRef::new(ticket),
            ticket_number: Some(format!("N-{ticket}")),
            event_id: Some(EventId::new(event)),
            vendor: None,
            rule: None,
            hint: Default::default(),
        },
        Millis(1000),
    )
}

pub(super) const T0: Millis = Millis(2000);

/// A job moved to session_created (it then needs a vendor, a read ticket and a session).
pub(super) fn started(mut j: Job, at: Millis) -> Job {
    j.vendor = Some(crate::ids::VendorId::new("v"));
    j.ticket_read = Some(Default::default());
    j.session = Some(crate::remote::Session {
        id: "s1".into(),
        code: "123456789".into(),
        end_user_link: Some("https://x.example/s".into()),
        technician_link: None,
        seat: None,
        created_at: at,
        extra: serde_json::Value::Null,
    });
    j.apply(Outcome::Done("created".into()), at).unwrap();
    j
}

async fn a_delivery_seen_before_and_a_second_click_answer_with_the_first_job(fx: Fx) {
    let s = &fx.store;
    let a = job("t1", "e1");
    let other = job("t2", "e3");
    assert_eq!(s.enqueue(&a).await.unwrap(), Enqueued::Queued(a.id));
    assert_eq!(
        s.enqueue(&job("t1", "e1")).await.unwrap(),
        Enqueued::Duplicate(a.id)
    );
    assert_eq!(
        s.enqueue(&job("t1", "e2")).await.unwrap(),
        Enqueued::Existing(a.id)
    );
    // the second click's delivery now answers with the job it joined
    assert_eq!(
        fx.other.enqueue(&job("t1", "e2")).await.unwrap(),
        Enqueued::Duplicate(a.id)
    );
    assert_eq!(s.enqueue(&other).await.unwrap(), Enqueued::Queued(other.id));
    assert_eq!(s.get(&a.id).await.unwrap().unwrap().id, a.id);
    assert_eq!(s.due_jobs(T0, 10).await.unwrap().len(), 2);
    assert_eq!(s.ticket_holder("c", "t1").await.unwrap(), Some(a.id));
    // once the session is over, a click starts a new job
    let mut held = s.get(&a.id).await.unwrap().unwrap();
    held.cancel(T0).unwrap();
    s.save(&mut held).await.unwrap();
    assert_eq!(s.ticket_holder("c", "t1").await.unwrap(), None);
    let again = job("t1", "e4");
    assert_eq!(s.enqueue(&again).await.unwrap(), Enqueued::Queued(again.id));
}

async fn concurrent_clicks_on_one_ticket_through_two_handles_make_one_job(fx: Fx) {
    let mut tasks = vec![];
    for i in 0..16 {
        let s = if i % 2 == 0 {
            fx.store.clone()
        } else {
            fx.other.clone()
        };
        tasks.push(tokio::spawn(async move {
            s.enqueue(&job("busy", &format!("e{i}"))).await.unwrap()
        }));
    }
    let mut queued = vec![];
    let mut joined = vec![];
    for t in tasks {
        match t.await.unwrap() {
            Enqueued::Queued(id) => queued.push(id),
            Enqueued::Existing(id) => joined.push(id),
            d => panic!("no delivery was repeated: {d:?}"),
        }
    }
    assert_eq!(queued.len(), 1, "exactly one job: {queued:?}");
    assert!(joined.iter().all(|id| *id == queued[0]));
}

async fn a_lease_is_fenced_and_a_lapsed_one_is_taken_over(fx: Fx) {
    let (s, o) = (&fx.store, &fx.other);
    let a = job("t1", "e1");
    s.enqueue(&a).await.unwrap();
    let mut first = s
        .lease(&a.id, 7, T0, Millis(10_000))
        .await
        .unwrap()
        .unwrap();
    assert!(
        s.due_jobs(T0, 10).await.unwrap().is_empty(),
        "a held job is not due"
    );
    assert!(o
        .lease(&a.id, 8, T0, Millis(9_000))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .renew(&first, Millis(5_000), Millis(20_000))
        .await
        .unwrap());
    assert_eq!(s.next_due().await.unwrap(), Some(Millis(20_000)));
    // the holder stalls past its lease; another replica takes the job over
    let later = Millis(20_001);
    assert_eq!(o.due_jobs(later, 10).await.unwrap(), vec![a.id]);
    let mut second = o
        .lease(&a.id, 8, later, Millis(40_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.fence, first.fence + 1);
    first = started(first, later);
    assert!(matches!(
        s.save_held(&mut first, later, Hold::Release).await,
        Err(SaveError::LeaseLost)
    ));
    assert!(!s.renew(&first, later, Millis(50_000)).await.unwrap());
    second = started(second, later);
    o.save_held(&mut second, later, Hold::Release)
        .await
        .unwrap();
    let stored = s.get(&a.id).await.unwrap().unwrap();
    assert_eq!(stored.state(), JobState::SessionCreated);
    assert!(stored.lease.is_none());
    // a lease that ran out records nothing even before anyone took it over
    let mut third = s
        .lease(&a.id, 7, later, Millis(30_000))
        .await
        .unwrap()
        .unwrap();
    third.record(later, 1, None, "late".into());
    assert!(matches!(
        s.save_held(&mut third, Millis(30_000), Hold::Release).await,
        Err(SaveError::LeaseLost)
    ));
}

async fn a_checkpoint_keeps_the_lease_and_the_outcome_gives_it_back(fx: Fx) {
    let s = &fx.store;
    let a = job("t1", "e1");
    s.enqueue(&a).await.unwrap();
    let mut j = s
        .lease(&a.id, 7, T0, Millis(10_000))
        .await
        .unwrap()
        .unwrap();
    assert!(s.renew(&j, T0, Millis(20_000)).await.unwrap());
    j.record(T0, 1, None, "half way".into());
    s.save_held(&mut j, T0, Hold::Keep).await.unwrap();
    assert!(s.due_jobs(T0, 10).await.unwrap().is_empty(), "still held");
    let past_first_end = Millis(15_000);
    let taken = fx
        .other
        .lease(&a.id, 8, past_first_end, Millis(30_000))
        .await;
    assert!(
        taken.unwrap().is_none(),
        "the checkpoint kept the renewed end of the lease"
    );
    assert!(fx
        .other
        .lease(&a.id, 8, T0, Millis(9_000))
        .await
        .unwrap()
        .is_none());
    j = started(j, T0);
    s.save_held(&mut j, T0, Hold::Release).await.unwrap();
    assert_eq!(fx.other.due_jobs(T0, 10).await.unwrap(), vec![a.id]);
    let stored = fx.other.get(&a.id).await.unwrap().unwrap();
    assert!(stored
        .history()
        .iter()
        .any(|h| h.detail.as_deref() == Some("half way")));
    // shutdown: a held job is given back unchanged
    let held = s
        .lease(&a.id, 7, T0, Millis(10_000))
        .await
        .unwrap()
        .unwrap();
    s.release(&held).await.unwrap();
    assert_eq!(s.due_jobs(T0, 10).await.unwrap(), vec![a.id]);
}

async fn a_stale_write_is_refused_and_counts_follow_the_state(fx: Fx) {
    let s = &fx.store;
    let a = job("t1", "e1");
    s.enqueue(&a).await.unwrap();
    let mut first = s.get(&a.id).await.unwrap().unwrap();
    let mut second = first.clone();
    first.cancel(Millis(3000)).unwrap();
    s.save(&mut first).await.unwrap();
    second.fail(Millis(3000), "x".into()).unwrap();
    assert!(matches!(
        fx.other.save(&mut second).await,
        Err(SaveError::Conflict)
    ));
    assert_eq!(
        s.get(&a.id).await.unwrap().unwrap().state(),
        JobState::Cancelled
    );
    let counts = s.count_by_state().await.unwrap();
    let n = |st: JobState| counts.iter().find(|(s, _)| *s == st).unwrap().1;
    assert_eq!((n(JobState::Cancelled), n(JobState::Queued)), (1, 0));
    assert!(s
        .due_jobs(Millis(i64::MAX / 2), 10)
        .await
        .unwrap()
        .is_empty());
}

async fn a_job_that_breaks_a_rule_is_refused_by_every_write(fx: Fx) {
    let s = &fx.store;
    let a = job("t1", "e1");
    s.enqueue(&a).await.unwrap();
    let mut a = started(s.get(&a.id).await.unwrap().unwrap(), T0);
    s.save(&mut a).await.unwrap();
    let mut broken = a.clone();
    broken.session = None;
    let err = s.save(&mut broken).await.unwrap_err();
    assert!(
        matches!(&err, SaveError::Store(StoreError::Invalid(b)) if b.rule == Rule::SessionFromSessionCreated),
        "{err:?}"
    );
    assert!(s.get(&a.id).await.unwrap().unwrap().session.is_some());
    broken.id = crate::ids::JobId::new();
    assert!(matches!(
        s.insert_bulk(std::slice::from_ref(&broken)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.enqueue(&broken).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.get(&broken.id).await.unwrap().map(|j| j.id), None);
}

async fn lists_page_newest_first_and_filter(fx: Fx) {
    let s = &fx.store;
    let mut ids = vec![];
    for i in 0..5 {
        let j = job(&format!("t{i}"), &format!("e{i}"));
        ids.push(j.id);
        s.enqueue(&j).await.unwrap();
    }
    let all = JobFilter::default();
    let (page, next) = s.list(&all, None, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[4], ids[3]]
    );
    let (page, next) = s.list(&all, next, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );
    let (page, next) = s.list(&all, next, 2).await.unwrap();
    assert_eq!((page.len(), next), (1, None));
    let by_number = JobFilter {
        ticket: Some("N-t3".into()),
        ..Default::default()
    };
    assert_eq!(s.list(&by_number, None, 10).await.unwrap().0[0].id, ids[3]);
    let by_ticket = JobFilter {
        connection: Some("c".into()),
        ticket: Some("t1".into()),
        state: Some(JobState::Queued),
    };
    assert_eq!(s.list(&by_ticket, None, 10).await.unwrap().0.len(), 1);
}
