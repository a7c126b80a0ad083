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
