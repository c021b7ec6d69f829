//! Signing keys: loading and generating RSA keys, RFC 7638 `kid`s, the JWKS document (RFC 7517)
//! and RS256 JWS signing (RFC 7515/7518 §3.3) with a pre-parsed key pair.
//!
//! Private keys are PKCS#8 PEM files in the keys directory, named `<unix-seconds>-<kid>.pem`,
//! mode 0600. Every key is published in the JWKS; which one signs depends on rotation metadata
//! (see [`rotation`]), or, without it, the newest signs.

pub mod rotation;
mod signing;

use signing::jwks_document;
pub use signing::{rsa_thumbprint, SigningKey, TokenType};

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};

use crate::store::KeyMeta;

/// Errors loading, generating or using keys. Messages name files, never key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the keys directory failed.
    #[error("keys dir {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not a PKCS#8 PEM RSA private key.
    #[error("{path} is not a PKCS#8 PEM RSA private key")]
    Invalid {
        /// The offending file.
        path: PathBuf,
    },
    /// RSA key generation failed or the size is not 2048, 3072 or 4096.
    #[error("key generation: {0}")]
    Generate(String),
    /// No key in the directory.
    #[error("no signing key in {0}; run `tessera keys generate`")]
    Empty(PathBuf),
    /// The signature operation failed (should not happen with a valid key).
    #[error("signing failed")]
    Sign,
}

/// All loaded keys with their metadata. Every key is published and verifies; the one that
/// signs is chosen by time (see [`KeySet::signing_key`]).
pub struct KeySet {
    keys: Vec<SigningKey>,
    /// Per key (same order): unix seconds from which it signs, and until which.
    windows: Vec<(u64, u64)>,
    by_kid: HashMap<String, usize>,
    jwks: bytes::Bytes,
    etag: String,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field(
                "kids",
                &self.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl KeySet {
    /// Loads every `*.pem` file in `dir`, without rotation metadata: each key signs from its
    /// creation time, so the newest signs.
    ///
    /// # Errors
    /// [`KeyError::Io`] / [`KeyError::Invalid`] for unreadable files; [`KeyError::Empty`] when
    /// there is no key.
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        Self::load_with(dir, &HashMap::new(), None)
    }

    /// Loads every `*.pem` file in `dir` with rotation `meta` (by kid). With `retention`
    /// (seconds a retired key must stay published: longest token lifetime plus JWKS cache age),
    /// keys retired longer ago than that are left out.
    ///
    /// # Errors
    /// As [`KeySet::load`].
    pub fn load_with(
        dir: &Path,
        meta: &HashMap<String, KeyMeta>,
        retention: Option<u64>,
    ) -> Result<Self, KeyError> {
        let entries = fs::read_dir(dir).map_err(|source| KeyError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pem"))
            .collect();
        paths.sort();
        let now = crate::clock::now();
        let mut keys = Vec::with_capacity(paths.len());
        let mut windows = Vec::with_capacity(paths.len());
        for path in paths {
            let pem = fs::read_to_string(&path).map_err(|source| KeyError::Io {
                path: path.clone(),
                source,
            })?;
            let private = RsaPrivateKey::from_pkcs8_pem(&pem)
                .map_err(|_| KeyError::Invalid { path: path.clone() })?;
            let created = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split('-').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let key = SigningKey::from_private(&private, path, created)?;
            let window = match meta.get(&key.kid) {
                Some(m) => (m.not_before, m.retired_at.unwrap_or(u64::MAX)),
                None => (created, u64::MAX),
            };
            if retention.is_some_and(|r| window.1 != u64::MAX && window.1.saturating_add(r) < now) {
                continue;
            }
            keys.push(key);
            windows.push(window);
        }
        if keys.is_empty() {
            return Err(KeyError::Empty(dir.to_owned()));
        }
        let by_kid = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.kid.clone(), i))
            .collect();
        let jwks = bytes::Bytes::from(jwks_document(&keys));
        let etag = format!(
            "\"{}\"",
            &URL_SAFE_NO_PAD.encode(Sha256::digest(&jwks))[..22]
        );
        Ok(Self {
            keys,
            windows,
            by_kid,
            jwks,
            etag,
        })
    }

    /// Loads `dir`, first generating a 2048-bit key there if it holds none (for `--dev`).
    ///
    /// # Errors
    /// As [`KeySet::load`] and [`generate_key`].
    pub fn load_or_generate(dir: &Path) -> Result<Self, KeyError> {
        match Self::load(dir) {
            Err(KeyError::Empty(_)) => {
                generate_key(dir, 2048)?;
                Self::load(dir)
            }
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                generate_key(dir, 2048)?;
                Self::load(dir)
            }
            other => other,
        }
    }

    /// The key that signs at `now`: among keys whose window contains `now`, the one that
    /// started signing last. If none qualifies (clock skew, misconfiguration), the key that
    /// started last among those already started, else the newest.
    pub fn signing_key_at(&self, now: u64) -> &SigningKey {
        let started = |i: &usize| self.windows[*i].0 <= now;
        let best = (0..self.keys.len())
            .filter(|i| started(i) && now < self.windows[*i].1)
            .max_by_key(|i| self.windows[*i].0)
            .or_else(|| {
                (0..self.keys.len())
                    .filter(started)
                    .max_by_key(|i| self.windows[*i].0)
            })
            .unwrap_or(self.keys.len() - 1);
        &self.keys[best]
    }

    /// The key that signs now.
    pub fn signing_key(&self) -> &SigningKey {
        self.signing_key_at(crate::clock::now())
    }

    /// The key with this `kid`, if published.
    pub fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        self.by_kid.get(kid).map(|&i| &self.keys[i])
    }

    /// All keys, oldest file first, with their signing windows (unix seconds, from..until).
    pub fn keys(&self) -> impl Iterator<Item = (&SigningKey, (u64, u64))> {
        self.keys.iter().zip(self.windows.iter().copied())
    }

    /// The serialised JWKS document (RFC 7517 §5), built once at load; cloning is a
    /// reference-count increment.
    pub fn jwks(&self) -> &bytes::Bytes {
        &self.jwks
    }

    /// Strong entity tag of the JWKS document (RFC 9110 §8.8.3).
    pub fn etag(&self) -> &str {
        &self.etag
    }
}

/// Generates an RSA key of `bits` (2048, 3072 or 4096) and writes it to
/// `dir/<unix-seconds>-<kid>.pem` with mode 0600. Returns the new `kid`.
///
/// # Errors
/// [`KeyError::Generate`] for an unsupported size, [`KeyError::Io`] when writing fails.
pub fn generate_key(dir: &Path, bits: usize) -> Result<String, KeyError> {
    if ![2048, 3072, 4096].contains(&bits) {
        return Err(KeyError::Generate(format!(
            "{bits} bits is not one of 2048, 3072, 4096"
        )));
    }
    let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
    let kid = rsa_thumbprint(&n, &e);
    let pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| KeyError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let path = dir.join(format!("{now:011}-{kid}.pem"));
    write_private(&path, pem.as_bytes()).map_err(io(&path))?;
    Ok(kid)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_key_follows_the_rotation_windows() {
        let dir = tempfile::tempdir().unwrap();
        let old = generate_key(dir.path(), 2048).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let new = generate_key(dir.path(), 2048).unwrap();
        let now = crate::clock::now();
        let meta = HashMap::from([
            (
                old.clone(),
                KeyMeta {
                    not_before: 0,
                    retired_at: Some(now + 100),
                },
            ),
            (
                new.clone(),
                KeyMeta {
                    not_before: now + 100,
                    retired_at: None,
                },
            ),
        ]);
        let set = KeySet::load_with(dir.path(), &meta, Some(60)).unwrap();
        assert_eq!(
            set.signing_key_at(now).kid,
            old,
            "published but not yet signing"
        );
        assert_eq!(set.signing_key_at(now + 100).kid, new);
        assert_eq!(set.keys().count(), 2);
        // Retired longer ago than the retention: no longer published.
        let meta = HashMap::from([
            (
                old.clone(),
                KeyMeta {
                    not_before: 0,
                    retired_at: Some(now - 100),
                },
            ),
            (
                new.clone(),
                KeyMeta {
                    not_before: now - 100,
                    retired_at: None,
                },
            ),
        ]);
        let set = KeySet::load_with(dir.path(), &meta, Some(60)).unwrap();
        assert!(set.by_kid(&old).is_none());
        assert_eq!(set.signing_key().kid, new);
    }

    #[test]
    fn generate_load_sign_verify() {
        let dir = tempfile::tempdir().unwrap();
        let kid = generate_key(dir.path(), 2048).unwrap();
        let set = KeySet::load(dir.path()).unwrap();
        assert_eq!(set.signing_key().kid, kid);
        assert!(set.etag().starts_with('"'));
        let jwks: serde_json::Value = serde_json::from_slice(set.jwks()).unwrap();
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["kid"], kid.as_str());
        assert_eq!(jwk["e"], "AQAB");
        assert!(jwk.get("d").is_none());
        let token = set
            .signing_key()
            .sign(TokenType::Access, &serde_json::json!({"sub": "x"}))
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            set.signing_key().decoding_key(),
            &validation,
        )
        .unwrap();
        assert_eq!(data.claims["sub"], "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&set.signing_key().path)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
