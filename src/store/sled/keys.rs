//! Key layouts of the store's trees. Parts are joined with a 0 byte, which cannot occur in
//! connection ids (validated) and is stripped from ticket refs and delivery ids on the way in.

use crate::clock::Millis;
use crate::ids::JobId;

pub(super) fn due(at: Millis, id: &JobId) -> Vec<u8> {
    let mut k = Vec::with_capacity(24);
    k.extend_from_slice(&(at.0.max(0) as u64).to_be_bytes());
    k.extend_from_slice(id.as_bytes());
    k
}

pub(super) fn due_parts(k: &[u8]) -> Option<(Millis, JobId)> {
    if k.len() != 24 {
        return None;
    }
    let at = u64::from_be_bytes(k[..8].try_into().ok()?);
    Some((Millis(at as i64), JobId::from_slice(&k[8..])?))
}

pub(super) fn joined(parts: &[&str]) -> Vec<u8> {
    let mut k = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend(p.bytes().filter(|b| *b != 0));
    }
    k
}

/// `parts` joined, then a trailing separator: the prefix of every key under it.
pub(super) fn prefix(parts: &[&str]) -> Vec<u8> {
    let mut k = joined(parts);
    k.push(0);
    k
}

pub(super) fn ticket_job(conn: &str, ticket: &str, id: &JobId) -> Vec<u8> {
    let mut k = prefix(&[conn, ticket]);
    k.extend_from_slice(id.as_bytes());
    k
}

pub(super) fn state(code: u8, id: &JobId) -> Vec<u8> {
    let mut k = vec![code];
    k.extend_from_slice(id.as_bytes());
    k
}
