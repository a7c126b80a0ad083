//! Secrets and durations as configuration types.
//!
//! A [`Secret`] can only be read through [`Secret::expose`], and its `Debug` never shows the
//! value, so a config struct can be logged or put in an error without leaking a password. The
//! `${ENV}` and `file:` indirections are resolved before deserialisation (see `load.rs`), so by
//! the time a `Secret` exists it holds the real value.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::time::Duration;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// What a blank secret in the file is told. Wherever it sits (an inbound scheme, a ticket
/// system's or a vendor's credential, an API token), a blank secret is refused: an unsigned
/// webhook must never pass for a signed one, and an empty password is never what was meant.
pub const BLANK_SECRET: &str =
    "is empty or blank (an unset or empty variable, or an empty file?): \
     a secret must have a value";

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().is_empty() {
            return Err(serde::de::Error::custom(BLANK_SECRET));
        }
        Ok(Secret(s))
    }
}

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The only way to the value: every call site is a place where a secret leaves the process
    /// on purpose (an Authorization header, an HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Constant-time comparison, for tokens presented by callers.
    pub fn matches(&self, presented: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        // An empty secret (an unset variable, an empty file) must never let an empty
        // credential through.
        !self.0.is_empty()
            && !presented.is_empty()
            && bool::from(self.0.as_bytes().ct_eq(presented))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A duration written as `"30s"`, `"5m"`, `"24h"` (humantime syntax).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl Dur {
    pub const fn secs(s: u64) -> Self {
        Dur(Duration::from_secs(s))
    }
    pub const fn millis(ms: u64) -> Self {
        Dur(Duration::from_millis(ms))
    }
}

impl fmt::Debug for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(s.trim()).map(Dur).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration {s:?} ({e}): write it like \"30s\", \"5m\" or \"24h\""
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert!(s.matches(b"hunter2-very-secret"));
        assert!(!s.matches(b"hunter2"));
        assert!(!Secret::new("").matches(b""), "empty never matches empty");
    }

    #[test]
    fn a_blank_secret_is_refused_when_read() {
        for blank in ["\"\"", "\"  \"", "\"\\n\""] {
            let e = serde_json::from_str::<Secret>(blank).unwrap_err();
            assert!(e.to_string().contains("empty or blank"), "{blank}: {e}");
        }
        assert!(serde_json::from_str::<Secret>("\"x\"").is_ok());
    }

    #[test]
    fn durations_parse_from_human_strings() {
        let d: Dur = serde_json::from_str("\"5m\"").unwrap();
        assert_eq!(d.0, Duration::from_secs(300));
        let err = serde_json::from_str::<Dur>("\"5 parsecs\"").unwrap_err();
        assert!(err.to_string().contains("invalid duration"), "{err}");
    }
}
