//! The audit key: an Ed25519 key pair that signs every artifact manifest so an auditor can
//! prove the files on a closed ticket are the ones deskbridge collected. It comes from
//! `server.audit_key` (a secret holding a PKCS#8 PEM, the same for every replica) or, by
//! default, is generated on first start and kept in the data directory (mode 0600).
//!
//! Rotation: a new `server.audit_key`, with the old public key listed in
//! `server.audit_keys_previous`; each manifest names the key that signed it (`key_id`), and
//! `verify` accepts the current key and the previous ones.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "audit-key.ed25519";

pub struct AuditKey {
    signing: SigningKey,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey(public {})", self.public_key())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit key {path}: {reason}")]
    Key { path: String, reason: String },
}

pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// A short name for a public key: `ed25519:` and the first 16 hex digits of its SHA-256.
pub fn key_id(public_b64: &str) -> String {
    use sha2::{Digest, Sha256};
    let raw = B64.decode(public_b64.trim()).unwrap_or_default();
    format!("ed25519:{}", &hex::encode(Sha256::digest(&raw))[..16])
}

/// A base64 Ed25519 public key, or why it is not one.
pub fn parse_public_key(b64: &str) -> Result<VerifyingKey, String> {
    let raw = B64
        .decode(b64.trim())
        .map_err(|e| format!("{b64:?} is not base64 ({e})"))?;
    let raw: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
        format!(
            "{b64:?} is {} bytes, not a 32-byte Ed25519 public key",
            raw.len()
        )
    })?;
    VerifyingKey::from_bytes(&raw)
        .map_err(|e| format!("{b64:?} is not an Ed25519 public key ({e})"))
}

impl AuditKey {
    /// The key a configuration names: `server.audit_key`, else the one in `data_dir`.
    pub fn from_config(server: &crate::config::ServerConfig) -> Result<AuditKey, AuditError> {
        match &server.audit_key {
            Some(pem) => AuditKey::from_pem(pem.expose()).map_err(|reason| AuditError::Key {
                path: "server.audit_key".into(),
                reason,
            }),
            None => AuditKey::load_or_create(&server.data_dir),
        }
    }

    /// An Ed25519 private key in PKCS#8 PEM (`openssl genpkey -algorithm ed25519`).
    pub fn from_pem(pem: &str) -> Result<AuditKey, String> {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        SigningKey::from_pkcs8_pem(pem.trim())
            .map(|signing| AuditKey { signing })
            .map_err(|e| {
                format!(
                    "not an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----): {e}"
                )
            })
    }

    /// This key as PKCS#8 PEM (to move a generated key into `server.audit_key`).
    pub fn to_pem(&self) -> String {
        use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey};
        self.signing
            .to_pkcs8_pem(LineEnding::LF)
            .map(|p| p.to_string())
            .unwrap_or_default()
    }

    /// A new random key (tests, and the first start).
    pub fn generate() -> AuditKey {
        AuditKey {
            signing: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    /// Read the key from `data_dir`, creating it (readable by the owner only) on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<AuditKey, AuditError> {
        let path = key_path(data_dir);
        let fail = |reason: String| AuditError::Key {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let raw = B64
                    .decode(text.trim())
                    .map_err(|e| fail(format!("not base64: {e}")))?;
                let seed: [u8; 32] = raw
                    .try_into()
                    .map_err(|_| fail("not a 32-byte Ed25519 seed".into()))?;
                Ok(AuditKey {
                    signing: SigningKey::from_bytes(&seed),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(|e| fail(e.to_string()))?;
                let signing = SigningKey::generate(&mut rand::rngs::OsRng);
                write_private(&path, &B64.encode(signing.to_bytes()))
                    .map_err(|e| fail(e.to_string()))?;
                Ok(AuditKey { signing })
            }
            Err(e) => Err(fail(e.to_string())),
        }
    }

    /// Read an existing key; never create one (for `verify` and `check`).
    pub fn load_or_create_readonly(data_dir: &Path) -> Result<AuditKey, AuditError> {
        let path = key_path(data_dir);
        if !path.exists() {
            return Err(AuditError::Key {
                path: path.display().to_string(),
                reason: "no audit key here yet; pass --public-key".into(),
            });
        }
        Self::load_or_create(data_dir)
    }

    /// The public key, base64 of its 32 bytes.
    pub fn public_key(&self) -> String {
        B64.encode(self.signing.verifying_key().to_bytes())
    }

    pub fn sign(&self, msg: &[u8]) -> String {
        B64.encode(self.signing.sign(msg).to_bytes())
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}

/// Check `sig_b64` over `msg` with `public_b64`. False on any malformed input.
pub fn verify_signature(public_b64: &str, msg: &[u8], sig_b64: &str) -> bool {
    let Ok(pk) = B64.decode(public_b64.trim()) else {
        return false;
    };
    let Ok(pk) = <[u8; 32]>::try_from(pk.as_slice()) else {
        return false;
    };
    let Ok(vk) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    let Ok(sig) = B64.decode(sig_b64.trim()) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(&sig) else {
        return false;
    };
    vk.verify(msg, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_private_to_its_owner_and_signs_verifiably() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = AuditKey::load_or_create(dir.path()).unwrap();
        let k2 = AuditKey::load_or_create(dir.path()).unwrap();
        assert_eq!(
            k1.public_key(),
            k2.public_key(),
            "the second start reads the same key"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sig = k1.sign(b"manifest");
        assert!(verify_signature(&k1.public_key(), b"manifest", &sig));
        assert!(!verify_signature(&k1.public_key(), b"manifesT", &sig));
        assert!(!format!("{k1:?}").contains(&B64.encode(k1.signing.to_bytes())));
    }

    #[test]
    fn a_pem_key_round_trips_and_public_keys_are_checked() {
        let k = AuditKey::generate();
        let again = AuditKey::from_pem(&k.to_pem()).unwrap();
        assert_eq!(k.public_key(), again.public_key());
        assert!(
            AuditKey::from_pem("-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----")
                .is_err()
        );
        assert!(parse_public_key(&k.public_key()).is_ok());
        assert!(parse_public_key("AAAA").unwrap_err().contains("3 bytes"));
        assert!(key_id(&k.public_key()).starts_with("ed25519:"));
    }
}
