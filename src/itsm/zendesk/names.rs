//! Names behind ids. A ticket carries `group_id`, `brand_id`, `requester_id` and `assignee_id`;
//! rules match on the group's and brand's names and notes show people's names and e-mails.
//! Groups, brands and people change rarely, so each answer is kept for a few minutes per
//! connection: a busy desk does not pay three or four extra calls for every click.

use super::assumed;
use super::client::Client;
use super::text;
use crate::itsm::{ItsmError, Result};
use crate::ticket::Person;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a name is trusted before it is read again.
pub const TTL: Duration = Duration::from_secs(300);
/// Past this many entries the cache starts over, so it cannot grow without bound.
const MAX_ENTRIES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Group,
    Brand,
    User,
}

impl Kind {
    /// The path prefix and the answer's object key.
    fn route(self) -> (&'static str, &'static str) {
        match self {
            Kind::Group => ("/api/v2/groups", "group"),
            Kind::Brand => (assumed::BRAND_PATH, assumed::BRAND_KEY),
            Kind::User => (assumed::USER_PATH, assumed::USER_KEY),
        }
    }
}

#[derive(Debug, Default)]
pub struct Names {
    cache: Mutex<HashMap<(Kind, u64), (Instant, Value)>>,
}

impl Names {
    pub async fn group(&self, c: &Client, id: u64) -> Result<Option<String>> {
        Ok(self
            .lookup(c, Kind::Group, id)
            .await?
            .and_then(|g| text(&g, "name")))
    }

    pub async fn brand(&self, c: &Client, id: u64) -> Result<Option<String>> {
        Ok(self
            .lookup(c, Kind::Brand, id)
            .await?
            .and_then(|b| text(&b, "name")))
    }

    pub async fn user(&self, c: &Client, id: u64) -> Result<Option<Person>> {
        let Some(u) = self.lookup(c, Kind::User, id).await? else {
            return Ok(None);
        };
        let p = Person {
            name: text(&u, "name"),
            email: text(&u, "email"),
        };
        Ok((p.name.is_some() || p.email.is_some()).then_some(p))
    }

    fn cached(&self, key: (Kind, u64)) -> Option<Value> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
    }

    /// The object behind `id`. Whether a refusal (403, 404) fails the read is the caller's
    /// choice: a group does (rules match on it), a user or brand only leaves its value unknown.
    async fn lookup(&self, c: &Client, kind: Kind, id: u64) -> Result<Option<Value>> {
        if let Some(v) = self.cached((kind, id)) {
            return Ok(Some(v));
        }
        let (path, key) = kind.route();
        let v = c.get(&format!("{path}/{id}")).await?;
        let obj = v
            .get(key)
            .filter(|o| o.is_object())
            .cloned()
            .ok_or_else(|| {
                ItsmError::Contract(format!(
                    "{}: the answer to {path}/{id} has no `{key}` object",
                    c.what
                ))
            })?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert((kind, id), (Instant::now(), obj.clone()));
        Ok(Some(obj))
    }
}
