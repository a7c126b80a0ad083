//! Reading a kind's shape off its derive, and the messages a table gets when its keys or types
//! belong to another kind.

use super::*;
use crate::config::load_str;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Sample {
    auth: SampleAuth,
    name: Option<String>,
    poll: crate::config::PollConfig,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
enum SampleAuth {
    Basic(crate::config::auth::Basic),
    ApiKey { key: String },
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Lenient {
    name: String,
}

#[test]
fn a_shape_is_read_off_the_derive_keys_and_tagged_types_alike() {
    assert_eq!(
        shape::<Sample>(),
        Shape {
            keys: &["auth", "name", "poll"],
            tagged: vec![("auth", &["basic", "api_key"])],
        }
    );
}

#[test]
fn a_type_that_takes_unknown_keys_shows_none() {
    assert!(keys::<Lenient>().is_empty());
}

#[test]
fn every_registered_kind_refuses_unknown_keys_and_lists_its_auth_types() {
    use crate::itsm::registry::SYSTEMS;
    use crate::remote::registry::VENDORS;
    let kinds = SYSTEMS
        .iter()
        .map(|e| (e.name, (e.shape)(), &["auth", "inbound"][..]))
        .chain(VENDORS.iter().map(|e| (e.name, (e.shape)(), &["auth"][..])));
    let mut names = std::collections::HashSet::new();
    for (name, shape, tagged) in kinds {
        assert!(names.insert(name), "{name} is registered twice");
        assert!(
            !shape.keys.is_empty(),
            "{name}: its settings must refuse unknown keys"
        );
        for key in tagged {
            assert!(
                shape.tagged.iter().any(|(k, t)| k == key && !t.is_empty()),
                "{name}: {key} is not a tagged table: {shape:?}"
            );
        }
    }
}

#[test]
fn serde_style_lists() {
    assert_eq!(one_of(&["a"]), "`a`");
    assert_eq!(one_of(&["a", "b"]), "`a` or `b`");
    assert_eq!(one_of(&["a", "b", "c"]), "one of `a`, `b`, `c`");
}

const SNOW: &str = "[[itsm]]\nid = \"snow\"\nkind = \"servicenow\"\nbase_url = \"https://acme.service-now.com\"\n\
    auth = { type = \"basic\", username = \"u\", password = \"p\" }\ninbound = { type = \"hmac\", secret = \"s\" }\n";

fn refused(text: &str) -> (String, String) {
    let e = load_str(text, "x.toml").unwrap_err();
    (e.field, e.reason)
}

#[test]
fn a_key_only_other_kinds_take_names_them() {
    assert_eq!(
        refused(&format!("{SNOW}trigger_tag = \"x\"\n")),
        (
            "itsm[0].trigger_tag".into(),
            "only zendesk connections take this key".into()
        )
    );
    let e = refused(&format!("{SNOW}colour = \"x\"\n"));
    assert_eq!(e.0, "itsm[0].colour");
    assert!(e.1.starts_with("unknown field `colour`, expected one of `id`, `kind`, `base_url`, `rate_limit`, `ca_bundle`, `auth`, `inbound`"), "{}", e.1);
}

#[test]
fn a_type_another_kind_takes_gets_the_misfit_message_and_an_unknown_one_serdes() {
    let e = refused(&SNOW.replace("\"hmac\"", "\"shared_header\", header = \"x\""));
    assert_eq!(
        e,
        (
            "itsm[0].inbound.type".into(),
            "servicenow cannot send this inbound type (see contracts)".into()
        )
    );
    let e = refused(&SNOW.replace("\"hmac\"", "\"carrier_pigeon\""));
    assert_eq!(e.0, "itsm[0].inbound.type");
    assert!(
        e.1.starts_with("unknown variant `carrier_pigeon`, expected `hmac`"),
        "{}",
        e.1
    );
    let e = refused(&SNOW.replace("kind = \"servicenow\"", "kind = \"remedy\""));
    assert_eq!(e.0, "itsm[0].kind");
    assert!(
        e.1.contains("expected one of `servicenow`, `jira`"),
        "{}",
        e.1
    );
}

#[test]
fn the_second_table_is_named_by_its_index() {
    let second = SNOW
        .replace("id = \"snow\"", "id = \"snow2\"")
        .replace(", password = \"p\"", "");
    let e = refused(&format!("{SNOW}{second}"));
    assert_eq!(e.0, "itsm[1].auth");
    assert!(e.1.starts_with("missing field `password`"), "{}", e.1);
}

#[test]
fn a_vendor_auth_type_of_another_vendor_names_the_ones_it_takes() {
    let text = "[[vendor]]\nid = \"sl\"\nkind = \"sunlogin\"\nbase_url = \"https://x.example\"\n\
        auth = { type = \"bearer\", token = \"t\" }\n";
    assert_eq!(
        refused(text),
        (
            "vendor[0].auth.type".into(),
            "sunlogin vendors take auth type \"sunlogin\"".into()
        )
    );
}
