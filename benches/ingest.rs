//! Benchmark (not a timed test): `cargo bench --bench ingest`.
//!
//! 1. Durable webhook ingest — a signed ServiceNow call → verify → parse → rules → store
//!    transaction → durable → 202 — at 1, 16 and 64 concurrent connections, side by side in the
//!    same run with a bare axum handler that answers 202 without storing (the ceiling): on sled,
//!    and on PostgreSQL (a throw-away cluster with fsync on, started by the benchmark from the
//!    distribution's binaries) behind one replica and behind two replicas sharing the database,
//!    the load split between them. Throughput and p50/p99 latency for each.
//! 2. The real binary's RSS at idle, and with 100 000 stored jobs.
//! 3. Time from start to `/readyz` 200 with 100 000 stored jobs.
//!
//! Server and load generator share the machine (2 cores here), for both the ceiling and the
//! durable path alike. Everything runs on 127.0.0.1. Results go to stdout as Markdown; copy them
//! into BENCHMARKS.md. `BENCH_SECONDS` (default 5) sets each run's length; `BENCH_PART=ingest`
//! or `memory` runs one half, `BENCH_CONNS=64` one concurrency. Without PostgreSQL installed the
//! PostgreSQL columns say so and the rest runs.

use axum::routing::post;

use deskbridge::clock::Millis;
use deskbridge::config::load_str;
use deskbridge::http::{router, AppState};
use deskbridge::job::{ArtifactRecord, Attached, Job, JobState, NewJob, Outcome};
use deskbridge::runtime::{Current, Runtime, Shared};
use deskbridge::store::postgres::scratch::Scratch;
use deskbridge_sim::servicenow::sign_ui_action;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-hook-secret";

fn config(dir: &std::path::Path) -> String {
    format!(
        r#"
[server]
data_dir = "{}"
max_body_bytes = 65536
# (a [store] table may follow: see `with_store`)
[[itsm]]
id = "snow"
kind = "servicenow"
base_url = "http://127.0.0.1:9"
auth = {{ type = "basic", username = "u", password = "p" }}
inbound = {{ type = "hmac", secret = "{SECRET}" }}
[[vendor]]
id = "st"
kind = "splashtop"
base_url = "http://127.0.0.1:9"
auth = {{ type = "bearer", token = "t" }}
[[rule]]
name = "all"
connection = "snow"
match = {{ queue = ["Service Desk"] }}
vendor = "st"
"#,
        dir.join("data").display()
    )
}

/// The configuration on PostgreSQL at `url` (with the audit key every replica shares).
fn with_store(dir: &std::path::Path, url: &str) -> String {
    let key = dir.join("audit-key.pem");
    if !key.exists() {
        std::fs::write(&key, deskbridge::audit::AuditKey::generate().to_pem()).unwrap();
    }
    config(dir).replace(
        "# (a [store] table may follow: see `with_store`)",
        &format!(
            "audit_key = \"file:{}\"\n[store]\nkind = \"postgres\"\nurl = \"{url}\"\nmax_connections = 32",
            key.display()
        ),
    )
}

/// The durable ingest path exactly as `serve` wires it, without the worker loop (so the
/// numbers are ingest alone; the worker is measured by the flow tests' behaviour, not here).
async fn durable_server(text: String) -> String {
    let cfg = load_str(&text, "<bench>").unwrap();
    std::fs::create_dir_all(&cfg.server.data_dir).unwrap();
    let store = deskbridge::store::Store::open(&cfg.store, &cfg.server.data_dir)
        .await
        .unwrap();
    let audit = Arc::new(deskbridge::audit::AuditKey::from_config(&cfg.server).unwrap());
    let shared = Shared {
        store,
        metrics: Default::default(),
        audit,
        clock: deskbridge::clock::Clock::system(),
    };
    let current = Current::new(Runtime::build(cfg, &shared).unwrap());
    let worker = deskbridge::worker::Worker::new(current.clone(), shared.clone());
    let state = AppState {
        current,
        shared,
        worker,
        accepting: Arc::new(AtomicBool::new(true)),
        reload: Arc::new(|| Err("no".into())),
    };
    serve(router(state)).await
}

async fn ceiling_server() -> String {
    let app = axum::Router::new().route(
        "/hooks/{connection}",
        post(|body: axum::body::Bytes| async move {
            let _ = body.len();
            (
                axum::http::StatusCode::ACCEPTED,
                axum::Json(serde_json::json!({"job_id": uuid::Uuid::now_v7(), "status": "queued"})),
            )
        }),
    );
    serve(app).await
}

async fn serve(app: axum::Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/hooks/snow")
}

fn body(n: u64) -> Vec<u8> {
    let sys_id = format!("{:032x}", (n as u128) << 32 | rand::random::<u32>() as u128);
    serde_json::json!({
        "event_id": uuid::Uuid::new_v4().to_string(), "table": "incident", "sys_id": sys_id,
        "number": format!("INC{n:07}"), "assignment_group": {"value": "8a4d", "display_value": "Service Desk"},
        "priority": "3", "category": "software", "short_description": "Outlook crashes",
        "caller": {"name": "Jane Doe", "email": "jane@acme.example"},
        "requested_by": {"user_name": "beth.anglin", "email": "beth@acme.example"}
    })
    .to_string()
    .into_bytes()
}

struct Run {
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
}

/// `conns` clients, each with its own keep-alive connection, sending for `secs`; client `i`
/// sends to `urls[i % urls.len()]` (two replicas share the load evenly).
async fn load(urls: &[String], conns: usize, secs: u64) -> Run {
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = vec![];
    for i in 0..conns {
        let url = urls[i % urls.len()].clone();
        let (counter, errors) = (counter.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut lat = Vec::with_capacity(4096);
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let b = body(n);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let mut req = client.post(&url).header("content-type", "application/json");
                for (k, v) in sign_ui_action(SECRET, &b, now) {
                    req = req.header(k, v);
                }
                let started = Instant::now();
                match req.body(b).send().await {
                    Ok(r) if r.status() == 202 => {
                        let _ = r.bytes().await;
                        lat.push(started.elapsed());
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    let started = Instant::now();
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let took = started.elapsed().as_secs_f64().max(secs as f64);
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Run {
        rps: all.len() as f64 / took,
        p50: pct(0.50),
        p99: pct(0.99),
        errors: errors.load(Ordering::Relaxed),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// A finished job as a real one looks: full history, four artifacts attached, made by the
/// state machine the way the worker makes it.
fn finished_job(i: u64) -> Job {
    let now = Millis::now();
    let mut job = Job::new(
        NewJob {
            connection: deskbridge::ids::ConnectionId::new("snow"),
            ticket: deskbridge::ids::TicketRef::new(format!("incident/{i:032x}")),
            ticket_number: Some(format!("INC{i:07}")),
            event_id: Some(deskbridge::ids::EventId::new(
                uuid::Uuid::new_v4().to_string(),
            )),
            vendor: Some(deskbridge::ids::VendorId::new("st")),
            rule: Some("all".into()),
            hint: Default::default(),
        },
        now,
    );
    job.ticket_read = Some(Default::default());
    job.session = Some(deskbridge::remote::Session {
        id: format!("{i}"),
        code: "123456789".into(),
        end_user_link: Some("https://my.splashtop.com/sos/123456789".into()),
        technician_link: None,
        seat: None,
        created_at: now,
        extra: serde_json::Value::Null,
    });
    while job.state() != JobState::Done {
        if job.state() == JobState::Collecting {
            let at = Attached {
                connection: job.connection.clone(),
                ticket: job.ticket.clone(),
                remote_id: Some(format!("att-{i}")),
                at: now,
                found_existing: false,
            };
            for name in ["log.csv", "file-transfers.csv", "chat.txt", "manifest.json"] {
                job.artifacts.push(ArtifactRecord {
                    name: format!("session-123456789-{name}"),
                    size: 1234,
                    sha256: "ab".repeat(32),
                    attached: Some(at.clone()),
                });
            }
            job.collected_at = Some(now);
        }
        job.apply(Outcome::Done("ok".into()), now)
            .expect("the happy path");
    }
    job
}

/// Start the release binary on `dir` and return (child, time to /readyz 200).
async fn start_binary(dir: &std::path::Path) -> (std::process::Child, Duration, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = config(dir).replace(
        "[server]",
        &format!("[server]\nlisten = \"127.0.0.1:{port}\""),
    );
    let path = dir.join("bench.toml");
    std::fs::write(&path, text).unwrap();
    let started = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_deskbridge"))
        .args(["serve", "--config"])
        .arg(&path)
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                return (child, started.elapsed(), base);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not ready after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") || std::env::args().any(|a| a == "--test") {
        return; // `cargo test --benches` probes bench targets; nothing to list
    }
    let secs: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    // BENCH_PART=ingest or memory runs one half (for profiling); default both.
    let part = std::env::var("BENCH_PART").unwrap_or_default();
    if part != "memory" {
        ingest(secs).await;
    }
    if part != "ingest" {
        memory().await;
    }
}

/// The servers measured side by side: the ceiling, sled, and PostgreSQL with one and two
/// replicas (None when PostgreSQL is not installed).
struct Servers {
    ceiling: Vec<String>,
    sled: Vec<String>,
    pg_one: Option<Vec<String>>,
    pg_two: Option<Vec<String>>,
}

async fn servers(dir: &std::path::Path) -> (Servers, Option<Scratch>) {
    let ceiling = vec![ceiling_server().await];
    let sled = vec![durable_server(config(&dir.join("sled"))).await];
    let pg = match Scratch::start_durable() {
        Ok(pg) => pg,
        Err(e) => {
            eprintln!("PostgreSQL columns skipped: {e}");
            let s = Servers {
                ceiling,
                sled,
                pg_one: None,
                pg_two: None,
            };
            return (s, None);
        }
    };
    let pg_server = |name: &'static str, url: String| {
        let d = dir.join(name);
        async move { durable_server(with_store(&d, &url)).await }
    };
    let one_db = pg.database().await.unwrap();
    let two_db = pg.database().await.unwrap();
    let pg_one = vec![pg_server("pg1", one_db).await];
    let pg_two = vec![
        pg_server("pg2a", two_db.clone()).await,
        pg_server("pg2b", two_db).await,
    ];
    let s = Servers {
        ceiling,
        sled,
        pg_one: Some(pg_one),
        pg_two: Some(pg_two),
    };
    (s, Some(pg))
}

fn cells(r: Option<&Run>) -> String {
    match r {
        Some(r) => format!("{:.0} | {} | {}", r.rps, ms(r.p50), ms(r.p99)),
        None => "n/a | n/a | n/a".into(),
    }
}

async fn ingest(secs: u64) {
    println!(
        "## Webhook ingest ({secs} s per run, {} cores)\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!("| connections | ceiling req/s | p50 ms | p99 ms | sled req/s | p50 ms | p99 ms | PostgreSQL, 1 replica req/s | p50 ms | p99 ms | PostgreSQL, 2 replicas req/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    for d in ["sled", "pg1", "pg2a", "pg2b"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let (s, _pg) = servers(dir.path()).await;
    let only: Option<usize> = std::env::var("BENCH_CONNS")
        .ok()
        .and_then(|s| s.parse().ok());
    for conns in [1, 16, 64]
        .into_iter()
        .filter(|c| only.is_none_or(|o| o == *c))
    {
        let c = load(&s.ceiling, conns, secs).await;
        let d = load(&s.sled, conns, secs).await;
        let p1 = match &s.pg_one {
            Some(u) => Some(load(u, conns, secs).await),
            None => None,
        };
        let p2 = match &s.pg_two {
            Some(u) => Some(load(u, conns, secs).await),
            None => None,
        };
        let errors = c.errors
            + d.errors
            + p1.as_ref().map_or(0, |r| r.errors)
            + p2.as_ref().map_or(0, |r| r.errors);
        println!(
            "| {conns} | {} | {} | {} | {} | {errors} |",
            cells(Some(&c)),
            cells(Some(&d)),
            cells(p1.as_ref()),
            cells(p2.as_ref()),
        );
    }
}

async fn memory() {
    println!("\n## Memory and start-up (release binary)\n");
    let idle_dir = tempfile::tempdir().unwrap();
    let (mut child, ready_empty, _) = start_binary(idle_dir.path()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(child.id());
    child.kill().unwrap();
    child.wait().unwrap();

    let big = tempfile::tempdir().unwrap();
    {
        let data = big.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let store = deskbridge::store::Store::open_sled(&data).unwrap();
        let started = Instant::now();
        for chunk in 0..100u64 {
            let jobs: Vec<Job> = (0..1000).map(|i| finished_job(chunk * 1000 + i)).collect();
            store.insert_bulk(&jobs).await.unwrap();
        }
        store.flush_blocking().unwrap();
        println!(
            "(100 000 finished jobs written in {:.1} s, store {} MiB on disk)\n",
            started.elapsed().as_secs_f64(),
            store.size_bytes().await / (1 << 20)
        );
    }
    let (mut child, ready_big, base) = start_binary(big.path()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let loaded = rss_kib(child.id());
    // what an admin does first: the newest jobs and the counts
    let client = reqwest::Client::new();
    let _ = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await;
    let after_scrape = rss_kib(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    println!("| measure | value | target |");
    println!("|---|---|---|");
    println!(
        "| RSS at idle (empty store) | {:.1} MiB | ≤ 100 MiB |",
        idle as f64 / 1024.0
    );
    println!(
        "| RSS with 100 000 stored jobs, idle | {:.1} MiB | ≤ 100 MiB |",
        loaded as f64 / 1024.0
    );
    println!(
        "| RSS with 100 000 stored jobs, after a /metrics scrape | {:.1} MiB | ≤ 100 MiB |",
        after_scrape as f64 / 1024.0
    );
    println!("| time to ready, empty store | {} ms | |", ms(ready_empty));
    println!(
        "| time to ready, 100 000 stored jobs | {} ms | ≤ 1000 ms |",
        ms(ready_big)
    );
}
