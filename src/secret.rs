//! Random secrets and their stored form. A leaf: imports nothing from the crate.
//!
//! Everything tessera hands out as a bearer secret (client secrets, refresh tokens, codes,
//! session cookies, `mfa_token`s, request ids) carries 256 bits from the OS CSPRNG, so a fast
//! hash is the right stored form: there is no dictionary to search, and a slow password hash
//! would cap the hot paths at the Argon2 rate. [`SecretHash`] is that stored form, as its own
//! type, so a raw secret cannot be passed where a hash is expected.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// 256 random bits, base64url without padding (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a high-entropy secret: lowercase hex SHA-256 (64 characters). Serialises
/// as that string. `Debug` shows only a prefix (a hash is not the secret, but it is a lookup
/// key).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretHash(String);

impl SecretHash {
    /// The hash of `secret`.
    pub fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            use std::fmt::Write;
            let _ = write!(hex, "{byte:02x}");
        }
        Self(hex)
    }

    /// The hex digest, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `secret` hashes to this value, compared in constant time.
    pub fn matches(&self, secret: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(Self::of(secret).0.as_bytes()))
    }
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretHash({}..)", &self.0[..self.0.len().min(8)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_256_bits() {
        let t = random_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 32);
        assert_ne!(t, random_token());
    }

    #[test]
    fn hash_is_hex_sha256_and_matches_in_constant_time() {
        let hash = SecretHash::of("abc");
        assert_eq!(
            hash.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(hash.matches("abc"));
        assert!(!hash.matches("abd"));
        assert_eq!(format!("{hash:?}"), "SecretHash(ba7816bf..)");
    }
}
