//! Configuration errors name the file, the field and the reason; the shipped example parses.
//!
//! The files are written with the tests' typed configuration (`api/harness/config.rs`), each
//! test changing the one field it is about; only what no typed value can say (an unknown key,
//! broken TOML) is written as text.

#[allow(dead_code)]
#[path = "api/harness/config.rs"]
mod config_file;

use config_file::{Auth, Inbound, Itsm, Poll, Rule, Vendor, VendorAuth};
use deskbridge::config::{load, load_str, Config, ConfigError};

fn err(text: &str) -> ConfigError {
    load_str(text, "x.toml").unwrap_err()
}

/// One ServiceNow connection and one Splashtop vendor, valid as they stand.
fn snow() -> Itsm {
    let auth = Auth::Basic {
        username: "u".into(),
        password: "p".into(),
    };
    let inbound = Inbound::Hmac { secret: "s".into() };
    Itsm::new(
        "snow",
        "servicenow",
        "https://acme.service-now.com",
        auth,
        inbound,
    )
}

fn base() -> config_file::Config {
    let token = VendorAuth::Bearer { token: "t".into() };
    config_file::Config::default()
        .itsm(snow())
        .vendor(Vendor::new(
            "st",
            "splashtop",
            "https://webapi.splashtop.com",
            token,
        ))
}

/// The error of [`base`] with `edit` applied.
fn err_of(edit: impl FnOnce(&mut config_file::Config)) -> ConfigError {
    let mut c = base();
    edit(&mut c);
    err(&c.toml())
}

#[test]
fn the_shipped_example_configuration_parses() {
    let vars = [
        "DESKBRIDGE_ADMIN_TOKEN",
        "DESKBRIDGE_AUDITOR_TOKEN",
        "SNOW_PASSWORD",
        "SNOW_HOOK_SECRET",
        "JIRA_API_TOKEN",
        "JIRA_HOOK_TOKEN",
        "ZENDESK_API_TOKEN",
        "ZENDESK_WEBHOOK_SECRET",
        "FRESHSERVICE_API_KEY",
        "FRESHSERVICE_HOOK_TOKEN",
        "SPLASHTOP_API_TOKEN",
        "SUNLOGIN_APP_SECRET",
        "SUNLOGIN_PASSWORD",
    ];
    for v in vars {
        std::env::set_var(v, format!("value-of-{v}"));
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/deskbridge.example.toml");
    let cfg = load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.itsm.len(), 4);
    assert_eq!(cfg.vendor.len(), 2);
    assert_eq!(cfg.rules.len(), 5);
    assert_eq!(
        cfg.connection("snow-prod")
            .unwrap()
            .rate_limit
            .unwrap()
            .requests,
        700
    );
}

#[test]
fn the_built_in_default_listens_on_loopback_with_data_in_dot_data() {
    let cfg = Config::default();
    assert_eq!(cfg.server.listen, "127.0.0.1:8080");
    assert_eq!(cfg.server.data_dir, std::path::PathBuf::from("./data"));
    assert!(cfg.itsm.is_empty());
}

#[test]
fn an_unknown_key_is_refused_with_its_path() {
    let e = err("[server]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n");
    assert_eq!(e.file, "x.toml");
    assert_eq!(e.field, "server.lisen");
    assert!(e.reason.contains("unknown field `lisen`"), "{e}");
    // an unknown key is what no typed value can write: the rule is text after the base
    let rule = "[[rule]]\nname = \"r\"\nconnection = \"snow\"\nvendor = \"st\"\n\
                match = { queu = [\"x\"] }\n";
    let e = err(&format!("{}\n{rule}", base().toml()));
    assert_eq!(e.field, "rule[0].match.queu");
    assert!(e.reason.contains("queu"), "{e}");
}

#[test]
fn a_wrong_type_or_bad_duration_names_the_field() {
    let e = err("[server]\nmax_body_bytes = \"big\"\n");
    assert_eq!(e.field, "server.max_body_bytes");
    let e = err_of(|c| {
        c.vendor[0].poll = Some(Poll {
            every: Some("soon".into()),
            ..Poll::default()
        })
    });
    assert_eq!(e.field, "vendor[0].poll.every");
    assert!(e.reason.contains("invalid duration"), "{e}");
    assert!(
        e.to_string().starts_with("x.toml: vendor[0].poll.every: "),
        "{e}"
    );
}

#[test]
fn a_toml_syntax_error_gives_the_line() {
    let e = err("[server]\nlisten = \n");
    assert!(e.field.starts_with("line 2"), "{e}");
}

#[test]
fn env_and_file_secrets_are_resolved_and_a_missing_one_is_named() {
    std::env::set_var("DESKBRIDGE_TEST_SECRET_A", "from-env");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pw");
    std::fs::write(&f, "from-file\n").unwrap();
    let mut text = base();
    text.itsm[0].auth = Auth::Basic {
        username: "u".into(),
        password: format!("file:{}", f.display()),
    };
    text.itsm[0].inbound = Inbound::Hmac {
        secret: "${DESKBRIDGE_TEST_SECRET_A}".into(),
    };
    let cfg = load_str(&text.toml(), "x.toml").unwrap();
    use deskbridge::itsm::servicenow::{Auth as SnowAuth, InboundScheme, Settings};
    let snow = cfg.itsm[0].settings::<Settings>().unwrap();
    match &snow.auth {
        SnowAuth::Basic(b) => assert_eq!(b.password.expose(), "from-file"),
        other => panic!("{other:?}"),
    }
    let InboundScheme::Hmac { secret } = &snow.inbound;
    assert_eq!(secret.expose(), "from-env");
    let hmac = |secret: &str| Inbound::Hmac {
        secret: secret.into(),
    };
    let e = err_of(|c| c.itsm[0].inbound = hmac("${DESKBRIDGE_TEST_UNSET_VAR}"));
    assert_eq!(e.field, "itsm[0].inbound.secret");
    assert!(
        e.reason.contains("DESKBRIDGE_TEST_UNSET_VAR is not set"),
        "{e}"
    );
    let e = err_of(|c| c.itsm[0].inbound = hmac("file:/nonexistent/secret"));
    assert!(e.reason.contains("/nonexistent/secret"), "{e}");
}

#[test]
fn rules_naming_unknown_connections_or_vendors_are_refused_with_the_rule_name() {
    let e = err_of(|c| c.rules.push(Rule::new("L1", "nope", "st")));
    assert_eq!(e.field, "rule[0] (\"L1\").connection");
    assert!(e.reason.contains("unknown connection \"nope\""));
    let e = err_of(|c| c.rules.push(Rule::new("L1", "snow", "teamviewer")));
    assert_eq!(e.field, "rule[0] (\"L1\").vendor");
}

#[test]
fn ids_urls_and_auth_types_are_checked() {
    let e = err_of(|c| c.itsm[0].id = "snow prod".into());
    assert_eq!(e.field, "itsm[0].id");
    let e = err_of(|c| c.itsm[0].base_url = "acme".into());
    assert_eq!(e.field, "itsm[0].base_url");
    let e = err_of(|c| c.itsm[0].auth = Auth::ApiKey { key: "k".into() });
    assert_eq!(e.field, "itsm[0].auth.type");
    let e = err_of(|c| {
        c.itsm[0].inbound = Inbound::ZendeskSignature { secret: "s".into() };
    });
    assert_eq!(e.field, "itsm[0].inbound.type");
    let e = err_of(|c| c.itsm.push(snow()));
    assert!(e.reason.contains("used twice"), "{e}");
}

#[test]
fn the_debug_output_of_a_configuration_shows_no_secret() {
    let mut text = base();
    text.itsm[0].auth = Auth::Basic {
        username: "u".into(),
        password: "pw-123456".into(),
    };
    text.vendor[0].auth = VendorAuth::Bearer {
        token: "tok-987654".into(),
    };
    let cfg = load_str(&text.toml(), "x.toml").unwrap();
    let dbg = format!("{cfg:?}");
    assert!(
        !dbg.contains("pw-123456") && !dbg.contains("tok-987654"),
        "{dbg}"
    );
    assert!(dbg.contains("[redacted]"));
}

#[test]
fn an_account_id_is_only_for_zendesk_and_is_numeric() {
    let e = err_of(|c| c.itsm[0].account_id = Some("123".into()));
    assert_eq!(e.field, "itsm[0].account_id");
    assert!(e.reason.contains("only zendesk"), "{e}");
    let zendesk = |account: &str| {
        let auth = Auth::ApiToken {
            email: "a@acme.example".into(),
            token: "t".into(),
        };
        let inbound = Inbound::ZendeskSignature { secret: "s".into() };
        let zd = Itsm {
            account_id: Some(account.into()),
            ..Itsm::new("zd", "zendesk", "https://acme.zendesk.com", auth, inbound)
        };
        config_file::Config::default().itsm(zd).toml()
    };
    let e = err(&zendesk("ACCOUNT"));
    assert_eq!(e.field, "itsm[0].account_id");
    assert!(e.reason.contains("numeric"), "{e}");
    assert!(load_str(&zendesk("12514403"), "x.toml").is_ok());
}

/// Issue 9 item 1: a blank secret, wherever it sits, is refused naming its field: an empty
/// variable, an empty `file:`, or blanks written inline.
#[test]
fn a_blank_secret_anywhere_is_refused_naming_the_field() {
    std::env::set_var("DESKBRIDGE_TEST_EMPTY_SECRET", "");
    let dir = tempfile::tempdir().unwrap();
    let empty_file = dir.path().join("empty");
    std::fs::write(&empty_file, "\n").unwrap();
    let blanks = [
        "${DESKBRIDGE_TEST_EMPTY_SECRET}".to_string(),
        format!("file:{}", empty_file.display()),
        "   ".to_string(),
    ];
    let systems = r#"
[server]
admin_token = "A1"
auditor_token = "A2"
[[itsm]]
id = "snow"
kind = "servicenow"
base_url = "https://acme.service-now.com"
auth = { type = "basic", username = "u", password = "S1" }
inbound = { type = "hmac", secret = "S2" }
[[itsm]]
id = "jira"
kind = "jira"
base_url = "https://acme.atlassian.net"
auth = { type = "api_token", email = "a@acme.example", token = "J1" }
inbound = { type = "hub_signature", secret = "J2" }
[[itsm]]
id = "zd"
kind = "zendesk"
base_url = "https://acme.zendesk.com"
auth = { type = "api_token", email = "a@acme.example", token = "Z1" }
inbound = { type = "zendesk_signature", secret = "Z2" }
[[itsm]]
id = "fs"
kind = "freshservice"
base_url = "https://acme.freshservice.com"
auth = { type = "api_key", key = "F1" }
inbound = { type = "shared_header", header = "X-Token", secret = "F2" }
[[vendor]]
id = "st"
kind = "splashtop"
base_url = "https://webapi.splashtop.com"
auth = { type = "bearer", token = "V1" }
[[vendor]]
id = "sl"
kind = "sunlogin"
base_url = "https://sunlogin.example.cn"
auth = { type = "sunlogin", app_key = "k", app_secret = "V2", account = "a", password = "V3" }
"#;
    assert!(load_str(systems, "x.toml").is_ok());
    let fields = [
        ("A1", "server.admin_token"),
        ("A2", "server.auditor_token"),
        ("S1", "itsm[0].auth.password"),
        ("S2", "itsm[0].inbound.secret"),
        ("J1", "itsm[1].auth.token"),
        ("J2", "itsm[1].inbound.secret"),
        ("Z1", "itsm[2].auth.token"),
        ("Z2", "itsm[2].inbound.secret"),
        ("F1", "itsm[3].auth.key"),
        ("F2", "itsm[3].inbound.secret"),
        ("V1", "vendor[0].auth.token"),
        ("V2", "vendor[1].auth.app_secret"),
        ("V3", "vendor[1].auth.password"),
    ];
    for (marker, field) in fields {
        for blank in &blanks {
            let text = systems.replace(&format!("\"{marker}\""), &format!("\"{blank}\""));
            let e = err(&text);
            assert_eq!(e.field, field, "{blank:?} for {marker}: {e}");
            assert!(e.reason.contains("empty or blank"), "{e}");
        }
    }
}

#[test]
fn a_file_with_the_deprecated_retry_attempts_still_loads_and_is_warned_about() {
    let mut c = base();
    c.worker.retry = Some(config_file::Retry {
        base: "2s".into(),
        max: "5m".into(),
        link_budget: None,
        artifacts_budget: None,
        attempts: Some(10),
    });
    let cfg: Config = load_str(&c.toml(), "old.toml").unwrap();
    let warned: Vec<&ConfigError> = cfg
        .warnings
        .iter()
        .filter(|w| w.field == "worker.retry.attempts")
        .collect();
    assert_eq!(warned.len(), 1, "{:?}", cfg.warnings);
    assert!(warned[0].reason.contains("link_budget"), "{}", warned[0]);
    assert_eq!(
        cfg.worker.retry.link_budget.0.as_secs(),
        15 * 60,
        "the default budget"
    );
    let e = err_of(|c| {
        c.worker.retry = Some(config_file::Retry {
            link_budget: Some("0s".into()),
            ..config_file::Retry::quick("1s", "1s")
        })
    });
    assert!(e.to_string().contains("worker.retry.link_budget"), "{e}");
}
