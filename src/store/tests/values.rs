//! The store suite's cases about named values, named locks and retention (see `mod.rs`).

use super::{job, started, Fx};
use crate::clock::Millis;
use crate::job::{ArtifactRecord, Attached, Job, JobState, Outcome};
use crate::store::{Enqueued, Purged, Store};

pub(super) async fn values_swap_take_and_scan_atomically(fx: Fx) {
    let (s, o) = (&fx.store, &fx.other);
    assert!(s.kv_compare_and_swap("k", None, b"one").await.unwrap());
    assert!(!o.kv_compare_and_swap("k", None, b"two").await.unwrap());
    assert!(o
        .kv_compare_and_swap("k", Some(b"one"), b"two")
        .await
        .unwrap());
    assert!(!s
        .kv_compare_and_swap("k", Some(b"one"), b"three")
        .await
        .unwrap());
    assert_eq!(s.kv_get("k").await.unwrap().as_deref(), Some(&b"two"[..]));
    s.kv_put("oauth/state/b", b"2").await.unwrap();
    s.kv_put("oauth/state/a", b"1").await.unwrap();
    s.kv_put("oauth/statex", b"3").await.unwrap();
    let keys: Vec<String> = o
        .kv_scan("oauth/state/")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["oauth/state/a", "oauth/state/b"]);
    let (x, y) = tokio::join!(s.kv_take("oauth/state/a"), o.kv_take("oauth/state/a"));
    let taken: Vec<_> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken, vec![b"1".to_vec()], "taken once");
}

pub(super) async fn a_named_lock_has_one_holder_across_handles(fx: Fx) {
    let held = fx.store.lock("vendor/x/tokens").await.unwrap();
    let wait = std::time::Duration::from_millis(300);
    assert!(
        tokio::time::timeout(wait, fx.other.lock("vendor/x/tokens"))
            .await
            .is_err(),
        "held through the other handle"
    );
    let other_key = tokio::time::timeout(wait, fx.other.lock("vendor/y/tokens")).await;
    assert!(other_key.is_ok(), "another name is free");
    drop(other_key);
    drop(held);
    let again = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        fx.other.lock("vendor/x/tokens"),
    );
    assert!(again.await.is_ok(), "free once dropped");
}

/// A done job with its four artifacts attached and kept in the store, last changed at `at`.
async fn finished(s: &Store, ticket: &str, at: Millis) -> Job {
    let mut j = started(job(ticket, &format!("ev-{ticket}")), at);
    for _ in 0..2 {
        j.apply(Outcome::Done("ok".into()), at).unwrap();
    }
    let attached = Attached {
        connection: j.connection.clone(),
        ticket: j.ticket.clone(),
        remote_id: None,
        at,
        found_existing: false,
    };
    for name in ["log.csv", "manifest.json"] {
        let bytes = vec![b'x'; 64 * 1024];
        s.put_artifact(&j.id, name, &bytes).await.unwrap();
        j.artifacts.push(ArtifactRecord {
            name: name.into(),
            size: bytes.len() as u64,
            sha256: crate::artifacts::sha256_hex(&bytes),
            attached: Some(attached.clone()),
        });
    }
    j.collected_at = Some(at);
    while j.state() != JobState::Done {
        j.apply(Outcome::Done("ok".into()), at).unwrap();
    }
    s.insert_bulk(std::slice::from_ref(&j)).await.unwrap();
    j
}

pub(super) async fn retention_deletes_old_finished_jobs_and_attached_artifacts(fx: Fx) {
    let s = &fx.store;
    let day = 86_400_000;
    let old = finished(s, "old", Millis(day)).await;
    let middle = finished(s, "middle", Millis(20 * day)).await;
    let recent = finished(s, "recent", Millis(40 * day)).await;
    let live = job("live", "e-live");
    s.enqueue(&live).await.unwrap();
    let total = |c: Vec<(JobState, usize)>| c.iter().map(|(_, n)| n).sum::<usize>();
    let before = total(s.count_by_state().await.unwrap());
    let purged = s.purge(Millis(10 * day), Millis(30 * day)).await.unwrap();
    assert_eq!(
        purged,
        Purged {
            jobs: 1,
            artifacts: 4
        }
    );
    assert!(s.get(&old.id).await.unwrap().is_none());
    assert!(s.attached_on_ticket("c", "old").await.unwrap().is_empty());
    assert!(s.get_artifact(&old.id, "log.csv").await.unwrap().is_none());
    let kept = s.get(&middle.id).await.unwrap().unwrap();
    assert_eq!(
        kept.artifacts.len(),
        2,
        "the job stays, its record of artifacts too"
    );
    assert!(s
        .get_artifact(&middle.id, "log.csv")
        .await
        .unwrap()
        .is_none());
    assert!(s
        .get_artifact(&recent.id, "log.csv")
        .await
        .unwrap()
        .is_some());
    assert!(s.get(&live.id).await.unwrap().is_some());
    // its delivery id is forgotten with it: the same id makes a new job now
    assert!(matches!(
        s.enqueue(&job("old", "ev-old")).await.unwrap(),
        Enqueued::Queued(_)
    ));
    let after = total(s.count_by_state().await.unwrap());
    assert_eq!((before, after), (4, 4), "one old job went, one new came");
    assert_eq!(
        s.purge(Millis(10 * day), Millis(30 * day)).await.unwrap(),
        Purged::default()
    );
}
