//! Every Jira / JSM API fact the adapter relies on, in one place. Most come straight from
//! `shared/contracts/jira.md`; the ones marked **assumed** are not in the contract and were
//! added from the research notes (`shared/research/itsm.md` §2) or public client libraries.
//! Correct them here, nowhere else; the simulator (`sim::jira`) follows the same list.

/// Contract: read a customer request (`serviceDeskId`, `requestTypeId`, `reporter`).
pub const REQUEST: &str = "/rest/servicedeskapi/request/";
/// Research §2.2 [V]: `expand=serviceDesk,requestType,...` on the request read embeds
/// `requestType {id, name}` and `serviceDesk {id, projectKey, projectName}`, saving two calls.
pub const REQUEST_EXPAND: &str = "requestType,serviceDesk";

/// **Assumed** (not in the contract): `GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype/{requestTypeId}`
/// answers `{id, name, description, helpText, issueTypeId, serviceDeskId, groupIds, ...}`
/// (jira.js `serviceDesk.getRequestTypeById`, which copies Atlassian's description). Used only
/// when the expanded request read carries no request type name.
pub fn request_type_path(service_desk_id: &str, request_type_id: &str) -> String {
    format!("/rest/servicedeskapi/servicedesk/{service_desk_id}/requesttype/{request_type_id}")
}

/// **Assumed** beyond the contract's `?fields=attachment`: the same platform read returns any
/// field named in `fields` (standard Jira REST v2, identical on Cloud and Data Center). The
/// request read has no priority, labels or assignee, so they come from here.
pub const ISSUE: &str = "/rest/api/2/issue/";
pub const ISSUE_FIELDS: &str = "summary,priority,labels,reporter,assignee,project,issuetype";
/// Contract: attachments listed for idempotency.
pub const ATTACHMENT_FIELDS: &str = "attachment";

/// Contract: paged comment list, `start`/`limit`, `isLastPage`.
pub const COMMENT_PAGE: usize = 50;
/// A ticket with more comments than this is not walked further (a runaway server guard).
pub const MAX_COMMENT_PAGES: usize = 400;

/// Contract: the two-step JSM attachment flow.
pub fn temporary_file_path(service_desk_id: &str) -> String {
    format!("/rest/servicedeskapi/servicedesk/{service_desk_id}/attachTemporaryFile")
}
/// Multipart part name the upload must use.
pub const FILE_PART: &str = "file";
/// XSRF opt-out every multipart post must carry.
pub const XSRF_HEADER: (&str, &str) = ("X-Atlassian-Token", "no-check");
/// Research §2.2 [V]: the Cloud documentation's example also sends this; harmless elsewhere.
pub const EXPERIMENTAL_HEADER: (&str, &str) = ("X-ExperimentalApi", "opt-in");

/// Contract: `GET /rest/api/3/attachment/meta` → `{"enabled", "uploadLimit"}`.
/// **Assumed**: Data Center has no `/rest/api/3`; its `/rest/api/2/attachment/meta` answers
/// the same shape, so a 404 on the first path falls back to the second.
pub const ATTACHMENT_META: [&str; 2] =
    ["/rest/api/3/attachment/meta", "/rest/api/2/attachment/meta"];

/// The test call of `check --online` is [`ATTACHMENT_META`]: it needs no issue key, checks the
/// credential, and tells whether deskbridge can attach at all. What a refusal means
/// (integrations/jira/README.md, Step 1):
pub const ADVICE: crate::outbound::Advice = crate::outbound::Advice {
    unauthorized: "check auth of this connection: for Cloud auth.email and an API token of that \
        account, for Data Center a personal access token (auth.type = \"bearer\")",
    forbidden: "add the account to the service project as an agent (Project settings > People); \
        the agent role has Add comments and Create attachments in the default permission scheme",
};

/// Contract: headers of a rate-limited answer.
pub const RATE_LIMIT_RESET: &str = "x-ratelimit-reset";
pub const RATE_LIMIT_REASON: &str = "ratelimit-reason";

/// Contract: admin webhook delivery id.
pub const WEBHOOK_IDENTIFIER: &str = "x-atlassian-webhook-identifier";
/// Contract: the only admin-webhook event that can ask for a session.
pub const ISSUE_UPDATED: &str = "jira:issue_updated";
/// Contract: the label whose addition asks for a session, unless `trigger_label` says otherwise.
pub const DEFAULT_TRIGGER_LABEL: &str = "remote-session";
/// Comment events; deskbridge's own comments come back this way and are ignored.
pub const COMMENT_EVENTS: [&str; 2] = ["comment_created", "comment_updated"];
/// How every note marker starts (`worker::notes::marker`): a comment event whose body
/// carries it is deskbridge's own note coming back.
pub const MARKER_PREFIX: &str = "[deskbridge:job/";

/// **Assumed** (not in the contract): servicedeskapi errors come as
/// `{"errorMessage": "...", "i18nErrorMessage": {"i18nKey", "parameters"}}` rather than the
/// platform's `{"errorMessages", "errors"}` (seen in Atlassian's answers quoted in
/// gnustavo/JIRA-REST issue #20). Both are read.
pub const SERVICEDESK_ERROR_KEY: &str = "errorMessage";

/// **Assumed**: the attach answer's attachments carry no `id`; it is the path segment after
/// `/attachment/` in `_links.jiraRest` (`.../rest/api/2/attachment/10000`) or `_links.content`
/// (`.../secure/attachment/10000/name.csv`), as in the JSM documentation example.
pub const ATTACHMENT_ID_LINKS: [&str; 2] = ["jiraRest", "content"];
