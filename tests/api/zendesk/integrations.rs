//! What `integrations/zendesk/` ships is what the contract says and what the adapter reads:
//! the trigger's body template, the tag the macro, the trigger and the app agree on, and a
//! sidebar app whose manifest points at files that exist.

use serde_json::Value;
use std::path::Path;

fn load(rel: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("integrations/zendesk")
        .join(rel);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn the_trigger_sends_the_contract_body_to_the_webhook_and_removes_the_tag() {
    let t = &load("trigger.json")["trigger"];
    assert_eq!(
        t["conditions"]["all"][0],
        serde_json::json!({"field": "current_tags", "operator": "includes", "value": "remote_session"})
    );
    let actions = t["actions"].as_array().unwrap();
    assert!(actions
        .iter()
        .any(|a| a["field"] == "remove_tags" && a["value"] == "remote_session"));
    let hook = actions
        .iter()
        .find(|a| a["field"] == "notification_webhook")
        .unwrap();
    // the template is itself JSON: placeholders sit inside strings
    let body: Value = serde_json::from_str(hook["value"][1].as_str().unwrap()).unwrap();
    let contract = serde_json::json!({"ticket_id": "{{ticket.id}}", "subject": "{{ticket.title}}", "priority": "{{ticket.priority}}",
        "group_id": "{{ticket.group.id}}", "group": "{{ticket.group.name}}", "brand_id": "{{ticket.brand.id}}",
        "tags": "{{ticket.tags}}", "requester_name": "{{ticket.requester.name}}",
        "requester_email": "{{ticket.requester.email}}", "agent_email": "{{current_user.email}}"});
    assert_eq!(body, contract);
}

#[test]
fn the_macro_the_webhooks_and_the_app_agree_on_the_tag_and_the_shape() {
    let m = &load("macro.json")["macro"];
    assert_eq!(m["title"], "Start remote session");
    assert_eq!(
        m["actions"][0],
        serde_json::json!({"field": "current_tags", "value": "remote_session"})
    );
    let w = &load("webhook.json")["webhook"];
    assert_eq!(
        (w["http_method"].as_str(), w["request_format"].as_str()),
        (Some("POST"), Some("json"))
    );
    assert_eq!(
        w["subscriptions"],
        serde_json::json!(["conditional_ticket_events"])
    );
    assert!(w["endpoint"].as_str().unwrap().contains("/hooks/"));
    let e = &load("webhook-events.json")["webhook"];
    assert_eq!(
        e["subscriptions"],
        serde_json::json!(["zen:event-type:ticket.tags_changed"])
    );

    let app = load("app/manifest.json");
    let url = app["location"]["support"]["ticket_sidebar"]["url"]
        .as_str()
        .unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("integrations/zendesk/app");
    let html = std::fs::read_to_string(dir.join(url)).unwrap();
    assert!(html.contains("ZAFClient.init()") && html.contains("Start remote session"));
    assert!(
        html.contains("additional_tags"),
        "the button adds the tag, like the macro"
    );
    let tag = app["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "trigger_tag")
        .unwrap();
    assert_eq!(tag["default"], "remote_session");
    assert!(load("app/translations/en.json")["app"]["name"].is_string());
    for logo in ["assets/logo.png", "assets/logo-small.png"] {
        assert!(
            std::fs::read(dir.join(logo))
                .unwrap()
                .starts_with(b"\x89PNG"),
            "{logo}"
        );
    }
}
