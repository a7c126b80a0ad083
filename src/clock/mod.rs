//! Time: [`Millis`], wall-clock time as milliseconds since the Unix epoch with its RFC 3339
//! form for JSON (jobs store plain integers, cheap to compare and to put in index keys; humans
//! see RFC 3339), and [`Clock`], the source of "now" for every decision about a job's timing.

mod source;

pub use source::{Clock, ManualClock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub i64);

impl Millis {
    /// The wall clock. Job timing reads [`Clock::now`] instead, so tests can move it; this is
    /// for what follows the outside world's clocks (signatures, vendor tokens).
    pub fn now() -> Self {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Millis(d.as_millis() as i64)
    }
    pub fn plus(self, d: std::time::Duration) -> Self {
        Millis(self.0.saturating_add(d.as_millis() as i64))
    }
    pub fn since(self, earlier: Millis) -> std::time::Duration {
        std::time::Duration::from_millis(self.0.saturating_sub(earlier.0).max(0) as u64)
    }
    pub fn unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }
    pub fn from_unix_secs(s: i64) -> Self {
        Millis(s.saturating_mul(1000))
    }
    pub fn rfc3339(self) -> String {
        let nanos = (self.0 as i128) * 1_000_000;
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| self.0.to_string())
    }
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let t =
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
        Some(Millis((t.unix_timestamp_nanos() / 1_000_000) as i64))
    }
}

impl fmt::Debug for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Millis::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
    }
}

/// In the API description: an RFC 3339 date-time string, as it is serialised.
impl utoipa::PartialSchema for Millis {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

impl utoipa::ToSchema for Millis {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_through_rfc3339() {
        let m = Millis(1_763_800_000_123);
        assert_eq!(Millis::parse_rfc3339(&m.rfc3339()), Some(m));
        assert!(m.rfc3339().starts_with("2025-11-22T"));
    }
}
