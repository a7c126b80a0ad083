//! Hostile and broken HTTP (issue 9): every refusal is the JSON envelope, whatever the path holds.

use crate::servicenow::*;
use serde_json::Value;

/// The status and the `error` object of an answer that must be the JSON envelope.
async fn envelope(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.text().await.unwrap();
    assert!(ct.starts_with("application/json"), "{status} {ct}: {text}");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, v["error"].clone())
}

#[tokio::test]
async fn path_parameters_that_are_not_utf8_get_the_json_envelope_naming_the_parameter() {
    let app = spawn_app().await;
    let c = &app.api.client;
    let cases = [
        (c.post(format!("{}/hooks/%FF", app.base)), "connection"),
        (c.get(format!("{}/api/v1/jobs/%FF", app.base)), "id"),
        (c.post(format!("{}/api/v1/jobs/%FF/retry", app.base)), "id"),
        (c.get(format!("{}/oauth/%FF/start", app.base)), "vendor"),
        (c.get(format!("{}/oauth/%FF/callback", app.base)), "vendor"),
    ];
    for (req, param) in cases {
        let r = req.bearer_auth(ADMIN_TOKEN).send().await.unwrap();
        let (status, e) = envelope(r).await;
        assert_eq!(status, 400, "{e}");
        assert_eq!(e["code"], "invalid_path", "{e}");
        assert_eq!(e["path"], param, "{e}");
        assert!(e["message"].as_str().unwrap().contains("UTF-8"), "{e}");
    }
    let r = c
        .get(format!("{}/oauth/splashtop/callback?state=%FF", app.base))
        .send()
        .await
        .unwrap();
    let (status, e) = envelope(r).await;
    assert!(status >= 400 && e["code"].is_string(), "{status} {e}");
}

/// deskbridge with these client-connection settings: the three deadlines and the cap.
async fn spawn_with_server_limits(deadline: &str, cap: Option<usize>) -> SnowApp {
    spawn_app_with(|c| {
        c.server.header_read_timeout = Some(deadline.into());
        c.server.body_read_timeout = Some(deadline.into());
        c.server.keep_alive_timeout = Some(deadline.into());
        c.server.max_connections = cap;
    })
    .await
}

/// A client that sends `sent` and then nothing, holding its connection open.
async fn stalled(base: &str, sent: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(sent.as_bytes()).await.unwrap();
    s
}

/// The three ways to stall: in the request line, in the headers, in the body; and not at all.
fn stalls() -> [&'static str; 4] {
    [
        "POST /hooks/sn",
        "POST /hooks/snow HTTP/1.1\r\nHost: x\r\nContent-Ty",
        "POST /hooks/snow HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"event_id\":",
        "",
    ]
}

/// Whether the server closed `s` (EOF or reset) within `secs`, reading whatever it answers.
async fn closed_within(s: &mut tokio::net::TcpStream, secs: u64) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 4096];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn at_the_connection_cap_the_longest_stalled_client_makes_room_for_a_webhook() {
    let app = spawn_with_server_limits("5m", Some(20)).await;
    let mut held = vec![];
    for i in 0..20 {
        held.push(stalled(&app.base, stalls()[i % 2]).await);
    }
    // Let the server take them all before the webhook arrives.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (_, body) = app.new_incident("Service Desk");
    let hook = tokio::time::timeout(std::time::Duration::from_secs(20), app.post_hook(&body));
    assert_eq!(hook.await.expect("answered at the cap").status(), 202);
    assert!(
        closed_within(&mut held[0], 5).await,
        "the first stalled client was closed to make room"
    );
}

#[tokio::test]
async fn stalled_and_idle_connections_are_closed_after_their_deadlines() {
    let app = spawn_with_server_limits("1s", None).await;
    for sent in stalls() {
        let mut s = stalled(&app.base, sent).await;
        assert!(closed_within(&mut s, 10).await, "still open: {sent:?}");
    }
    // An idle keep-alive connection after a complete answer.
    let mut s = stalled(
        &app.base,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
    )
    .await;
    assert!(
        closed_within(&mut s, 10).await,
        "idle keep-alive still open"
    );
}

/// The issue's own case: the real binary under a 256-descriptor limit (`ulimit -n 256`), 300
/// stalled clients, then a signed webhook and a probe.
#[tokio::test]
async fn under_a_256_descriptor_limit_300_stalled_clients_do_not_lock_out_webhooks() {
    let snow = deskbridge_sim::ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let splashtop = deskbridge_sim::SplashtopSim::start(SPLASHTOP_TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", crate::harness::child::free_port());
    let mut cfg = config(dir.path(), &snow.base_url(), &splashtop.base_url());
    cfg.server.listen = Some(listen.clone());
    let config = cfg.write(&dir.path().join("deskbridge.toml"));
    let _child = KillOnDrop(
        std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -n 256 && exec \"$0\" serve --config \"$1\"")
            .arg(env!("CARGO_BIN_EXE_deskbridge"))
            .arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://{listen}");
    // No connection reuse: the webhook and the probe each need a connection of their own.
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut ready = false;
    for _ in 0..400 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            ready = r.status() == 200;
            if ready {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(ready, "deskbridge did not start");
    let mut held = vec![];
    for i in 0..300 {
        held.push(stalled(&base, stalls()[i % 4]).await);
    }
    let sys_id = snow.add_incident(deskbridge_sim::SimIncident {
        number: "INC0000777".into(),
        assignment_group: "Service Desk".into(),
        ..Default::default()
    });
    let body = hook_body(&sys_id, "INC0000777", "Service Desk").to_string();
    let api = Api {
        base: base.clone(),
        client: client.clone(),
    };
    let hook = post_signed(&api, "snow", body.as_bytes()).await;
    let probe = client.get(format!("{base}/readyz")).send().await;
    assert_eq!(hook.status(), 202);
    assert_eq!(probe.map(|r| r.status().as_u16()).ok(), Some(200));
    drop(held);
}

/// A child process killed when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
