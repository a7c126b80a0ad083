//! Every ticket system deskbridge knows, one line each.
//!
//! An entry is the `KIND` static of a folder under `src/itsm/`: the name `kind = "..."` picks,
//! the settings type its adapter reads (see `config/sections`), and its part in the demo.
//! Adding a system is a folder and a line here (and its `pub mod` line in `itsm/mod.rs`).

use super::{freshservice, jira, servicenow, zendesk, ItsmSettings};
use crate::config::sections::{self, DemoStart, Place, Section};
use crate::config::{ConfigError, ItsmConfig, RateLimit};
use crate::demo::ItsmSide;
use crate::ids::ConnectionId;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::sync::Arc;

pub type Entry = sections::Entry<dyn ItsmSettings, dyn ItsmSide>;

/// The registry, in the order `check` and the demo show them.
pub static SYSTEMS: &[&Entry] = &[
    &servicenow::KIND,
    &jira::KIND,
    &zendesk::KIND,
    &freshservice::KIND,
];

impl Entry {
    /// The entry of a system whose settings type is `S`.
    pub const fn of<S: ItsmSettings + DeserializeOwned>(
        name: &'static str,
        demo: DemoStart<dyn ItsmSide>,
    ) -> Self {
        sections::Entry {
            name,
            read: read_settings::<S>,
            shape: sections::shape::<S>,
            demo,
        }
    }
}

fn read_settings<S: ItsmSettings + DeserializeOwned>(
    at: &Place,
    table: toml::Table,
) -> Result<Arc<dyn ItsmSettings>, ConfigError> {
    Ok(Arc::new(sections::read_checked::<S>(at, table, S::check)?))
}

/// What every `[[itsm]]` table has, whatever its kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Common {
    id: ConnectionId,
    kind: String,
    base_url: String,
    rate_limit: Option<RateLimit>,
    /// Read (and refused, naming this key, when unreadable) as the file is loaded.
    ca_bundle: Option<crate::outbound::CaBundle>,
}

impl sections::Common for Common {
    fn kind(&self) -> &str {
        &self.kind
    }
}

static SECTION: Section<dyn ItsmSettings, dyn ItsmSide> = Section {
    name: "itsm",
    noun: "connections",
    registry: SYSTEMS,
    misfit: |key, kind, _| match key {
        "inbound" => format!("{kind} cannot send this inbound type (see contracts)"),
        _ => format!("this {key} type does not fit a {kind} connection"),
    },
};

/// The `[[itsm]]` tables of a file, each read by its kind.
pub fn read(file: &str, tables: Option<toml::Value>) -> Result<Vec<ItsmConfig>, ConfigError> {
    Ok(SECTION
        .read::<Common>(file, tables)?
        .into_iter()
        .map(|(c, entry, settings)| ItsmConfig {
            id: c.id,
            kind: entry.kind(),
            base_url: c.base_url,
            rate_limit: c.rate_limit,
            ca_bundle: c.ca_bundle,
            settings,
        })
        .collect())
}
