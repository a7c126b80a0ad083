//! Moving a store with `deskbridge store export` / `import`, as the README tells an admin to
//! move from sled to PostgreSQL: every job (live ones keep their place: repeated deliveries
//! and second clicks still find them), every stored artifact and every stored value arrive.

use deskbridge::clock::Millis;
use deskbridge::ids::{ConnectionId, EventId, TicketRef, VendorId};
use deskbridge::job::{Job, JobState, NewJob, Outcome};
use deskbridge::store::{Enqueued, Store};
use std::path::Path;
use std::process::Command;

fn job(ticket: &str, event: &str) -> Job {
    let n = NewJob {
        connection: ConnectionId::new("snow"),
        ticket: TicketRef::new(ticket),
        ticket_number: None,
        event_id: Some(EventId::new(event)),
        vendor: None,
        rule: None,
        hint: Default::default(),
    };
    Job::new(n, Millis(1_000))
}

/// A job half way: session created, waiting on the ticket.
fn started(mut j: Job) -> Job {
    j.vendor = Some(VendorId::new("st"));
    j.ticket_read = Some(Default::default());
    j.session = Some(deskbridge::remote::Session {
        id: "s1".into(),
        code: "123456789".into(),
        end_user_link: Some("https://x.example/s".into()),
        technician_link: None,
        seat: None,
        created_at: Millis(1_500),
        extra: serde_json::Value::Null,
    });
    j.apply(Outcome::Done("created".into()), Millis(2_000))
        .unwrap();
    j
}

/// Fill a store: a live job, a cancelled one with an artifact (listed in its record, which is
/// how an export finds it), two values.
async fn fill(store: &Store) -> (Job, Job) {
    let live = started(job("incident/live", "e-live"));
    let mut old = job("incident/old", "e-old");
    old.cancel(Millis(3_000)).unwrap();
    let bytes = b"a,b\n1,2\n";
    old.artifacts.push(deskbridge::job::ArtifactRecord {
        name: "session-1-log.csv".into(),
        size: bytes.len() as u64,
        sha256: deskbridge::artifacts::sha256_hex(bytes),
        attached: None,
    });
    store
        .insert_bulk(&[live.clone(), old.clone()])
        .await
        .unwrap();
    store
        .put_artifact(&old.id, "session-1-log.csv", b"a,b\n1,2\n")
        .await
        .unwrap();
    store.kv_put("splashtop/st/team_id/x", b"42").await.unwrap();
    store
        .kv_put("sunlogin/v/tokens/y", &[0, 159, 146, 150])
        .await
        .unwrap();
    (live, old)
}

fn deskbridge(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "deskbridge {args:?}: {text}");
    text
}

fn config(dir: &Path, name: &str, extra: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    let data = dir.join(format!("{name}-data"));
    std::fs::write(
        &path,
        format!(
            "[server]\ndata_dir = {:?}\n{extra}",
            data.display().to_string()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// Export the sled store `from`, import into the store of config `to`, check `store` (open on it).
async fn moved(dir: &Path, to: &str, open: impl std::future::Future<Output = Store>) {
    let from = config(dir, "sled", "");
    let (live, old) = {
        let store = Store::open_sled(&dir.join("sled-data")).unwrap();
        let filled = fill(&store).await;
        store.flush_blocking().unwrap();
        filled
    };
    let dump = dir.join("dump.jsonl");
    let said = deskbridge(&[
        "store",
        "export",
        "--config",
        &from,
        "--output",
        dump.to_str().unwrap(),
    ]);
    assert!(
        said.contains("exported 2 jobs, 1 artifacts, 2 stored values"),
        "{said}"
    );
    let said = deskbridge(&[
        "store",
        "import",
        "--config",
        to,
        "--input",
        dump.to_str().unwrap(),
    ]);
    assert!(
        said.contains("imported 2 jobs, 1 artifacts, 2 stored values"),
        "{said}"
    );

    let store = open.await;
    let got = store.get(&live.id).await.unwrap().unwrap();
    assert_eq!(
        (got.state(), got.history().len()),
        (JobState::SessionCreated, live.history().len())
    );
    assert_eq!(
        store.get(&old.id).await.unwrap().unwrap().state(),
        JobState::Cancelled
    );
    let bytes = store
        .get_artifact(&old.id, "session-1-log.csv")
        .await
        .unwrap();
    assert_eq!(bytes.as_deref(), Some(&b"a,b\n1,2\n"[..]));
    let value = store.kv_get("sunlogin/v/tokens/y").await.unwrap();
    assert_eq!(value.as_deref(), Some(&[0, 159, 146, 150][..]));
    assert_eq!(
        store
            .enqueue(&job("incident/live", "e-live"))
            .await
            .unwrap(),
        Enqueued::Duplicate(live.id)
    );
    assert_eq!(
        store.enqueue(&job("incident/live", "e-new")).await.unwrap(),
        Enqueued::Existing(live.id)
    );
    assert_eq!(
        store.due_jobs(Millis(10_000), 10).await.unwrap(),
        vec![live.id]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_store_moves_to_another_sled_store() {
    let dir = tempfile::tempdir().unwrap();
    let to = config(dir.path(), "copy", "");
    let data = dir.path().join("copy-data");
    moved(
        dir.path(),
        &to,
        async move { Store::open_sled(&data).unwrap() },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL; run: cargo test -- --ignored"]
async fn a_sled_store_moves_to_postgres() {
    let pg =
        deskbridge::store::postgres::scratch::Scratch::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.database().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit.pem");
    std::fs::write(&key, deskbridge::audit::AuditKey::generate().to_pem()).unwrap();
    let extra = format!(
        "audit_key = \"file:{}\"\n[store]\nkind = \"postgres\"\nurl = \"{url}\"\n",
        key.display()
    );
    let to = config(dir.path(), "pg", &extra);
    let open = async move { Store::open_postgres(&url, 4).await.unwrap() };
    moved(dir.path(), &to, open).await;
}
