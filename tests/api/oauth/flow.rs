//! The admin's browser flow and its `state` check, refresh before expiry and after a refusal,
//! and the warnings when the refresh token nears its end.

use super::*;

fn query(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn the_admin_authorises_splashtop_in_the_browser_and_jobs_then_use_the_oauth_token() {
    let app = spawn_oauth().await;
    let r = app
        .browser
        .get(format!("{}/oauth/splashtop/start", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "starting needs the admin token");
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"),
        "so a browser asks for it"
    );
    let r = app
        .browser
        .get(format!("{}/oauth/splashtop/start", app.base))
        .basic_auth("admin", Some(AUDITOR_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let st = app.admin_get("/api/v1/status").await;
    assert_eq!(
        st["vendors"][0]["credentials"]["state"], "not_authorised",
        "{st}"
    );

    let authorize = app.start().await;
    assert!(
        authorize.starts_with(&format!("{}/oauth2/authorize?", app.splashtop.portal_url())),
        "{authorize}"
    );
    assert_eq!(query(&authorize, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(query(&authorize, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query(&authorize, "scope").as_deref(),
        Some("users,psa,logs")
    );
    assert_eq!(
        query(&authorize, "redirect_uri"),
        Some(format!("{}/oauth/splashtop/callback", app.base))
    );
    assert_eq!(query(&authorize, "state").unwrap().len(), 64);
    assert!(!authorize.contains(CLIENT_SECRET));

    let callback = app.approve(&authorize).await;
    let v: Value = app
        .browser
        .get(&callback)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "authorised", "{v}");
    assert_eq!(app.splashtop.oauth_counts().codes_exchanged, 1);
    let st = app.admin_get("/api/v1/status").await;
    assert_eq!(st["vendors"][0]["credentials"]["state"], "ok", "{st}");
    assert!(st["warnings"].as_array().unwrap().is_empty());

    let id = app.click().await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    let code = job["session"]["code"].as_str().unwrap();
    assert!(app.splashtop.end_session(code, SessionEnd::sample(1, 0, 0)));
    app.wait_for_state(&id, "done", 15).await;
}

#[tokio::test]
async fn an_oauth_callback_with_a_wrong_missing_or_reused_state_is_refused() {
    let app = spawn_oauth().await;
    let id = app.click().await;
    let failed = app.wait_for_state(&id, "failed", 10).await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("/oauth/splashtop/start"),
        "{failed}"
    );

    let callback = app.approve(&app.start().await).await;
    let code = query(&callback, "code").unwrap();
    let cb = |q: String| format!("{}/oauth/splashtop/callback?{q}", app.base);
    let r = app
        .browser
        .get(cb(format!("code={code}&state={}", "ab".repeat(32))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "invalid_state");
    let r = app
        .browser
        .get(cb(format!("code={code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "state");
    assert_eq!(
        app.splashtop.oauth_counts().codes_exchanged,
        0,
        "a refused callback never uses the code"
    );

    assert_eq!(
        app.browser.get(&callback).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        app.browser.get(&callback).send().await.unwrap().status(),
        403,
        "a state works once"
    );
    assert_eq!(app.splashtop.oauth_counts().codes_exchanged, 1);
    let r = app
        .browser
        .get(format!("{}/oauth/nosuch/start", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_access_token_is_refreshed_before_it_expires_and_once_when_refused() {
    let app = spawn_oauth().await;
    // A first access token living a minute, which the simulator (on real time) takes all along;
    // deskbridge sees it near its end when the test moves the service's clock.
    let life = Duration::from_secs(60);
    app.splashtop
        .set_oauth_ttls(life, Duration::from_secs(30 * 86_400));
    app.authorise().await;
    app.splashtop.set_oauth_ttls(
        Duration::from_secs(86_400),
        Duration::from_secs(30 * 86_400),
    );
    let id = app.click().await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    app.clock.advance(life * 4 / 5);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.splashtop.oauth_counts().refreshed < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no refresh: {:?}",
            app.splashtop.oauth_counts()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // the job goes on polling with the new token
    app.wait_for_polls(&app.polls(&[&id]).await, 2).await;
    assert_eq!(
        app.splashtop.oauth_counts().refreshed,
        1,
        "refreshed before expiry, once"
    );

    app.splashtop.faults().push(Fault::new(
        "/psa/support_sessions/",
        FaultAction::status(401),
    ));
    while app.splashtop.oauth_counts().refreshed < 2 {
        assert!(
            tokio::time::Instant::now() < deadline + Duration::from_secs(5),
            "a refused token was not renewed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let code = app.session_code(&id).await;
    app.splashtop
        .end_session(&code, SessionEnd::sample(1, 0, 0));
    let job = app.wait_for_state(&id, "done", 15).await;
    assert!(
        job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["error"].is_null()),
        "the refusal cost no step: {job}"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"deskbridge_token_renewals_total{vendor="splashtop",via="refresh"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_refresh_token_near_its_end_is_reported_days_ahead_while_readyz_stays_up() {
    let app = spawn_oauth().await;
    app.splashtop
        .set_oauth_ttls(Duration::from_secs(86_400), Duration::from_secs(3 * 86_400));
    app.authorise().await;
    let st = app.admin_get("/api/v1/status").await;
    let cred = &st["vendors"][0]["credentials"];
    assert_eq!(cred["state"], "refresh_token_expiring", "{st}");
    let warning = st["warnings"][0]["message"].as_str().unwrap();
    let days_ahead = warning.contains("refresh token expires in 3 days (")
        || warning.contains("refresh token expires in 2 days 23 hours (");
    assert!(
        days_ahead && warning.contains("/oauth/splashtop/start"),
        "{warning}"
    );
    let metrics = app.metrics().await;
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with(
                r#"deskbridge_vendor_refresh_token_expires_in_seconds{vendor="splashtop"}"#,
            )
        })
        .expect(&metrics);
    let secs: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        (3.0 * 86_400.0 - 60.0..=3.0 * 86_400.0).contains(&secs),
        "{line}"
    );
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn a_revoked_grant_fails_jobs_until_an_admin_authorises_again_without_a_restart() {
    let app = spawn_oauth().await;
    app.authorise().await;
    app.splashtop.revoke_oauth();
    let id = app.click().await;
    let job = app.wait_for_state(&id, "failed", 10).await;
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("authorise again at /oauth/splashtop/start"),
        "{error}"
    );
    let st = app.admin_get("/api/v1/status").await;
    assert_eq!(
        st["vendors"][0]["credentials"]["state"], "reauthorise",
        "{st}"
    );

    // The admin authorises again: no restart, the warning goes, the failed job can be retried.
    app.authorise().await;
    let st = app.admin_get("/api/v1/status").await;
    assert_eq!(st["vendors"][0]["credentials"]["state"], "ok", "{st}");
    let r = app.admin_post(&format!("/api/v1/jobs/{id}/retry")).await;
    assert_eq!(r.status(), 200);
    app.wait_for_state(&id, "waiting_for_end", 10).await;
}
