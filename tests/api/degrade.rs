//! Optional look-ups degrade (issue 9): a call that only enriches the ticket (the Jira request
//! type's name, Zendesk users and brands, Freshservice requesters and agents) is made only when
//! a rule of the connection needs its value, and a 403/404 leaves the value unknown: the rules
//! decide on what is known, the history names what could not be decided, the job goes on.

use crate::jira::spawn_jira_app_with;
use crate::zendesk::spawn_zendesk_app;
use deskbridge_sim::{Fault, FaultAction};
use serde_json::Value;

/// Every history line's detail and error, joined.
fn history(job: &Value) -> String {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{} {}", s["detail"], s["error"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A click on a new issue whose request type read answers 404 (and is not expanded in the
/// request read): the job id.
async fn click_with_request_type_gone(app: &crate::jira::JiraApp) -> String {
    app.jira.set_expand_supported(false);
    app.jira
        .faults()
        .push(Fault::new("/requesttype/", FaultAction::status(404)).times(0));
    let key = app.new_issue(|_| {});
    app.start(&key).await
}

#[tokio::test]
async fn a_jira_request_type_that_answers_404_is_not_read_when_no_rule_needs_it() {
    let app = spawn_jira_app_with(|c| {
        for r in &mut c.rules {
            r.matches.queue.clear();
        }
    })
    .await;
    let id = click_with_request_type_gone(&app).await;
    app.wait_for_state(&id, "waiting_for_end", 10).await;
    let reads = app.jira.faults().requests();
    assert!(
        !reads.iter().any(|r| r.path.contains("/requesttype/")),
        "no rule looks at the request type: not read"
    );
}

#[tokio::test]
async fn a_jira_request_type_a_rule_needs_but_cannot_be_read_leaves_it_undecided() {
    let app = spawn_jira_app_with(|_| {}).await;
    let id = click_with_request_type_gone(&app).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    let h = history(&job);
    assert!(h.contains("queue could not be decided"), "{h}");
    assert!(h.contains("404"), "{h}");
    assert_eq!(
        job["ticket_read"]["unknown"][0]["field"], "queue",
        "{job:#}"
    );
}

#[tokio::test]
async fn a_zendesk_brand_refused_403_leaves_the_brand_rule_to_its_known_conditions() {
    let app = spawn_zendesk_app().await;
    app.zd
        .faults()
        .push(Fault::new("/api/v2/brands/", FaultAction::status(403)).times(0));
    app.zd
        .faults()
        .push(Fault::new("/api/v2/users/", FaultAction::status(404)).times(0));
    let ticket = app.new_ticket(deskbridge_sim::zendesk::SimTicket {
        group: Some("Customer Care".into()),
        brand: Some("Customer Portal".into()),
        ..Default::default()
    });
    let id = app.start(ticket).await;
    let job = app.wait_for_state(&id, "waiting_for_end", 10).await;
    assert_eq!(job["rule"], "Customer brand: public link", "{job:#}");
    let h = history(&job);
    assert!(h.contains("brand could not be decided"), "{h}");
    let users = app
        .zd
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v2/users/"))
        .count();
    assert_eq!(
        users, 0,
        "no rule looks at people and the click names the agent"
    );
}
