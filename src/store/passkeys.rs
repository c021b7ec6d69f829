//! Passkeys as the store keeps them: the typed operations over [`PasskeyBackend`]. The record
//! is [`StoredPasskey`]: the `webauthn-rs` credential (public key, counter, flags; the crate's
//! own serialisation, never parsed here) with the name and times the user sees.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::Passkey;

use super::backend::PasskeyBackend;
use super::Store;
use crate::error::StoreError;

/// What [`PasskeyBackend::add_passkey`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The passkey is registered.
    Added,
    /// The user already has a passkey with that credential id; nothing changed.
    Exists,
    /// The user already has the maximum number of passkeys; nothing changed.
    Full,
}

/// One registered passkey of a user. `Debug` shows only the id and name.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredPasskey {
    /// The credential id, base64url without padding (WebAuthn L3 §5.1 `id`).
    pub id: String,
    /// The name the user gave it (1 to 64 characters).
    pub name: String,
    /// When it was registered, unix seconds.
    pub created_at: u64,
    /// When it last signed in, unix seconds.
    pub last_used_at: Option<u64>,
    /// The credential, as `webauthn-rs` serialises it.
    pub passkey: Passkey,
}

impl std::fmt::Debug for StoredPasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPasskey")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn encode(passkey: &StoredPasskey) -> Result<String, StoreError> {
    serde_json::to_string(passkey).map_err(|_| StoreError("unserialisable passkey".into()))
}

impl Store {
    /// The passkeys of user `sub`, oldest first. A record that no longer decodes is skipped
    /// (and logged).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn user_passkeys(&self, sub: &str) -> Result<Vec<StoredPasskey>, StoreError> {
        let mut keys: Vec<StoredPasskey> = self
            .passkeys(sub)
            .await?
            .iter()
            .filter_map(|json| match serde_json::from_str(json) {
                Ok(passkey) => Some(passkey),
                Err(_) => {
                    tracing::warn!("a stored passkey does not decode; skipped");
                    None
                }
            })
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    /// Registers `passkey` for `sub`, at most `max` per user.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn add_user_passkey(
        &self,
        sub: &str,
        passkey: &StoredPasskey,
        max: usize,
    ) -> Result<Added, StoreError> {
        self.add_passkey(sub, &passkey.id, &encode(passkey)?, max)
            .await
    }

    /// Saves `passkey` of `sub` again (new counter, name or last use) if it is still
    /// registered; `false` when it was removed meanwhile.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn save_user_passkey(
        &self,
        sub: &str,
        passkey: &StoredPasskey,
    ) -> Result<bool, StoreError> {
        self.replace_passkey(sub, &passkey.id, &encode(passkey)?)
            .await
    }
}
