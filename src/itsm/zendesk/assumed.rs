//! Every Zendesk API fact the adapter relies on that `shared/contracts/zendesk.md` does **not**
//! state (the research, `shared/research/itsm.md` §3, marks them [?] or does not cover them).
//! Nothing else in the adapter hard-codes these: correct them here against
//! developer.zendesk.com when they turn out wrong, and change the simulator (`src/sim/zendesk/`,
//! which answers the same shapes) with them.

/// `GET /api/v2/users/{id}` answers `{"user": {id, name, email, ...}}`: the requester's and the
/// assignee's name and e-mail (the ticket only carries `requester_id`, `assignee_id`).
pub const USER_PATH: &str = "/api/v2/users";
pub const USER_KEY: &str = "user";

/// The test call of `check --online`: `GET /api/v2/users/me` ("Show Self") answers the user
/// the credentials belong to, `{"user": {id, email, role, ...}}`; deskbridge needs an `agent`
/// or `admin` (an `end-user` cannot read or comment on tickets through the API).
pub const ME_PATH: &str = "/api/v2/users/me";
pub const STAFF_ROLES: [&str; 2] = ["agent", "admin"];

/// What a refusal of the test call means (integrations/zendesk/README.md).
pub const ADVICE: crate::outbound::Advice = crate::outbound::Advice {
    unauthorized: "check auth.email and auth.token of this connection, and that token access is \
        enabled (Admin Center > Apps and integrations > Zendesk API)",
    forbidden: "the token's user must be an agent or admin who can see the tickets deskbridge \
        works on",
};

/// `GET /api/v2/brands/{id}` answers `{"brand": {id, name, ...}}`: the normalised ticket's
/// `brand` is the brand's name, like `queue` is the group's name.
pub const BRAND_PATH: &str = "/api/v2/brands";
pub const BRAND_KEY: &str = "brand";

/// Offset paging of `GET /api/v2/tickets/{id}/comments`: `per_page` up to 100, oldest first.
pub const COMMENTS_PER_PAGE: u32 = 100;

/// A comment is returned with `body`, `html_body` and `plain_body`; which of them keeps a
/// Markdown note's text verbatim is not documented, so the marker is looked for in all three.
pub const COMMENT_TEXT_FIELDS: [&str; 3] = ["body", "plain_body", "html_body"];

/// Statuses that mean "send it again" beyond the shared ones (429, 5xx): Zendesk answers
/// `409 Conflict` when two updates of one ticket collide (an agent saving the ticket while
/// deskbridge adds its note), and sending the same update again is what it expects.
pub const TRANSIENT_STATUSES: [u16; 1] = [409];

/// Largest file Zendesk accepts as an attachment (the contract has no figure; the research
/// notes "[?] Maximum attachment size: not found"). 50 MB is the documented product limit.
pub const MAX_ATTACHMENT_BYTES: u64 = 50 * 1024 * 1024;

/// The `event` object of `zen:event-type:ticket.tags_changed`: `{"tags_added": [...],
/// "tags_removed": [...]}`. The generic `{"current", "previous"}` shape of other events is
/// accepted as well (added = current minus previous).
pub const TAGS_ADDED_KEY: &str = "tags_added";
/// The same event in the shape of Zendesk's user events (`user.tags_changed`):
/// `{"added": {"tags": [...]}, "removed": {"tags": [...]}}`. Which of the three shapes the
/// ticket event really carries is not in the contract; all three are read, this one as
/// `event.added.tags`.
pub const TAGS_ADDED_OBJECT: &str = "added";
