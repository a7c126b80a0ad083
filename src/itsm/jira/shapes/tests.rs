//! The answer readers against the shipped fixtures (real shapes) and the documented examples.

use super::*;
use serde_json::json;

const MY_REQUESTS: &str =
    include_str!("../../../../tests/fixtures/jira/jsm-get-my-requests-example.json");
const ATTACHMENTS: &str =
    include_str!("../../../../tests/fixtures/jira/jira-cloud-add-attachment-response.json");
const ADF_COMMENT: &str =
    include_str!("../../../../tests/fixtures/jira/jira-cloud-add-comment-response.json");
const STATUS_CHANGE: &str =
    include_str!("../../../../tests/fixtures/jira/jira-webhook-issue-updated-status.json");

#[test]
fn the_shipped_request_example_gives_its_service_desk_and_request_type() {
    let page: Value = serde_json::from_str(MY_REQUESTS).unwrap();
    let facts = request_facts(&page["values"][0]).unwrap();
    assert_eq!(facts.service_desk_id, "10");
    assert_eq!(facts.request_type_id, "25");
    assert_eq!(facts.request_type_name, None, "not expanded in the example");
    let mut v = page["values"][0].clone();
    v.as_object_mut().unwrap().remove("serviceDeskId");
    assert!(request_facts(&v).unwrap_err().contains("`serviceDeskId`"));
}

#[test]
fn an_expanded_request_and_the_issue_make_the_normalised_ticket() {
    let req = json!({
        "issueId": "107001", "issueKey": "HELPDESK-1", "requestTypeId": "25", "serviceDeskId": "10",
        "reporter": {"accountId": "qm:1", "displayName": "Jane Doe", "emailAddress": "jane@acme.example"},
        "requestType": {"id": "25", "name": "Get IT help", "serviceDeskId": "10"},
        "serviceDesk": {"id": "10", "projectId": "11000", "projectKey": "HELPDESK", "projectName": "IT Help"}
    });
    let facts = request_facts(&req).unwrap();
    // the platform issue, as in the shipped webhook fixture's `issue`
    let mut issue: Value = serde_json::from_str::<Value>(STATUS_CHANGE).unwrap()["issue"].clone();
    issue["fields"]["labels"] = json!(["vpn", "remote"]);
    issue["fields"]["assignee"] =
        json!({"displayName": "Beth Anglin", "emailAddress": "beth@acme.example"});
    let t = ticket(&facts, facts.request_type_name.clone(), &issue);
    assert_eq!(t.number.as_deref(), Some("TEST-1"));
    assert_eq!(t.subject.as_deref(), Some("Fix That"));
    assert_eq!(
        t.queue.as_deref(),
        Some("Get IT help"),
        "queue = the request type's name"
    );
    assert_eq!(t.request_type.as_deref(), Some("Get IT help"));
    assert_eq!(t.service_desk.as_deref(), Some("10"));
    assert_eq!(t.project.as_deref(), Some("ABC"));
    assert_eq!(t.priority.as_deref(), Some("Medium"));
    assert_eq!(t.tags, Some(vec!["vpn".to_string(), "remote".to_string()]));
    assert_eq!(
        t.requester_email(),
        Some("jane@acme.example"),
        "the JSM reporter wins"
    );
    assert_eq!(t.agent_email(), Some("beth@acme.example"));

    // no labels field read: known to be empty, not unknown
    issue["fields"].as_object_mut().unwrap().remove("labels");
    assert_eq!(ticket(&facts, None, &issue).tags, Some(vec![]));
}

#[test]
fn the_shipped_attachment_objects_give_names_sizes_and_ids() {
    let list: Value = serde_json::from_str(ATTACHMENTS).unwrap();
    let got: Vec<RemoteAttachment> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(attachment)
        .collect();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0],
        RemoteAttachment {
            id: Some("10001".into()),
            name: "picture.jpg".into(),
            size: Some(23123)
        }
    );
    // the second example object has no `id`: it is read from `self`
    assert_eq!(
        got[1],
        RemoteAttachment {
            id: Some("10001".into()),
            name: "dbeuglog.txt".into(),
            size: Some(2460)
        }
    );
}

#[test]
fn a_jsm_attachment_takes_its_id_from_its_links() {
    let v = json!({"filename": "screenshot.png", "size": 23123, "mimeType": "image/png",
        "_links": {"content": "https://x.atlassian.net/servicedesk/customershim/secure/attachment/10000/screenshot.png",
                   "thumbnail": "https://x.atlassian.net/servicedesk/customershim/secure/thumbnail/10000/_thumb_10000.png"}});
    assert_eq!(attachment(&v).unwrap().id.as_deref(), Some("10000"));
    let v = json!({"filename": "a.csv", "_links": {"jiraRest": "https://x.atlassian.net/rest/api/2/attachment/10042"}});
    assert_eq!(attachment(&v).unwrap().id.as_deref(), Some("10042"));
    assert_eq!(attachment(&json!({"filename": "a.csv"})).unwrap().id, None);
    assert_eq!(
        attachment(&json!({"id": "1"})),
        None,
        "no file name: not an attachment"
    );
}

#[test]
fn comment_bodies_are_read_as_text_whether_wiki_or_adf() {
    let adf: Value = serde_json::from_str(ADF_COMMENT).unwrap();
    assert!(comment_text(&adf).starts_with("Lorem ipsum dolor sit amet"));
    let page = json!({"size": 1, "start": 0, "limit": 50, "isLastPage": true,
        "values": [{"id": "1000", "body": "Hello there [deskbridge:job/x/link]", "public": false}]});
    let (texts, last) = comment_page(&page).unwrap();
    assert_eq!(
        texts,
        vec!["Hello there [deskbridge:job/x/link]".to_string()]
    );
    assert!(last);
    assert!(comment_page(&json!({"values": []}))
        .unwrap_err()
        .contains("isLastPage"));
}

#[test]
fn temporary_file_receipts_pair_names_and_ids() {
    let v = json!({"temporaryAttachments": [{"temporaryAttachmentId": "temp8186986881", "fileName": "a.csv"}]});
    assert_eq!(
        temporary_ids(&v).unwrap(),
        vec![("a.csv".to_string(), "temp8186986881".to_string())]
    );
    assert!(temporary_ids(&json!({})).is_err());
    assert!(temporary_ids(&json!({"temporaryAttachments": [{"fileName": "a"}]})).is_err());
}
