//! Encryption at rest for secrets tessera must read back (TOTP secrets): AES-256-GCM from
//! aws-lc-rs with a random 96-bit nonce per message, the data key from `TESSERA_DATA_KEY`.
//!
//! A sealed value is base64url(nonce ‖ ciphertext ‖ tag). The associated data binds each value
//! to its purpose and owner (e.g. `totp:<sub>`), so a sealed secret cannot be moved to another
//! user. A wrong key fails the tag check: it is detected, never turned into garbage.

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::error::StoreError;
use crate::store::{Backend, Store};

/// Errors of the data key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DataKeyError {
    /// `TESSERA_DATA_KEY` is not 32 bytes of standard base64.
    #[error(
        "the data key must be 32 random bytes in standard base64 (e.g. `openssl rand -base64 32`)"
    )]
    Malformed,
    /// Decryption failed: wrong key, or the value was altered.
    #[error(
        "sealed data does not open with this data key (wrong TESSERA_DATA_KEY, or tampered data)"
    )]
    WrongKey,
}

/// The AES-256-GCM data key, and an HMAC-SHA256 key derived from it (for values every instance
/// must verify without shared state, such as DPoP nonces).
pub struct DataKey(RandomizedNonceKey, aws_lc_rs::hmac::Key);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// A sealed constant stored on first start; later starts must open it (see [`DataKey::check`]).
const CHECK_PLAINTEXT: &[u8] = b"tessera data key check v1";
const CHECK_AAD: &str = "data-key-check";

impl DataKey {
    /// Parses standard base64 of exactly 32 bytes.
    ///
    /// # Errors
    /// [`DataKeyError::Malformed`].
    pub fn from_base64(encoded: &str) -> Result<Self, DataKeyError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| DataKeyError::Malformed)?;
        Self::from_bytes(&bytes)
    }

    /// A fresh random key (for `--dev` and tests).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        // 32 bytes is always a valid AES-256 key.
        Self::from_bytes(&bytes).unwrap_or_else(|_| unreachable!())
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, DataKeyError> {
        if bytes.len() != 32 {
            return Err(DataKeyError::Malformed);
        }
        // The MAC key is HMAC(data key, label): independent of the encryption key's use.
        let derive = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, bytes);
        let mac = aws_lc_rs::hmac::sign(&derive, b"tessera mac key v1");
        let mac = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, mac.as_ref());
        RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map(|key| Self(key, mac))
            .map_err(|_| DataKeyError::Malformed)
    }

    /// HMAC-SHA256 of `message` under the derived MAC key, bound to `context`.
    pub fn mac(&self, context: &str, message: &[u8]) -> aws_lc_rs::hmac::Tag {
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&self.1);
        ctx.update(context.as_bytes());
        ctx.update(&[0]);
        ctx.update(message);
        ctx.sign()
    }

    /// Encrypts `plaintext` bound to `context` (associated data).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let mut data = plaintext.to_vec();
        match self
            .0
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut data)
        {
            Ok(nonce) => {
                let mut out = nonce.as_ref().to_vec();
                out.extend_from_slice(&data);
                URL_SAFE_NO_PAD.encode(out)
            }
            // Sealing only fails for absurd lengths (> 64 GiB).
            Err(_) => String::new(),
        }
    }

    /// Decrypts a value sealed with `context`.
    ///
    /// # Errors
    /// [`DataKeyError::WrongKey`] for a wrong key, wrong context or altered data.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, DataKeyError> {
        let raw = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| DataKeyError::WrongKey)?;
        if raw.len() < NONCE_LEN {
            return Err(DataKeyError::WrongKey);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| DataKeyError::WrongKey)?;
        let mut data = ciphertext.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| DataKeyError::WrongKey)?;
        Ok(plain.to_vec())
    }

    /// Start-up check: the first start stores a sealed constant; every later start (any
    /// instance) must open it, so a wrong `TESSERA_DATA_KEY` is refused at start-up instead of
    /// surfacing later as failed TOTP logins.
    ///
    /// # Errors
    /// `Ok(Err(WrongKey))` for a wrong key; `Err` when the store is unavailable.
    pub async fn check(&self, store: &Store) -> Result<Result<(), DataKeyError>, StoreError> {
        let sealed = self.seal(CHECK_AAD, CHECK_PLAINTEXT);
        let stored = store.data_key_check(&sealed).await?;
        Ok(match self.open(CHECK_AAD, &stored) {
            Ok(plain) if plain == CHECK_PLAINTEXT => Ok(()),
            _ => Err(DataKeyError::WrongKey),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_detect_the_wrong_key_or_context() {
        let key = DataKey::generate();
        let sealed = key.seal("totp:alice", b"secret");
        assert_eq!(key.open("totp:alice", &sealed).unwrap(), b"secret");
        assert_eq!(key.open("totp:bob", &sealed), Err(DataKeyError::WrongKey));
        assert_eq!(
            DataKey::generate().open("totp:alice", &sealed),
            Err(DataKeyError::WrongKey)
        );
        assert!(DataKey::from_base64("c2hvcnQ=").is_err());
        assert!(DataKey::from_base64(&STANDARD.encode([7u8; 32])).is_ok());
    }
}
