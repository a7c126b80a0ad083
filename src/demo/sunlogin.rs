//! The Sunlogin side of the demo: not part of this build yet (issue 4).

use super::VendorSide;

pub async fn side() -> Option<Box<dyn VendorSide>> {
    None
}
