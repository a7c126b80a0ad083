//! `[[itsm]]` and `[[vendor]]` tables, read by kind.
//!
//! A table's `kind` picks an entry of its side's registry (`src/itsm/registry.rs`,
//! `src/remote/registry.rs`). The keys every kind takes go into the common part (`ItsmConfig`,
//! `VendorConfig`); everything else is read as that kind's own settings type, which its adapter
//! defines. Field paths and messages are the ones a single flat struct gave
//! (`itsm[0].auth.type: this auth type does not fit a servicenow connection`), and what a kind
//! takes is read off its settings type itself (see [`shape`]), so nothing here or in the
//! registries lists keys or auth types per system.

use super::ConfigError;
use serde::de::{self, value::MapDeserializer, DeserializeOwned};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// How the demo starts a kind's simulator side.
pub type DemoStart<D> = fn() -> crate::demo::Starting<D>;

/// One kind in a registry: the `kind = "..."` that picks it, how its settings are read, and its
/// part in the demo. `S` is the side's settings trait, `D` the side's demo trait; each side's
/// registry has the constructor (`Entry::of::<Settings>`).
pub struct Entry<S: ?Sized + 'static, D: ?Sized + 'static> {
    pub name: &'static str,
    pub(crate) read: fn(&Place, toml::Table) -> Result<Arc<S>, ConfigError>,
    pub(crate) shape: fn() -> Shape,
    pub demo: DemoStart<D>,
}

impl<S: ?Sized, D: ?Sized> Entry<S, D> {
    pub fn kind(&self) -> super::Kind {
        super::Kind::new(self.name)
    }
}

/// A kind's settings read from what is left of its table, then put to `check`: what serde
/// cannot check (a numeric id, a URL that parses).
pub fn read_checked<T: DeserializeOwned>(
    at: &Place,
    table: toml::Table,
    check: fn(&T) -> Result<(), Refusal>,
) -> Result<T, ConfigError> {
    let settings: T = at.read(table)?;
    check(&settings).map_err(|r| at.refuse(r))?;
    Ok(settings)
}

/// A check only the settings type can make, once serde has read it: the key at fault (relative
/// to the table) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub key: &'static str,
    pub reason: String,
}

/// Where a value sits in the file, for paths in messages: `itsm`, or `itsm[2]`.
pub struct Place<'a> {
    file: &'a str,
    section: &'static str,
    index: Option<usize>,
}

impl Place<'_> {
    fn path(&self) -> String {
        match self.index {
            Some(i) => format!("{}[{i}]", self.section),
            None => self.section.to_string(),
        }
    }

    pub fn refuse(&self, r: Refusal) -> ConfigError {
        ConfigError::new(self.file, format!("{}.{}", self.path(), r.key), r.reason)
    }

    /// `value` read as a `T`, with the paths and messages it would have in place: wrapped under
    /// the section's name, toml's own message still says ``in `itsm.auth` ``, as it did when the
    /// whole file was one struct.
    pub fn read<T: DeserializeOwned>(
        &self,
        value: impl Into<toml::Value>,
    ) -> Result<T, ConfigError> {
        let value = value.into();
        let wrapped = toml::Table::from_iter([(self.section.to_string(), value.clone())]);
        serde_path_to_error::deserialize::<_, BTreeMap<String, T>>(toml::Value::Table(wrapped))
            .map(|m| m.into_values().next().expect("the wrapper holds one value"))
            .map_err(|e| {
                let path = e.path().to_string();
                let below = path.strip_prefix(self.section).unwrap_or_default();
                let reason = e.into_inner().to_string();
                let mut field = format!("{}{below}", self.path());
                // Inside a tagged table (`auth = { type = ... }`) serde loses the path below
                // the table; a blank secret is then the blank string under it.
                if reason.contains(super::secret::BLANK_SECRET) {
                    if let Some(key) = descend(&value, below).and_then(blank_key) {
                        field = format!("{field}.{key}");
                    }
                }
                ConfigError::new(self.file, field, reason)
            })
    }
}

/// The value at `path` (`.auth`, `[0].auth`) under `v`.
fn descend<'v>(v: &'v toml::Value, path: &str) -> Option<&'v toml::Value> {
    let mut at = v;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !key.is_empty() {
            at = at.get(key)?;
        }
        if let Some(i) = index {
            at = at.get(i)?;
        }
    }
    Some(at)
}

/// The key of the first blank string in a table, searched depth first.
fn blank_key(v: &toml::Value) -> Option<String> {
    let toml::Value::Table(t) = v else {
        return None;
    };
    t.iter().find_map(|(k, v)| match v {
        toml::Value::String(s) if s.trim().is_empty() => Some(k.clone()),
        toml::Value::Table(_) => blank_key(v).map(|below| format!("{k}.{below}")),
        _ => None,
    })
}

/// One side's section: its name in the file, its registry, and its messages.
pub struct Section<S: ?Sized + 'static, D: ?Sized + 'static> {
    /// `itsm` or `vendor`.
    pub name: &'static str,
    /// `connections` or `vendors`, for messages.
    pub noun: &'static str,
    pub registry: &'static [&'static Entry<S, D>],
    /// The message for a `type` of a tagged key (`auth`, `inbound`) that another kind takes but
    /// this one does not: `(key, kind, the types this kind takes)`.
    pub misfit: fn(&str, &str, &[&str]) -> String,
}

/// The keys every table of a section has, whatever its kind; it must refuse unknown keys.
pub trait Common: DeserializeOwned {
    /// The `kind = "..."` given.
    fn kind(&self) -> &str;
}

/// One table as read: its common part `C`, its kind, its settings.
pub type Read<C, S, D> = (C, &'static Entry<S, D>, Arc<S>);

impl<S: ?Sized + 'static, D: ?Sized + 'static> Section<S, D> {
    /// Every table of the section (`value` is the array, when the file has one), in file order.
    pub fn read<C: Common>(
        &self,
        file: &str,
        value: Option<toml::Value>,
    ) -> Result<Vec<Read<C, S, D>>, ConfigError> {
        let Some(value) = value else {
            return Ok(vec![]);
        };
        let whole = Place {
            file,
            section: self.name,
            index: None,
        };
        let tables: Vec<toml::Table> = whole.read(value)?;
        let common = keys::<C>();
        let mut read = vec![];
        let mut errors = vec![];
        for (i, table) in tables.into_iter().enumerate() {
            let at = Place {
                file,
                section: self.name,
                index: Some(i),
            };
            match self.read_one(&at, common, table) {
                Ok(r) => read.push(r),
                Err(e) => errors.push(e),
            }
        }
        // Every table's error at once, not only the first table's.
        match ConfigError::all(errors) {
            Some(e) => Err(e),
            None => Ok(read),
        }
    }

    fn read_one<C: Common>(
        &self,
        at: &Place,
        common: &[&'static str],
        mut table: toml::Table,
    ) -> Result<Read<C, S, D>, ConfigError> {
        let shared: toml::Table = common
            .iter()
            .filter_map(|k| table.remove(*k).map(|v| (k.to_string(), v)))
            .collect();
        let c: C = at.read(shared)?;
        let kind = c.kind();
        let Some(entry) = self.registry.iter().find(|e| e.name == kind) else {
            let names: Vec<&str> = self.registry.iter().map(|e| e.name).collect();
            return Err(at.refuse(Refusal {
                key: "kind",
                reason: format!("unknown variant `{kind}`, expected {}", one_of(&names)),
            }));
        };
        self.check(at, entry, common, &table)?;
        let settings = (entry.read)(at, table)?;
        Ok((c, entry, settings))
    }

    /// Keys and `type`s the chosen kind does not take, named as another kind's when they are.
    fn check(
        &self,
        at: &Place,
        entry: &Entry<S, D>,
        common: &[&'static str],
        table: &toml::Table,
    ) -> Result<(), ConfigError> {
        let shape = (entry.shape)();
        let shapes: Vec<(&str, Shape)> = self
            .registry
            .iter()
            .map(|e| (e.name, (e.shape)()))
            .collect();
        if let Some(key) = table.keys().find(|k| !shape.keys.contains(&k.as_str())) {
            let others: Vec<&str> = shapes
                .iter()
                .filter(|(_, s)| s.keys.contains(&key.as_str()))
                .map(|(name, _)| *name)
                .collect();
            let reason = if others.is_empty() {
                let all: Vec<&str> = common.iter().chain(shape.keys).copied().collect();
                format!("unknown field `{key}`, expected {}", one_of(&all))
            } else {
                format!("only {} {} take this key", others.join(" and "), self.noun)
            };
            return Err(ConfigError::new(
                at.file,
                format!("{}.{key}", at.path()),
                reason,
            ));
        }
        for (key, takes) in &shape.tagged {
            let given = table
                .get(*key)
                .and_then(|v| v.get("type"))
                .and_then(|t| t.as_str());
            let Some(given) = given.filter(|t| !takes.contains(t)) else {
                continue;
            };
            let elsewhere = shapes.iter().any(|(_, s)| {
                s.tagged
                    .iter()
                    .any(|(k, types)| k == key && types.contains(&given))
            });
            if elsewhere {
                return Err(ConfigError::new(
                    at.file,
                    format!("{}.{key}.type", at.path()),
                    (self.misfit)(key, entry.name, takes),
                ));
            }
        }
        Ok(())
    }
}

/// serde's way of listing what it expects: "`a`", "`a` or `b`", "one of `a`, `b`, `c`".
pub fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        more => format!("one of {}", more.join(", ")),
    }
}

/// What a kind's settings type takes: its keys, and for each key that holds a tagged table
/// (`auth = { type = "basic", ... }`) the types it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub keys: &'static [&'static str],
    pub tagged: Vec<(&'static str, &'static [&'static str])>,
}

/// The shape of `T`, read off its derived `Deserialize` (which must refuse unknown keys).
pub fn shape<T: DeserializeOwned>() -> Shape {
    let keys = keys::<T>();
    let tagged = keys
        .iter()
        .filter_map(|k| types::<T>(k).map(|t| (*k, t)))
        .collect();
    Shape { keys, tagged }
}

/// A key, and a `type`, that no configuration has.
const NOTHING: &str = "\u{0}";

/// Fed a key or a `type` it cannot take, a derived `Deserialize` names everything it expects;
/// this error keeps that list.
#[derive(Debug)]
enum Probe {
    Fields(&'static [&'static str]),
    Variants(&'static [&'static str]),
    Other,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Probe {}

impl de::Error for Probe {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Probe::Other
    }
    fn unknown_field(_: &str, expected: &'static [&'static str]) -> Self {
        Probe::Fields(expected)
    }
    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        Probe::Variants(expected)
    }
}

/// The keys a struct that refuses unknown keys takes; none for anything else.
pub fn keys<T: DeserializeOwned>() -> &'static [&'static str] {
    let probe = MapDeserializer::<_, Probe>::new(std::iter::once((NOTHING, NOTHING)));
    match T::deserialize(probe) {
        Err(Probe::Fields(keys)) => keys,
        _ => &[],
    }
}

/// The `type`s the tagged table under `key` takes, when `key` holds one.
fn types<T: DeserializeOwned>(key: &'static str) -> Option<&'static [&'static str]> {
    let inner = MapDeserializer::<_, Probe>::new(std::iter::once(("type", NOTHING)));
    match T::deserialize(MapDeserializer::new(std::iter::once((key, inner)))) {
        Err(Probe::Variants(types)) => Some(types),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
