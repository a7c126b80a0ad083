//! Hostile and broken HTTP (issue 9): every refusal is the JSON envelope, whatever the path holds.

use crate::helpers::*;
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
    let c = &app.client;
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
