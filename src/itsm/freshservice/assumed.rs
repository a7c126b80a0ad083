//! Every Freshservice fact deskbridge relies on that no official page confirmed, in one place
//! (see `shared/contracts/freshservice.md` and `shared/research/itsm.md` §4). The simulator
//! follows these same constants, so a fact that turns out wrong is changed here once.
//!
//! Confirmed (vendor swagger or fixtures) and therefore not here: the REST paths of the
//! contract table, `{"ticket": ...}` / `{"conversation": ...}` wrappers, the validation error
//! envelope, `Retry-After` on 429, basic auth with the API key.

/// The keys of the JSON body the Workflow Automator's "Trigger Webhook" action sends. The keys
/// are deskbridge's own (the template in `integrations/freshservice/`); the `{{ticket.*}}`
/// placeholders that fill them are not confirmed by an official page, so any value may arrive
/// empty and only `ticket_id` is required to carry something.
pub mod body {
    pub const TICKET_ID: &str = "ticket_id";
    pub const SUBJECT: &str = "subject";
    pub const PRIORITY: &str = "priority";
    pub const GROUP: &str = "group";
    pub const WORKSPACE_ID: &str = "workspace_id";
    pub const REQUESTER_NAME: &str = "requester_name";
    pub const REQUESTER_EMAIL: &str = "requester_email";
    pub const AGENT_EMAIL: &str = "agent_email";
    /// `{{ticket.id_numeric}}-{{ticket.updated_at}}`: one value per ticket update, so a re-delivery of
    /// the same update is recognised and a later click is not.
    pub const EVENT_ID: &str = "event_id";
}

/// The template shipped in `integrations/freshservice/webhook-body.json`, for tests and demo.
pub const BODY_TEMPLATE: &str =
    include_str!("../../../integrations/freshservice/webhook-body.json");

/// The shipped body puts `{{ticket.id_numeric}}` (the bare number, as the Freshservice guide's
/// webhook body and every public workflow use it) in `ticket_id`; an admin's older body may
/// still use `{{ticket.id}}`, which renders the display id ("#INC-266", "SR-12"). These are the
/// display prefixes stripped before the number is read.
pub const DISPLAY_ID_PREFIXES: [&str; 5] = ["INC-", "SR-", "CHN-", "PRB-", "REL-"];

/// Ticket priorities are numbers 1-4 in the API (1 Low, 2 Medium, 3 High, 4 Urgent: the
/// reverse of ServiceNow's order). deskbridge normalises to the number as a string; a
/// placeholder that renders the label is mapped with this table.
pub const PRIORITY_LABELS: [(&str, &str); 4] = [
    ("low", "1"),
    ("medium", "2"),
    ("high", "3"),
    ("urgent", "4"),
];

/// The total size of all of a ticket's attachments, every note's included. The contract's
/// 15 MB (api.freshservice.com as copied by FreshservicePS and rapid7); newer third-party
/// sources say 40 MB, so 15 MB is the safe assumption: a file over it is compressed, not lost.
pub const TICKET_ATTACHMENT_LIMIT: u64 = 15 * 1024 * 1024;

/// `include` on the ticket view: the fixture's validation message lists `tags` among the
/// accepted values, and the default view does not carry them.
pub const TICKET_INCLUDE: &str = "tags";

/// List pages (`page`, `per_page`): the Freshworks v2 convention, 100 at most, with a
/// `Link: <...>; rel="next"` header while more pages follow.
pub const PER_PAGE: usize = 100;
/// A ticket with more conversations than this many pages is refused rather than read forever.
pub const MAX_PAGES: usize = 50;

/// Names and e-mails: `GET /api/v2/requesters/{id}` answers `{"requester": {first_name,
/// last_name, primary_email}}`; a requester who is an agent is found at
/// `GET /api/v2/agents/{id}`, `{"agent": {first_name, last_name, email}}`, which is also where
/// the ticket's `responder_id` is resolved.
pub const REQUESTER_PATH: &str = "/api/v2/requesters/";
pub const AGENT_PATH: &str = "/api/v2/agents/";

/// The field a refused upload names in the validation envelope (the wording of the real
/// answer is not documented; the simulator answers this way).
pub const ATTACHMENTS_FIELD: &str = "attachments";

/// Rate-limit headers on every answer (Exalate's table, FreshservicePS).
pub const HEADER_TOTAL: &str = "x-ratelimit-total";
pub const HEADER_REMAINING: &str = "x-ratelimit-remaining";
pub const HEADER_USED: &str = "x-ratelimit-used-currentrequest";

/// The test call of `check --online`: "List all tickets" with `per_page=1`, `{"tickets": [...]}`
/// (the API's list endpoint; not in the contract's table). Any agent who may view tickets may
/// list them.
pub const TEST_PATH: &str = "/api/v2/tickets?per_page=1";

/// What a refusal of the test call means (integrations/freshservice/README.md).
pub const ADVICE: crate::outbound::Advice = crate::outbound::Advice {
    unauthorized: "check auth.key of this connection: the API key of the deskbridge agent \
        (Profile settings > API key); a key stops working when its agent is deactivated",
    forbidden: "give the deskbridge agent a role that can view and edit tickets in the groups \
        and workspaces the rules cover",
};
