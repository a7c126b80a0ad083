//! Issue 10 item 8: the deployment files hold up. The systemd reload checks the file first and
//! the unit is sandboxed; the Kubernetes pod mounts no service-account token, has a startup
//! probe, reads its secrets as files (the ConfigMap's configuration loads with them; the same
//! for the PostgreSQL manifests, which roll several replicas under a disruption budget), and the
//! Ingress exposes only the webhooks and the OAuth callback; the release binary is stripped and
//! the image ships that.

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Lines that are not comments.
fn settings(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn the_systemd_reload_checks_first_and_the_unit_is_sandboxed() {
    let unit = read("deploy/deskbridge.service");
    let lines = settings(&unit);
    let reloads: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("ExecReload="))
        .collect();
    assert_eq!(reloads.len(), 2, "{reloads:?}");
    assert!(
        reloads[0].contains("deskbridge check --config"),
        "check first: {reloads:?}"
    );
    assert!(reloads[1].contains("kill -HUP $MAINPID"), "{reloads:?}");
    for key in [
        "SystemCallFilter=@system-service",
        "ProtectProc=invisible",
        "PrivateUsers=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=",
    ] {
        assert!(lines.contains(&key), "{key} missing");
    }
}

#[test]
fn the_pod_has_no_token_a_startup_probe_and_secrets_as_files_that_load() {
    let cfg = pod_and_configuration("deploy/kubernetes");
    assert_eq!(cfg.store.kind, deskbridge::store::Kind::Sled);
}

#[test]
fn the_postgres_pods_roll_under_a_disruption_budget_with_the_database_and_key_as_files() {
    let cfg = pod_and_configuration("deploy/kubernetes/postgres");
    assert_eq!(cfg.store.kind, deskbridge::store::Kind::Postgres);
    assert!(cfg.store.url.is_some() && cfg.server.audit_key.is_some());
    let lines = read("deploy/kubernetes/postgres/deployment.yaml");
    let lines = settings(&lines);
    for key in ["replicas: 3", "type: RollingUpdate", "maxUnavailable: 0"] {
        assert!(lines.iter().any(|l| l.starts_with(key)), "{key} missing");
    }
    assert!(!lines.iter().any(|l| l.starts_with("persistentVolumeClaim")));
    let pdb = read("deploy/kubernetes/postgres/pdb.yaml");
    assert!(pdb.contains("kind: PodDisruptionBudget") && pdb.contains("maxUnavailable: 1"));
}

/// The checks every Deployment passes, and its ConfigMap's configuration loaded with every key
/// of its example Secret as a file.
fn pod_and_configuration(dir: &str) -> deskbridge::config::Config {
    let deployment = read(&format!("{dir}/deployment.yaml"));
    let lines = settings(&deployment);
    assert!(lines.contains(&"automountServiceAccountToken: false"));
    assert!(lines.contains(&"startupProbe:"));
    assert!(lines.contains(&"mountPath: /run/secrets/deskbridge"));
    assert!(
        !lines.iter().any(|l| l.starts_with("envFrom")),
        "secrets are files, not variables"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("subPath")),
        "a subPath mount never sees a rotated secret"
    );

    // The ConfigMap's configuration loads with every secret as a file.
    let configmap = read(&format!("{dir}/configmap.yaml"));
    let toml: String = configmap
        .split_once("deskbridge.toml: |\n")
        .unwrap()
        .1
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let tmp = tempfile::tempdir().unwrap();
    let secrets = read(&format!("{dir}/secret.example.yaml"));
    let keys = settings(&secrets)
        .into_iter()
        .skip_while(|l| *l != "stringData:")
        .skip(1)
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim().to_string()))
        .collect::<Vec<_>>();
    assert!(keys.len() >= 5, "{keys:?}");
    for k in &keys {
        let value = match k.as_str() {
            "DESKBRIDGE_AUDIT_KEY" => deskbridge::audit::AuditKey::generate().to_pem(),
            "DATABASE_URL" => "postgres://deskbridge:pw@db:5432/deskbridge\n".into(),
            _ => format!("value-of-{k}\n"),
        };
        std::fs::write(tmp.path().join(k), value).unwrap();
    }
    let toml = toml.replace("/run/secrets/deskbridge", &tmp.path().display().to_string());
    assert!(!toml.contains("${"), "no secret through the environment");
    let cfg =
        deskbridge::config::load_str(&toml, "configmap.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.itsm.len(), 1);
    cfg
}

#[test]
fn the_ingress_exposes_only_the_webhooks_and_the_oauth_callback() {
    let ingress = read("deploy/kubernetes/ingress.yaml");
    let paths: Vec<&str> = settings(&ingress)
        .into_iter()
        .filter_map(|l| l.strip_prefix("- path: "))
        .collect();
    assert!(!paths.is_empty());
    for p in &paths {
        assert!(
            p.starts_with("/hooks/") || p.ends_with("/callback"),
            "{p} must not be public"
        );
    }
    let policy = read("deploy/kubernetes/networkpolicy.yaml");
    assert!(
        policy.contains("kind: NetworkPolicy")
            && policy.contains("policyTypes: [\"Ingress\", \"Egress\"]")
    );
}

#[test]
fn the_release_binary_is_stripped_and_the_image_ships_it() {
    let cargo: toml::Table = read("Cargo.toml").parse().unwrap();
    let release = &cargo["profile"]["release"];
    assert_eq!(release["strip"].as_str(), Some("symbols"));
    assert_eq!(release["debug"].as_bool(), Some(false));
    let dockerfile = read("deploy/Dockerfile");
    assert!(dockerfile.contains("objcopy --strip-all"));
    assert!(dockerfile.contains("COPY --from=builder /out/deskbridge /usr/local/bin/deskbridge"));
}
