//! Every Splashtop API fact that is **assumed**, not verified (see
//! `../shared/contracts/splashtop.md`, items marked [assumed]). Nothing else in the adapter
//! hard-codes these: correct them here against the Splashtop Open API reference PDF.

/// Session log rows: `GET /teams/{team}/logs/sessions?support_session_id=&page=&per_page=`.
pub const SESSION_LOG_PATH: &str = "logs/sessions";
/// File-transfer rows: same paging.
pub const FILE_TRANSFER_PATH: &str = "logs/file_transfers";
/// Chat lines: same paging; empty when the team does not save transcripts.
pub const CHAT_PATH: &str = "logs/chat_transcripts";
/// Query parameter naming the session on the log routes.
pub const SESSION_PARAM: &str = "support_session_id";
/// Page size asked for (and the server's assumed cap).
pub const PER_PAGE: usize = 100;
/// Paged answers: `data {logs: [...], page, per_page, total}`.
pub const ROWS_KEY: &str = "logs";
pub const TOTAL_KEY: &str = "total";

/// Session log columns, in CSV order (the console's columns).
pub const SESSION_LOG_FIELDS: [&str; 9] = [
    "start_time",
    "end_time",
    "duration_sec",
    "technician",
    "src_device",
    "dst_device",
    "src_ip",
    "dst_ip",
    "type",
];
/// File-transfer columns, in CSV order.
pub const FILE_TRANSFER_FIELDS: [&str; 5] =
    ["time", "file_name", "size_bytes", "direction", "technician"];
/// Chat line fields: time, author, message.
pub const CHAT_FIELDS: [&str; 3] = ["time", "author", "message"];

/// The token endpoint of the OAuth 2.0 flow, under the portal URL (RFC 6749 shape assumed):
/// form-encoded `grant_type=authorization_code` (`code`, `state`, `redirect_uri`, `client_id`,
/// `client_secret`) or `grant_type=refresh_token` (`refresh_token`, `client_id`, `client_secret`),
/// answering `{access_token, refresh_token, expires_in, token_type}` or `{error, error_description}`.
pub const OAUTH_TOKEN_PATH: &str = "/oauth2/token";
/// The form field carrying the authorisation's `state` in the code exchange. Splashtop's Open
/// API page says the state "is used later to generate the access token", so the exchange sends
/// it; that it travels as a form field named `state` (beside `code`) is assumed: the page does
/// not show the request.
pub const OAUTH_STATE_FIELD: &str = "state";
/// Optional answer field some servers add: the refresh token's remaining life in seconds. Read
/// when present; otherwise the documented 30 days from issue are assumed.
pub const OAUTH_REFRESH_EXPIRES_IN_KEY: &str = "refresh_token_expires_in";
/// The authorize page under the portal URL. Verified (Splashtop's Open API page); kept here
/// beside the token path so the whole OAuth route set is in one place.
pub const OAUTH_AUTHORIZE_PATH: &str = "/oauth2/authorize";

/// The test call of `check --online` is `basic_info` (contract: who am I, team id; the scope
/// names are the keys of `data.scopes`). What a refusal means (integrations/splashtop/README.md):
pub const ADVICE: crate::outbound::Advice = crate::outbound::Advice {
    unauthorized: "check auth.token of this vendor (an API token from the Splashtop console; \
        tokens can expire or be revoked), or for auth.type = \"oauth2\" authorise again at \
        /oauth/{vendor}/start",
    forbidden: "the token needs the psa and users scopes (and logs for the session logs), and \
        the plan must include attended support",
};
/// The scope deskbridge cannot work without.
pub const NEEDED_SCOPE: &str = "psa";

// Listing recent support sessions: the contract names no such call (create, state, close and
// the logs only), so a create call whose answer is lost cannot be matched to the session it may
// have made; the adapter keeps `Vendor::find_created`'s default ("cannot list") and the job's
// history says so. If the Open API reference has a list call, implement `find_created` with it,
// matching the `[deskbridge <job id>]` marker in `customer_issue`.
