//! Configuration errors name the file, the field and the reason; the shipped example parses.

use deskbridge::config::{load, load_str, Config, ConfigError};

fn err(text: &str) -> ConfigError {
    load_str(text, "x.toml").unwrap_err()
}

const BASE: &str = r#"
[[itsm]]
id = "snow"
kind = "servicenow"
base_url = "https://acme.service-now.com"
auth = { type = "basic", username = "u", password = "p" }
inbound = { type = "hmac", secret = "s" }
[[vendor]]
id = "st"
kind = "splashtop"
base_url = "https://webapi.splashtop.com"
auth = { type = "bearer", token = "t" }
"#;

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
    let e = err(&format!("{BASE}\n[[rule]]\nname = \"r\"\nconnection = \"snow\"\nvendor = \"st\"\nmatch = {{ queu = [\"x\"] }}\n"));
    assert_eq!(e.field, "rule[0].match.queu");
    assert!(e.reason.contains("queu"), "{e}");
}

#[test]
fn a_wrong_type_or_bad_duration_names_the_field() {
    let e = err("[server]\nmax_body_bytes = \"big\"\n");
    assert_eq!(e.field, "server.max_body_bytes");
    let e = err(&BASE.replace(
        "auth = { type = \"bearer\", token = \"t\" }",
        "auth = { type = \"bearer\", token = \"t\" }\npoll = { every = \"soon\" }",
    ));
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
    let text = BASE
        .replace(
            "password = \"p\"",
            &format!("password = \"file:{}\"", f.display()),
        )
        .replace("secret = \"s\"", "secret = \"${DESKBRIDGE_TEST_SECRET_A}\"");
    let cfg = load_str(&text, "x.toml").unwrap();
    use deskbridge::itsm::servicenow::{Auth, InboundScheme, Settings};
    let snow = cfg.itsm[0].settings::<Settings>().unwrap();
    match &snow.auth {
        Auth::Basic(b) => assert_eq!(b.password.expose(), "from-file"),
        other => panic!("{other:?}"),
    }
    let InboundScheme::Hmac { secret } = &snow.inbound;
    assert_eq!(secret.expose(), "from-env");
    let e = err(&BASE.replace(
        "secret = \"s\"",
        "secret = \"${DESKBRIDGE_TEST_UNSET_VAR}\"",
    ));
    assert_eq!(e.field, "itsm[0].inbound.secret");
    assert!(
        e.reason.contains("DESKBRIDGE_TEST_UNSET_VAR is not set"),
        "{e}"
    );
    let e = err(&BASE.replace("secret = \"s\"", "secret = \"file:/nonexistent/secret\""));
    assert!(e.reason.contains("/nonexistent/secret"), "{e}");
}

#[test]
fn rules_naming_unknown_connections_or_vendors_are_refused_with_the_rule_name() {
    let e = err(&format!(
        "{BASE}\n[[rule]]\nname = \"L1\"\nconnection = \"nope\"\nvendor = \"st\"\n"
    ));
    assert_eq!(e.field, "rule[0] (\"L1\").connection");
    assert!(e.reason.contains("unknown connection \"nope\""));
    let e = err(&format!(
        "{BASE}\n[[rule]]\nname = \"L1\"\nconnection = \"snow\"\nvendor = \"teamviewer\"\n"
    ));
    assert_eq!(e.field, "rule[0] (\"L1\").vendor");
}

#[test]
fn ids_urls_and_auth_types_are_checked() {
    let e = err(&BASE.replace("id = \"snow\"", "id = \"snow prod\""));
    assert_eq!(e.field, "itsm[0].id");
    let e = err(&BASE.replace("https://acme.service-now.com", "acme"));
    assert_eq!(e.field, "itsm[0].base_url");
    let e = err(&BASE.replace(
        "auth = { type = \"basic\", username = \"u\", password = \"p\" }",
        "auth = { type = \"api_key\", key = \"k\" }",
    ));
    assert_eq!(e.field, "itsm[0].auth.type");
    let e = err(&BASE.replace(
        "inbound = { type = \"hmac\", secret = \"s\" }",
        "inbound = { type = \"zendesk_signature\", secret = \"s\" }",
    ));
    assert_eq!(e.field, "itsm[0].inbound.type");
    let e = err(&format!(
        "{BASE}{}",
        BASE.split("[[vendor]]").next().unwrap()
    ));
    assert!(e.reason.contains("used twice"), "{e}");
}

#[test]
fn the_debug_output_of_a_configuration_shows_no_secret() {
    let cfg = load_str(
        &BASE
            .replace("password = \"p\"", "password = \"pw-123456\"")
            .replace("token = \"t\"", "token = \"tok-987654\""),
        "x.toml",
    )
    .unwrap();
    let dbg = format!("{cfg:?}");
    assert!(
        !dbg.contains("pw-123456") && !dbg.contains("tok-987654"),
        "{dbg}"
    );
    assert!(dbg.contains("[redacted]"));
}

#[test]
fn an_account_id_is_only_for_zendesk_and_is_numeric() {
    let e = err(&BASE.replace(
        "inbound = { type = \"hmac\", secret = \"s\" }",
        "inbound = { type = \"hmac\", secret = \"s\" }\naccount_id = \"123\"",
    ));
    assert_eq!(e.field, "itsm[0].account_id");
    assert!(e.reason.contains("only zendesk"), "{e}");
    let zendesk = r#"
[[itsm]]
id = "zd"
kind = "zendesk"
base_url = "https://acme.zendesk.com"
auth = { type = "api_token", email = "a@acme.example", token = "t" }
inbound = { type = "zendesk_signature", secret = "s" }
account_id = "ACCOUNT"
"#;
    let e = err(zendesk);
    assert_eq!(e.field, "itsm[0].account_id");
    assert!(e.reason.contains("numeric"), "{e}");
    assert!(load_str(&zendesk.replace("ACCOUNT", "12514403"), "x.toml").is_ok());
}

/// The `deskbridge.toml` a Kubernetes ConfigMap carries (its block under `deskbridge.toml: |`).
fn configmap_toml(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let yaml = std::fs::read_to_string(path).unwrap();
    let body = yaml
        .split("deskbridge.toml: |\n")
        .nth(1)
        .expect("a deskbridge.toml key");
    body.lines()
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_kubernetes_configurations_load_for_sled_and_for_postgres() {
    for v in [
        "DESKBRIDGE_ADMIN_TOKEN",
        "DESKBRIDGE_AUDITOR_TOKEN",
        "SNOW_PASSWORD",
        "SNOW_HOOK_SECRET",
        "SPLASHTOP_API_TOKEN",
    ] {
        std::env::set_var(v, format!("value-of-{v}"));
    }
    std::env::set_var(
        "DATABASE_URL",
        "postgres://deskbridge:pw@db:5432/deskbridge",
    );
    let sled =
        deskbridge::config::load_str(&configmap_toml("deploy/kubernetes/configmap.yaml"), "sled")
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sled.store.kind, deskbridge::store::Kind::Sled);

    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit-key.pem");
    std::fs::write(&key, deskbridge::audit::AuditKey::generate().to_pem()).unwrap();
    let text = configmap_toml("deploy/kubernetes/postgres/configmap.yaml").replace(
        "/run/secrets/deskbridge/audit-key.pem",
        key.to_str().unwrap(),
    );
    let pg = deskbridge::config::load_str(&text, "postgres").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pg.store.kind, deskbridge::store::Kind::Postgres);
    assert_eq!(
        pg.store.url.as_ref().unwrap().expose(),
        "postgres://deskbridge:pw@db:5432/deskbridge"
    );
    assert!(pg.server.audit_key.is_some());
}
