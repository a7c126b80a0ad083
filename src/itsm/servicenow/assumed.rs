//! ServiceNow facts deskbridge relies on beyond `shared/contracts/servicenow.md`, in one place.

use crate::outbound::Advice;

/// The test call of `check --online`: one row of the incident table through the Table API of
/// the contract, the same read every job starts with (a list of one row, so no sys_id is
/// needed). Assumed: a user who may read incidents may list one.
pub const TEST_PATH: &str = "/api/now/table/incident?sysparm_limit=1&sysparm_fields=sys_id";

/// What a refusal of the test call means (integrations/servicenow/README.md, Step 1).
pub const ADVICE: Advice = Advice {
    unauthorized: "check auth.username and auth.password (or auth.token) of this connection; \
        the user must be active, not locked out, and allowed web service access",
    forbidden: "give the integration user read on incident (the itil role), plus write on its \
        journal and attachments (integrations/servicenow/README.md, Step 1)",
};
