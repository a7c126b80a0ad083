//! Everything built from one configuration: the connections, the vendors, the templates.
//!
//! A reload builds a new `Runtime` and swaps it in whole; the store, the metrics and the audit
//! key live outside it because they outlive configurations. Jobs look up their connection,
//! vendor and rule by id in the runtime current when each step starts.

use crate::audit::AuditKey;
use crate::clock::Clock;
use crate::config::{ArtifactKind, Config, NoteSpec, RuleConfig, VendorOptions};
use crate::ids::{ConnectionId, VendorId};
use crate::itsm::{self, Itsm};
use crate::metrics::Metrics;
use crate::remote::{self, Vendor};
use crate::render::Templates;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Debug)]
pub struct Runtime {
    pub config: Config,
    pub itsm: HashMap<ConnectionId, Arc<dyn Itsm>>,
    pub vendors: HashMap<VendorId, Arc<dyn Vendor>>,
    pub templates: Templates,
}

/// Long-lived parts shared by every runtime.
#[derive(Debug, Clone)]
pub struct Shared {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub audit: Arc<AuditKey>,
    /// "Now" for every decision about a job's timing (the system clock, or a test's).
    pub clock: Clock,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Template(#[from] crate::render::RenderError),
    #[error("{file}: rule[{index}] ({name:?}).{field}: {reason}")]
    Rule {
        file: String,
        index: usize,
        name: String,
        field: String,
        reason: String,
    },
}

/// What a rule asks of a job, or the defaults when its rule has gone in a reload.
#[derive(Debug, Clone)]
pub struct Plan {
    pub link_note: NoteSpec,
    pub instructions_note: NoteSpec,
    pub summary_note: NoteSpec,
    pub expiry_note: NoteSpec,
    pub failure_note: NoteSpec,
    pub cancel_note: NoteSpec,
    pub collect: Vec<ArtifactKind>,
    pub options: VendorOptions,
}

impl From<&RuleConfig> for Plan {
    fn from(r: &RuleConfig) -> Self {
        Plan {
            link_note: r.link_note.clone(),
            instructions_note: r.instructions_note.clone(),
            summary_note: r.summary_note.clone(),
            expiry_note: r.expiry_note.clone(),
            failure_note: r.failure_note.clone(),
            cancel_note: r.cancel_note.clone(),
            collect: r.collect.clone(),
            options: r.vendor_options.clone(),
        }
    }
}

impl Default for Plan {
    fn default() -> Self {
        let spec = |t: &str| NoteSpec {
            template: t.into(),
            visibility: Default::default(),
        };
        Plan {
            link_note: spec("session_link"),
            instructions_note: spec("session_instructions"),
            summary_note: spec("session_summary"),
            expiry_note: spec("session_expired"),
            failure_note: spec("session_failed"),
            cancel_note: spec("session_cancelled"),
            collect: ArtifactKind::ALL.to_vec(),
            options: VendorOptions::default(),
        }
    }
}

/// Load the templates a configuration uses and check that every rule names existing ones:
/// `serve`, `check` and a reload all refuse the same mistakes.
pub fn load_templates(config: &Config) -> Result<Templates, BuildError> {
    let templates = Templates::load(config.templates.dir.as_deref())?;
    let file = config
        .source
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<config>".into());
    for (index, r) in config.rules.iter().enumerate() {
        for (field, spec) in [
            ("link_note.template", &r.link_note),
            ("instructions_note.template", &r.instructions_note),
            ("summary_note.template", &r.summary_note),
            ("expiry_note.template", &r.expiry_note),
            ("failure_note.template", &r.failure_note),
            ("cancel_note.template", &r.cancel_note),
        ] {
            if !templates.has(&spec.template) {
                return Err(BuildError::Rule {
                    file: file.clone(),
                    index,
                    name: r.name.clone(),
                    field: field.into(),
                    reason: format!("unknown template {:?}", spec.template),
                });
            }
        }
    }
    Ok(templates)
}

impl Runtime {
    pub fn build(config: Config, shared: &Shared) -> Result<Runtime, BuildError> {
        let templates = load_templates(&config)?;
        let timeout = config.worker.request_timeout.0;
        let trust = crate::outbound::Trust::new(config.server.ca_bundle.as_ref());
        let ictx = itsm::BuildCtx {
            metrics: shared.metrics.clone(),
            timeout,
            trust: trust.clone(),
        };
        let vctx = remote::BuildCtx {
            store: shared.store.clone(),
            metrics: shared.metrics.clone(),
            timeout,
            clock: shared.clock.clone(),
            trust,
        };
        for c in &config.itsm {
            shared.metrics.declare_connection(c.id.as_str());
        }
        let itsm = config
            .itsm
            .iter()
            .map(|c| (c.id.clone(), itsm::build(c, &ictx)))
            .collect();
        let vendors = config
            .vendor
            .iter()
            .map(|v| (v.id.clone(), remote::build(v, &vctx)))
            .collect();
        Ok(Runtime {
            config,
            itsm,
            vendors,
            templates,
        })
    }

    pub fn rule(&self, name: Option<&str>) -> Option<&RuleConfig> {
        let name = name?;
        self.config.rules.iter().find(|r| r.name == name)
    }

    pub fn plan(&self, rule: Option<&str>) -> Plan {
        self.rule(rule).map(Plan::from).unwrap_or_default()
    }
}

/// The current runtime, swappable by a reload.
#[derive(Debug, Clone)]
pub struct Current(Arc<RwLock<Arc<Runtime>>>);

impl Current {
    pub fn new(rt: Runtime) -> Self {
        Current(Arc::new(RwLock::new(Arc::new(rt))))
    }
    pub fn get(&self) -> Arc<Runtime> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    pub fn replace(&self, rt: Runtime) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(rt);
    }
}
