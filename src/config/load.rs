//! Reading a configuration file: TOML parse, `${ENV}` and `file:` resolution, typed
//! deserialisation, then validation. Every failure becomes one [`ConfigError`] naming the file,
//! the field (as a path like `itsm[0].auth.password`) and the reason, because the admin reading
//! it has only the file in front of them.

use super::Config;
use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub field: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{}: {}: {}", self.file, self.field, self.reason)
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub(crate) fn new(file: &str, field: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_string(),
            field: field.into(),
            reason: reason.into(),
        }
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

/// Load and validate configuration text; `file` is only used in error messages.
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
    resolve_indirections(&mut value, &mut String::new(), file)?;
    // `[[itsm]]` and `[[vendor]]` are read by kind, each into its adapter's own type.
    let (itsm, vendor) = match &mut value {
        toml::Value::Table(t) => (t.remove("itsm"), t.remove("vendor")),
        _ => (None, None),
    };
    let itsm = crate::itsm::registry::read(file, itsm)?;
    let mut cfg: Config = serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { String::new() } else { field };
        ConfigError::new(file, field, e.into_inner().to_string())
    })?;
    cfg.itsm = itsm;
    cfg.vendor = crate::remote::registry::read(file, vendor)?;
    super::validate::validate(&cfg, file)?;
    Ok(cfg)
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
) -> Result<(), ConfigError> {
    match v {
        toml::Value::String(s) => {
            if let Some(resolved) =
                resolve_one(s).map_err(|r| ConfigError::new(file, path.clone(), r))?
            {
                *s = resolved;
            }
        }
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                resolve_indirections(item, path, file)?;
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
                resolve_indirections(item, path, file)?;
                path.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
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
