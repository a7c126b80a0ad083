//! The schemes several systems share: a secret header, HTTP Basic.

use super::*;

const BODY: &[u8] = br#"{"event_id":"e1","sys_id":"abc"}"#;

#[test]
fn a_shared_header_must_carry_the_configured_secret() {
    let auth = SharedHeader {
        header: "X-Deskbridge-Token".into(),
        secret: Secret::new("tok"),
    };
    let ok = headers(&[("x-deskbridge-token", "tok".into())]);
    assert_eq!(auth.verify(&ok, BODY).unwrap().bytes(), BODY);
    let wrong = headers(&[("x-deskbridge-token", "nope".into())]);
    assert_eq!(
        auth.verify(&wrong, BODY).unwrap_err(),
        VerifyError::BadCredentials("x-deskbridge-token".into())
    );
    assert_eq!(
        auth.verify(&HeaderMap::new(), BODY).unwrap_err(),
        VerifyError::MissingHeader("x-deskbridge-token".into())
    );
}

#[test]
fn basic_inbound_compares_user_and_password() {
    let basic = Basic {
        username: "fs".into(),
        password: Secret::new("pw"),
    };
    let with = |creds: &str| {
        let v = base64::engine::general_purpose::STANDARD.encode(creds);
        headers(&[("authorization", format!("Basic {v}"))])
    };
    assert!(verify_basic(&basic, &with("fs:pw"), BODY).is_ok());
    assert_eq!(
        verify_basic(&basic, &with("fs:px"), BODY).unwrap_err(),
        VerifyError::BadCredentials("authorization".into())
    );
    let bearer = headers(&[("authorization", "Bearer pw".into())]);
    assert!(matches!(
        verify_basic(&basic, &bearer, BODY),
        Err(VerifyError::Malformed { .. })
    ));
}

/// Issue 9 item 1: a webhook signed with an empty key is never accepted, whichever scheme.
#[test]
fn a_blank_secret_verifies_nothing_even_a_body_signed_with_the_empty_key() {
    let blank = Secret::new("");
    let sig = hmac("", &[BODY]).finalize().into_bytes();
    assert_eq!(
        verify_mac(&blank, "x-sig", &[BODY], &sig).unwrap_err(),
        VerifyError::BadSignature("x-sig".into())
    );
    let shared = SharedHeader {
        header: "X-Token".into(),
        secret: blank.clone(),
    };
    let empty = headers(&[("x-token", "".into())]);
    assert!(shared.verify(&empty, BODY).is_err());
    let basic = Basic {
        username: "fs".into(),
        password: blank,
    };
    let v = base64::engine::general_purpose::STANDARD.encode("fs:");
    let h = headers(&[("authorization", format!("Basic {v}"))]);
    assert!(verify_basic(&basic, &h, BODY).is_err());
}
