//! The AccessToken is a JWT (RFC 7519) whose `exp` claim is its expiry [verified]. deskbridge
//! only reads the claim to know when to renew; it does not verify the token's signature (it
//! has no key for it, and the vendor checks its own tokens).

use base64::Engine;

/// The `exp` claim (Unix seconds), or None when the token is not a JWT or carries no `exp`; the
/// caller then uses the token until the vendor refuses it (401), which renews it too.
pub fn expiry(token: &str) -> Option<i64> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match &claims["exp"] {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJpdEBhY21lLmV4YW1wbGUiLCJpYXQiOjE3NjM4MDAwMDAsImV4cCI6MTc2MzgwNzIwMH0.c2lnbmF0dXJl";

    #[test]
    fn the_exp_claim_is_read_from_the_payload() {
        assert_eq!(expiry(TOKEN), Some(1_763_807_200));
    }

    #[test]
    fn a_padded_payload_is_tolerated() {
        let padded = TOKEN.replacen(".c2ln", "=.c2ln", 1);
        assert_eq!(expiry(&padded), Some(1_763_807_200));
    }

    #[test]
    fn a_token_that_is_not_a_jwt_or_has_no_exp_has_no_known_expiry() {
        assert_eq!(expiry("opaque-token"), None);
        assert_eq!(expiry("a.b"), None);
        assert_eq!(expiry("a.b.c.d"), None);
        // {"sub":"x"}
        assert_eq!(expiry("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.x"), None);
        assert_eq!(expiry("eyJhbGciOiJub25lIn0.!!!.x"), None);
    }
}
