//! Sunlogin end to end: a ServiceNow simulator, a Sunlogin simulator and deskbridge on port 0,
//! with a worker sized for fifty jobs at once and a one-second request timeout (so a hung
//! answer turns into a retry quickly). The service's clock decides when a token is stale, so
//! a test ages a token by moving it instead of waiting.

mod crash;
mod flow;
mod tokens;

use crate::servicenow::{self, *};
use deskbridge_sim::{ServiceNowSim, SunloginSim};

pub const APP_KEY: &str = "APPKEY-E2E";
pub const APP_SECRET: &str = "sl-app-secret-Xq9!";
pub const ACCOUNT: &str = "it-admin@acme.example";
pub const PASSWORD: &str = "sl-password-Wm4#";
/// The agent who clicks (the webhook's `requested_by`), hence the seat.
pub const SEAT: &str = "beth@acme.example";
pub const QUEUE: &str = "CN Desk";
pub const VENDOR: &str = "sunlogin-cn";

system_app!(SunApp {
    snow: ServiceNowSim,
    sun: SunloginSim,
});

/// The Sunlogin vendor `sunlogin-cn` on the simulator at `base_url`.
pub fn vendor(base_url: &str) -> Vendor {
    let auth = VendorAuth::Sunlogin {
        app_key: APP_KEY.into(),
        app_secret: APP_SECRET.into(),
        account: ACCOUNT.into(),
        password: PASSWORD.into(),
    };
    Vendor {
        poll: Some(Poll::fast()),
        ..Vendor::new(VENDOR, "sunlogin", base_url, auth)
    }
}

/// The configuration of these tests: ServiceNow, Sunlogin and a rule for the CN desk; a worker
/// sized for fifty jobs at once, retrying quickly.
pub fn config(dir: &std::path::Path, snow: &str, sun: &str) -> Config {
    let mut c = Config::base(dir)
        .itsm(servicenow::connection("snow", snow))
        .vendor(vendor(sun))
        .rule(Rule::new("CN desk to Sunlogin", "snow", VENDOR).queue(&[QUEUE]));
    c.worker.request_timeout = Some("1s".into());
    c.worker.concurrency = Some(64);
    c.worker.per_connection = Some(64);
    // Budgets well past the clock jumps that age tokens: no test here runs one out.
    c.worker.retry = Some(Retry::quick("300ms", "10m"));
    c
}

pub async fn spawn_sunlogin() -> SunApp {
    let snow = ServiceNowSim::start(SNOW_USER, SNOW_PASSWORD).await;
    let sun = SunloginSim::start(APP_KEY, APP_SECRET, ACCOUNT, PASSWORD).await;
    let (sn, su) = (snow.base_url(), sun.base_url());
    SunApp {
        app: TestApp::start(|dir| config(dir, &sn, &su), |_| {}).await,
        snow,
        sun,
    }
}

impl SunApp {
    /// A new incident in the Sunlogin queue; returns its sys_id and the job id of its webhook.
    pub async fn click(&self) -> (String, String) {
        servicenow::click(&self.api, &self.snow, QUEUE).await
    }

    /// The agent connects from the seat and ends the session; returns its log id.
    pub fn play_session(&self, device: &str, files: &[(&str, u64, &str)]) -> String {
        let id = self.sun.start_session(SEAT, device, "123 456 789");
        assert!(self.sun.end_session(&id, files));
        id
    }

    /// Poll the simulator's counters until `done` holds (panics after `secs`).
    pub async fn until(
        &self,
        secs: u64,
        what: &str,
        done: impl Fn(&deskbridge_sim::sunlogin::TokenCounts) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        while !done(&self.sun.counts()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: {:?}",
                self.sun.counts()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Move the service's clock past three quarters of [`LIFE`], where deskbridge renews.
    pub fn age_the_token(&self) {
        self.clock.advance(LIFE * 4 / 5);
    }
}

/// The life of a short-lived AccessToken (`sun.set_access_ttl(LIFE)`): long enough that the
/// simulator, on real time, takes it for the whole test; deskbridge sees it age only when the
/// test moves the clock.
pub const LIFE: std::time::Duration = std::time::Duration::from_secs(60);
