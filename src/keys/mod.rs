//! Signing keys: loading and generating RSA, EC P-256 and Ed25519 keys, RFC 7638 `kid`s, the
//! JWKS document (RFC 7517) and JWS signing (RS256, ES256, EdDSA) with pre-parsed key pairs.
//!
//! Private keys are PKCS#8 PEM files in the keys directory, named `<unix-seconds>-<kid>.pem`,
//! mode 0600; the key type decides the algorithm. Every key is published in the JWKS; per
//! algorithm, which one signs depends on rotation metadata (see [`rotation`]), or, without it,
//! the newest of that algorithm signs.

mod jwk;
pub mod rotation;
mod signing;

use jwk::jwks_document;
pub use jwk::{rsa_thumbprint, PublicJwk};
pub use signing::{jwt_algorithm, SigningKey, TokenType};

pub use crate::store::SigningAlg;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs8::der::pem::LineEnding;
use rsa::pkcs8::{EncodePrivateKey, SecretDocument};
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
    /// A file is not a PKCS#8 PEM RSA, EC P-256 or Ed25519 private key.
    #[error("{path} is not a PKCS#8 PEM RSA, EC P-256 or Ed25519 private key")]
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
    /// An algorithm is configured (server default or a client's) but no key of its type is
    /// loaded.
    #[error("no {0} signing key in the keys directory; run `tessera keys generate --alg {0}`")]
    Missing(SigningAlg),
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
            let der = match SecretDocument::from_pem(&pem) {
                Ok(("PRIVATE KEY", der)) => der,
                _ => return Err(KeyError::Invalid { path }),
            };
            let created = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split('-').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let key = SigningKey::from_pkcs8_der(der.as_bytes(), path, created)?;
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

    /// Loads `dir`, first generating there a key of each algorithm it lacks (RSA 2048 bits,
    /// P-256, Ed25519), for `--dev`.
    ///
    /// # Errors
    /// As [`KeySet::load`] and [`generate_key`].
    pub fn load_or_generate(dir: &Path) -> Result<Self, KeyError> {
        let have = match Self::load(dir) {
            Ok(set) => set.algorithms().collect(),
            Err(KeyError::Empty(_)) => Vec::new(),
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        for alg in SigningAlg::ALL.into_iter().filter(|a| !have.contains(a)) {
            generate_key(dir, alg, 2048)?;
        }
        Self::load(dir)
    }

    /// The `alg` key that signs at `now`: among keys of `alg` whose window contains `now`, the
    /// one that started signing last. If none qualifies (clock skew, misconfiguration), the one
    /// that started last among those already started, else the newest. `None` without a key of
    /// `alg`. Allocation-free (it runs on every token response).
    pub fn signing_key_at(&self, alg: SigningAlg, now: u64) -> Option<&SigningKey> {
        let of_alg = || (0..self.keys.len()).filter(move |i| self.keys[*i].alg == alg);
        let started = |i: &usize| self.windows[*i].0 <= now;
        let best = of_alg()
            .filter(|i| started(i) && now < self.windows[*i].1)
            .max_by_key(|i| self.windows[*i].0)
            .or_else(|| of_alg().filter(started).max_by_key(|i| self.windows[*i].0))
            .or_else(|| of_alg().last())?;
        Some(&self.keys[best])
    }

    /// The `alg` key that signs now, if there is one.
    pub fn signing_key(&self, alg: SigningAlg) -> Option<&SigningKey> {
        self.signing_key_at(alg, crate::clock::now())
    }

    /// The `alg` key that signs now.
    ///
    /// # Errors
    /// [`KeyError::Missing`] naming `tessera keys generate --alg` when there is none.
    pub fn require(&self, alg: SigningAlg) -> Result<&SigningKey, KeyError> {
        self.signing_key(alg).ok_or(KeyError::Missing(alg))
    }

    /// The algorithms with at least one key, in [`SigningAlg::ALL`] order.
    pub fn algorithms(&self) -> impl Iterator<Item = SigningAlg> + '_ {
        SigningAlg::ALL
            .into_iter()
            .filter(|alg| self.keys.iter().any(|k| k.alg == *alg))
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

/// Generates a key for `alg` (RSA of `bits`: 2048, 3072 or 4096; P-256 or Ed25519 otherwise)
/// and writes it as PKCS#8 PEM to `dir/<unix-seconds>-<kid>.pem` with mode 0600. Returns the
/// new `kid`.
///
/// # Errors
/// [`KeyError::Generate`] for an unsupported RSA size or a failed generation,
/// [`KeyError::Io`] when writing fails.
pub fn generate_key(dir: &Path, alg: SigningAlg, bits: usize) -> Result<String, KeyError> {
    let failed = |e: &dyn std::fmt::Display| KeyError::Generate(e.to_string());
    let der: Vec<u8> = match alg {
        SigningAlg::Rs256 => {
            if ![2048, 3072, 4096].contains(&bits) {
                return Err(KeyError::Generate(format!(
                    "{bits} bits is not one of 2048, 3072, 4096"
                )));
            }
            let private =
                RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).map_err(|e| failed(&e))?;
            let der = private.to_pkcs8_der().map_err(|e| failed(&e))?;
            der.as_bytes().to_vec()
        }
        SigningAlg::Es256 => {
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|e| failed(&e))?
                .as_ref()
                .to_vec()
        }
        // PKCS#8 v1 (RFC 5208), the form `openssl genpkey -algorithm ED25519` writes.
        SigningAlg::EdDsa => Ed25519KeyPair::generate_pkcs8v1(&SystemRandom::new())
            .map_err(|e| failed(&e))?
            .as_ref()
            .to_vec(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let kid = SigningKey::from_pkcs8_der(&der, PathBuf::new(), now)?.kid;
    let pem = SecretDocument::try_from(der)
        .and_then(|doc| doc.to_pem("PRIVATE KEY", LineEnding::LF))
        .map_err(|e| failed(&e))?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| KeyError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
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

    const RS: SigningAlg = SigningAlg::Rs256;

    #[test]
    fn the_signing_key_follows_the_rotation_windows() {
        let dir = tempfile::tempdir().unwrap();
        let old = generate_key(dir.path(), RS, 2048).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let new = generate_key(dir.path(), RS, 2048).unwrap();
        let ec = generate_key(dir.path(), SigningAlg::Es256, 0).unwrap();
        let now = crate::clock::now();
        let window = |not_before, retired_at| KeyMeta {
            not_before,
            retired_at,
        };
        let meta = HashMap::from([
            (old.clone(), window(0, Some(now + 100))),
            (new.clone(), window(now + 100, None)),
        ]);
        let set = KeySet::load_with(dir.path(), &meta, Some(60)).unwrap();
        let at = |alg, t| set.signing_key_at(alg, t).map(|k| k.kid.clone());
        assert_eq!(at(RS, now), Some(old.clone()), "published, not yet signing");
        assert_eq!(at(RS, now + 100), Some(new.clone()));
        assert_eq!(at(SigningAlg::Es256, now + 100), Some(ec), "per algorithm");
        assert_eq!(at(SigningAlg::EdDsa, now), None);
        assert!(matches!(
            set.require(SigningAlg::EdDsa),
            Err(KeyError::Missing(SigningAlg::EdDsa))
        ));
        assert_eq!(set.keys().count(), 3);
        // Retired longer ago than the retention: no longer published.
        let meta = HashMap::from([
            (old.clone(), window(0, Some(now - 100))),
            (new.clone(), window(now - 100, None)),
        ]);
        let set = KeySet::load_with(dir.path(), &meta, Some(60)).unwrap();
        assert!(set.by_kid(&old).is_none());
        assert_eq!(set.signing_key(RS).unwrap().kid, new);
    }

    #[test]
    fn every_algorithm_generates_loads_signs_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let set = KeySet::load_or_generate(dir.path()).unwrap();
        assert_eq!(set.algorithms().collect::<Vec<_>>(), SigningAlg::ALL);
        let jwks: serde_json::Value = serde_json::from_slice(set.jwks()).unwrap();
        for alg in SigningAlg::ALL {
            let key = set.require(alg).unwrap();
            let jwk = jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["kid"] == key.kid.as_str())
                .unwrap();
            assert_eq!(jwk["alg"], alg.as_str());
            assert_eq!(jwk["use"], "sig");
            assert!(jwk.get("d").is_none(), "no private member");
            let members = |names: &[&str]| names.iter().all(|m| jwk.get(*m).is_some());
            match alg {
                SigningAlg::Rs256 => assert!(members(&["n", "e"]) && jwk["kty"] == "RSA"),
                SigningAlg::Es256 => {
                    assert_eq!((&jwk["kty"], &jwk["crv"]), (&"EC".into(), &"P-256".into()));
                    // RFC 7518 §6.2.1.2/3: 32-octet coordinates, 43 base64url characters.
                    assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
                    assert_eq!(jwk["y"].as_str().unwrap().len(), 43);
                }
                SigningAlg::EdDsa => {
                    assert_eq!(
                        (&jwk["kty"], &jwk["crv"]),
                        (&"OKP".into(), &"Ed25519".into())
                    );
                    assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
                    assert!(jwk.get("y").is_none());
                }
            }
            let token = key
                .sign(TokenType::Access, &serde_json::json!({"sub": "x"}))
                .unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
            assert_eq!(header.typ.as_deref(), Some("at+jwt"));
            assert_eq!(header.alg, key.jwt_algorithm());
            let mut validation = jsonwebtoken::Validation::new(key.jwt_algorithm());
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            let data =
                jsonwebtoken::decode::<serde_json::Value>(&token, key.decoding_key(), &validation)
                    .unwrap();
            assert_eq!(data.claims["sub"], "x");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(&key.path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
        // Reloading finds the same kids (the thumbprint is stable across PEM round trips).
        let again = KeySet::load(dir.path()).unwrap();
        assert_eq!(again.etag(), set.etag());
    }
}
