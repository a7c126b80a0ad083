//! Reading a configuration file: TOML parse, `${ENV}` and `file:` resolution, typed
//! deserialisation, then validation. Every failure becomes one [`ConfigError`] naming the file,
//! the field (as a path like `itsm[0].auth.password`) and the reason, because the admin reading
//! it has only the file in front of them.

use super::Config;
use std::fmt;
use std::path::Path;

/// What is wrong with a configuration: the first error found in `file`, `field` and `reason`,
/// and every further one in `also` (`check` reports them all at once). A warning has the same
/// shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub field: String,
    pub reason: String,
    pub also: Vec<ConfigError>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.reason)?;
        } else {
            write!(f, "{}: {}: {}", self.file, self.field, self.reason)?;
        }
        for more in &self.also {
            write!(f, "\n{more}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub(crate) fn new(file: &str, field: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_string(),
            field: field.into(),
            reason: reason.into(),
            also: vec![],
        }
    }

    /// Several errors as one (the first with the rest in `also`); None when there are none.
    pub(crate) fn all(errors: Vec<ConfigError>) -> Option<ConfigError> {
        let mut flat = errors.into_iter().flat_map(ConfigError::each);
        let mut first = flat.next()?;
        first.also = flat.collect();
        Some(first)
    }

    /// This error and every one in `also`, each on its own.
    pub fn each(self) -> Vec<ConfigError> {
        let mut me = self;
        let rest = std::mem::take(&mut me.also);
        std::iter::once(me)
            .chain(rest.into_iter().flat_map(ConfigError::each))
            .collect()
    }
}

/// Load and validate the configuration at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(&file, "", format!("cannot read the file: {e}")))?;
    let mut cfg = load_str(&text, &file)?;
    cfg.source = Some(path.to_path_buf());
    Ok(cfg)
}

/// Load and validate configuration text; `file` is only used in error messages. Every error
/// found is reported (the first, with the rest in [`ConfigError::also`]); validation runs once
/// the file reads cleanly. Warnings land in [`Config::warnings`].
pub fn load_str(text: &str, file: &str) -> Result<Config, ConfigError> {
    let mut value: toml::Value = text
        .parse::<toml::Table>()
        .map(toml::Value::Table)
        .map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            ConfigError::new(
                file,
                format!("line {line} column {col}"),
                e.message().to_string(),
            )
        })?;
    let mut warnings = super::warnings::unexpanded(&value, file);
    let mut errors = vec![];
    resolve_indirections(&mut value, &mut String::new(), file, &mut errors);
    // `[[itsm]]` and `[[vendor]]` are read by kind, each into its adapter's own type.
    let (itsm, vendor) = match &mut value {
        toml::Value::Table(t) => (t.remove("itsm"), t.remove("vendor")),
        _ => (None, None),
    };
    let itsm = crate::itsm::registry::read(file, itsm).map_err(|e| errors.push(e));
    let main = read_main(value, file).map_err(|e| errors.push(e));
    let vendor = crate::remote::registry::read(file, vendor).map_err(|e| errors.push(e));
    if let Some(e) = ConfigError::all(errors) {
        return Err(e);
    }
    let (Ok(itsm), Ok(mut cfg), Ok(vendor)) = (itsm, main, vendor) else {
        return Err(ConfigError::new(
            file,
            "",
            "the configuration could not be read",
        ));
    };
    cfg.itsm = itsm;
    cfg.vendor = vendor;
    super::validate::validate(&cfg, file)?;
    warnings.extend(super::warnings::of_rules(&cfg, file));
    warnings.extend(super::warnings::deprecated(&cfg, file));
    cfg.warnings = warnings;
    Ok(cfg)
}

/// Everything but `[[itsm]]` and `[[vendor]]`, each section read on its own so an error in one
/// does not hide an error in another (and each rule likewise).
fn read_main(value: toml::Value, file: &str) -> Result<Config, ConfigError> {
    let toml::Value::Table(mut t) = value else {
        return Err(ConfigError::new(file, "", "not a table"));
    };
    let mut errors = vec![];
    let rules = t.remove("rule");
    let mut cfg: Config = match serde_path_to_error::deserialize(toml::Value::Table(t.clone())) {
        Ok(c) => c,
        Err(_) => {
            let known = super::sections::keys::<Config>();
            for key in t.keys().filter(|k| !known.contains(&k.as_str())) {
                let expected = super::sections::one_of(known);
                errors.push(ConfigError::new(
                    file,
                    key.clone(),
                    format!("unknown field `{key}`, expected {expected}"),
                ));
            }
            for (key, v) in t {
                let one = toml::Table::from_iter([(key, v)]);
                if let Err(e) =
                    serde_path_to_error::deserialize::<_, Config>(toml::Value::Table(one))
                {
                    errors.push(path_error(file, e));
                }
            }
            Config::default_unchecked()
        }
    };
    if let Some(rules) = rules {
        match rules {
            toml::Value::Array(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    match serde_path_to_error::deserialize(item) {
                        Ok(r) => cfg.rules.push(r),
                        Err(e) => {
                            let mut err = path_error(file, e);
                            err.field = format!("rule[{i}]{}", dotted(&err.field));
                            errors.push(err);
                        }
                    }
                }
            }
            _ => errors.push(ConfigError::new(
                file,
                "rule",
                "write rules as [[rule]] tables",
            )),
        }
    }
    match ConfigError::all(errors) {
        Some(e) => Err(e),
        None => Ok(cfg),
    }
}

fn dotted(path: &str) -> String {
    if path.is_empty() || path.starts_with('[') {
        path.to_string()
    } else {
        format!(".{path}")
    }
}

fn path_error<E: std::fmt::Display>(file: &str, e: serde_path_to_error::Error<E>) -> ConfigError {
    let field = e.path().to_string();
    let field = if field == "." { String::new() } else { field };
    ConfigError::new(file, field, e.into_inner().to_string())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

/// Replace every string `${VAR}` with the environment variable and every `file:/path` with the
/// file's content (one trailing newline trimmed), walking the tree so an error can name the key.
fn resolve_indirections(
    v: &mut toml::Value,
    path: &mut String,
    file: &str,
    errors: &mut Vec<ConfigError>,
) {
    match v {
        toml::Value::String(s) => match resolve_one(s) {
            Ok(Some(resolved)) => *s = resolved,
            Ok(None) => {}
            Err(reason) => errors.push(ConfigError::new(file, path.clone(), reason)),
        },
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                resolve_indirections(item, path, file, errors);
                path.truncate(len);
            }
        }
        toml::Value::Table(t) => {
            for (k, item) in t.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                resolve_indirections(item, path, file, errors);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn resolve_one(s: &str) -> Result<Option<String>, String> {
    if let Some(var) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("{s:?} is not a valid ${{ENV_VAR}} reference"));
        }
        return match std::env::var(var) {
            Ok(v) => Ok(Some(v)),
            Err(_) => Err(format!("environment variable {var} is not set")),
        };
    }
    if let Some(p) = s.strip_prefix("file:") {
        return match std::fs::read_to_string(p) {
            Ok(mut content) => {
                if content.ends_with('\n') {
                    content.pop();
                    if content.ends_with('\r') {
                        content.pop();
                    }
                }
                Ok(Some(content))
            }
            Err(e) => Err(format!("cannot read secret file {p}: {e}")),
        };
    }
    Ok(None)
}
