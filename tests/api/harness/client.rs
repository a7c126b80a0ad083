//! Talking to a running deskbridge, in process or as a child: the admin and auditor API, the
//! webhook route, and waits on a job. Waits poll in real time with a bound and panic with the
//! last thing seen, so a test that hangs says where.

use super::config::{ADMIN_TOKEN, AUDITOR_TOKEN};
use serde_json::Value;
use std::time::Duration;

/// Where deskbridge listens, and the client the test talks to it with.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

/// The status and the `error` object of an error answer.
pub async fn error_of(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    (s, r.json::<Value>().await.unwrap()["error"].clone())
}

/// The job id of a webhook's answer.
pub async fn job_id_of(r: reqwest::Response) -> String {
    r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .expect("a job id in the answer")
        .to_string()
}

impl Api {
    pub fn new(base: String) -> Api {
        Api {
            base,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET without a token (probes, metrics, the public key).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// GET with `token`, whatever the answer.
    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// GET as the admin; the answer must be a success.
    pub async fn admin_get(&self, path: &str) -> Value {
        let r = self.get_as(ADMIN_TOKEN, path).await;
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// GET as the auditor, whatever the answer.
    pub async fn auditor_get(&self, path: &str) -> reqwest::Response {
        self.get_as(AUDITOR_TOKEN, path).await
    }

    pub async fn admin_post(&self, path: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
    }

    /// `/metrics` as text.
    pub async fn metrics(&self) -> String {
        self.get("/metrics").await.text().await.unwrap()
    }

    /// POST `body` to `/hooks/{conn}` with `headers` (JSON unless they say otherwise).
    pub async fn hook(
        &self,
        conn: &str,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(&format!("/hooks/{conn}")))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    pub async fn job(&self, id: &str) -> Value {
        self.admin_get(&format!("/api/v1/jobs/{id}")).await
    }

    /// The jobs `query` lists (`""` for all, `"?connection=zd"`, ...).
    pub async fn jobs(&self, query: &str) -> Vec<Value> {
        self.admin_get(&format!("/api/v1/jobs{query}")).await["jobs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The session code of the job's session.
    pub async fn session_code(&self, id: &str) -> String {
        self.job(id).await["session"]["code"]
            .as_str()
            .expect("the job has a session")
            .to_string()
    }

    /// Wait until the job is in `state` (panics with the job after `secs`).
    pub async fn wait_for_state(&self, id: &str, state: &str, secs: u64) -> Value {
        let what = format!("state {state}");
        self.wait_until(id, &what, secs, |j| j["state"] == state)
            .await
    }

    /// Wait until `ok` holds of the job (panics with the job after `secs`).
    pub async fn wait_until(
        &self,
        id: &str,
        what: &str,
        secs: u64,
        ok: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut last = Value::Null;
        while tokio::time::Instant::now() < deadline {
            // A child process may be restarting: a refused connection is not an answer yet.
            let r = self
                .client
                .get(self.url(&format!("/api/v1/jobs/{id}")))
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await;
            if let Ok(v) = json_of(r).await {
                if ok(&v) {
                    return v;
                }
                last = v;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("job {id}: {what} not reached in {secs} s; last seen:\n{last:#}");
    }

    /// The `polls` count of each job (how often it looked at its session), for
    /// [`Api::wait_for_polls`]; one listing for all.
    pub async fn polls(&self, ids: &[&str]) -> Vec<(String, u64)> {
        let listed = self.jobs("?limit=500").await;
        ids.iter()
            .map(|id| {
                let job = listed.iter().find(|j| j["id"] == *id);
                let n = job.and_then(|j| j["polls"].as_u64());
                (
                    id.to_string(),
                    n.unwrap_or_else(|| panic!("job {id} not listed")),
                )
            })
            .collect()
    }

    /// Wait until each job has looked at its session at least `more` times since `before` (as
    /// [`Api::polls`] read it): proof that every job worked on, instead of a sleep that hopes so.
    pub async fn wait_for_polls(&self, before: &[(String, u64)], more: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let ids: Vec<&str> = before.iter().map(|(id, _)| id.as_str()).collect();
        loop {
            let now = self.polls(&ids).await;
            let behind: Vec<_> = before
                .iter()
                .zip(&now)
                .filter(|((_, was), (_, is))| *is < was + more)
                .collect();
            if behind.is_empty() {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not every job looked {more} more times: {behind:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn json_of(r: reqwest::Result<reqwest::Response>) -> reqwest::Result<Value> {
    r?.json::<Value>().await
}
