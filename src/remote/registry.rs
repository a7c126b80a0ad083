//! Every remote-support vendor deskbridge knows, one line each.
//!
//! An entry is the `KIND` static of a folder under `src/remote/`: the name `kind = "..."`
//! picks, the settings type its adapter reads (see `config/sections`), and its part in the
//! demo. Adding a vendor is a folder and a line here (and its `pub mod` line in
//! `remote/mod.rs`).

use super::{splashtop, sunlogin, VendorSettings};
use crate::config::sections::{self, DemoStart, Place, Section};
use crate::config::{ConfigError, PollConfig, RateLimit, VendorConfig};
use crate::demo::VendorSide;
use crate::ids::VendorId;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::sync::Arc;

pub type Entry = sections::Entry<dyn VendorSettings, dyn VendorSide>;

/// The registry. The demo runs every ticket system with the first, and the others with the
/// first ticket system.
pub static VENDORS: &[&Entry] = &[&splashtop::KIND, &sunlogin::KIND];

impl Entry {
    /// The entry of a vendor whose settings type is `S`.
    pub const fn of<S: VendorSettings + DeserializeOwned>(
        name: &'static str,
        demo: DemoStart<dyn VendorSide>,
    ) -> Self {
        sections::Entry {
            name,
            read: read_settings::<S>,
            shape: sections::shape::<S>,
            demo,
        }
    }
}

fn read_settings<S: VendorSettings + DeserializeOwned>(
    at: &Place,
    table: toml::Table,
) -> Result<Arc<dyn VendorSettings>, ConfigError> {
    Ok(Arc::new(sections::read_checked::<S>(at, table, S::check)?))
}

/// What every `[[vendor]]` table has, whatever its kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Common {
    id: VendorId,
    kind: String,
    base_url: String,
    #[serde(default)]
    poll: PollConfig,
    rate_limit: Option<RateLimit>,
    /// Read (and refused, naming this key, when unreadable) as the file is loaded.
    ca_bundle: Option<crate::outbound::CaBundle>,
}

impl sections::Common for Common {
    fn kind(&self) -> &str {
        &self.kind
    }
}

static SECTION: Section<dyn VendorSettings, dyn VendorSide> = Section {
    name: "vendor",
    noun: "vendors",
    registry: VENDORS,
    misfit: |key, kind, takes| {
        let takes: Vec<String> = takes.iter().map(|t| format!("{t:?}")).collect();
        format!("{kind} vendors take {key} type {}", takes.join(" or "))
    },
};

/// The `[[vendor]]` tables of a file, each read by its kind.
pub fn read(file: &str, tables: Option<toml::Value>) -> Result<Vec<VendorConfig>, ConfigError> {
    Ok(SECTION
        .read::<Common>(file, tables)?
        .into_iter()
        .map(|(c, entry, settings)| VendorConfig {
            id: c.id,
            kind: entry.kind(),
            base_url: c.base_url,
            poll: c.poll,
            rate_limit: c.rate_limit,
            ca_bundle: c.ca_bundle,
            settings,
        })
        .collect())
}
