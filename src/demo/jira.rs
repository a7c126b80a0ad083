//! The jira side of the demo: not part of this build yet (issue 3).

use super::ItsmSide;

pub async fn side() -> Option<Box<dyn ItsmSide>> {
    None
}
