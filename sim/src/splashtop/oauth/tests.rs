//! The Splashtop simulator's OAuth endpoints over real HTTP.

use super::*;

const REDIRECT: &str = "http://127.0.0.1:9/oauth/st/callback";

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sim() -> SplashtopSim {
    let sim = SplashtopSim::start("api-token").await;
    sim.register_oauth_client("cid", "csecret", REDIRECT);
    sim
}

fn authorize_url(sim: &SplashtopSim, client: &str, redirect: &str) -> String {
    let mut u = url::Url::parse(&format!("{}/oauth2/authorize", sim.portal_url())).unwrap();
    u.query_pairs_mut().extend_pairs([
        ("client_id", client),
        ("scope", "users,psa"),
        ("response_type", "code"),
        ("state", "xyz"),
        ("redirect_uri", redirect),
    ]);
    u.to_string()
}

fn param(location: &str, key: &str) -> Option<String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn code(sim: &SplashtopSim) -> String {
    let r = browser()
        .get(authorize_url(sim, "cid", REDIRECT))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with(REDIRECT));
    assert_eq!(
        param(&loc, "state").as_deref(),
        Some("xyz"),
        "the state comes back untouched"
    );
    param(&loc, "code").unwrap()
}

async fn token(sim: &SplashtopSim, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/oauth2/token", sim.portal_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_authorize_page_sends_a_code_back_only_to_the_registered_redirect_uri() {
    let sim = sim().await;
    code(&sim).await;
    let r = browser()
        .get(authorize_url(&sim, "cid", "https://evil.example/cb"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "never redirected to an unregistered URI");
    let r = browser()
        .get(authorize_url(&sim, "nobody", REDIRECT))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    sim.set_oauth_consent(false);
    let r = browser()
        .get(authorize_url(&sim, "cid", REDIRECT))
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(param(&loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&loc, "code"), None);
}

#[tokio::test]
async fn a_code_is_exchanged_only_with_the_state_it_was_issued_with() {
    let sim = sim().await;
    for state in [None, Some("other")] {
        let c = code(&sim).await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", c.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
        ];
        form.extend(state.map(|s| ("state", s)));
        let (s, v) = token(&sim, &form).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "{state:?}"
        );
    }
    let c = code(&sim).await;
    let (s, v) = token(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", c.as_str()),
            ("state", "xyz"),
            ("redirect_uri", REDIRECT),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn a_code_works_once_and_its_tokens_open_the_api_until_they_expire_or_are_revoked() {
    let sim = sim().await;
    let c = code(&sim).await;
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", c.as_str()),
        ("state", "xyz"),
        ("redirect_uri", REDIRECT),
        ("client_id", "cid"),
    ];
    let (s, v) = token(
        &sim,
        &[grant.as_slice(), &[("client_secret", "wrong")]].concat(),
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    let (s, v) = token(
        &sim,
        &[grant.as_slice(), &[("client_secret", "csecret")]].concat(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["expires_in"].as_i64(), v["token_type"].as_str()),
        (Some(86_400), Some("Bearer"))
    );
    let (s, again) = token(
        &sim,
        &[grant.as_slice(), &[("client_secret", "csecret")]].concat(),
    )
    .await;
    assert_eq!(
        (s, again["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code is single use"
    );

    let api = format!("{}/api/open/v1/users/basic_info", sim.base_url());
    let access = v["access_token"].as_str().unwrap();
    assert_eq!(
        reqwest::Client::new()
            .get(&api)
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let refresh = v["refresh_token"].as_str().unwrap();
    let (s, r) = token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        r["refresh_token"], refresh,
        "not rotated: it keeps its own end"
    );
    assert!(r["refresh_token_expires_in"].as_i64().unwrap() <= 30 * 86_400);
    sim.revoke_oauth();
    assert_eq!(
        reqwest::Client::new()
            .get(&api)
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let (s, _) = token(
        &sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        sim.oauth_counts(),
        OAuthCounts {
            codes_exchanged: 1,
            refreshed: 1,
            refused: 3
        }
    );
}
