//! Passkeys in memory: the twin of `redis/passkey.rs` and its scripts, each step under the
//! store's one mutex.

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::passkeys::Added;
use crate::store::PasskeyBackend;

impl PasskeyBackend for MemoryStore {
    async fn passkeys(&self, sub: &str) -> Result<Vec<String>, StoreError> {
        let state = self.lock();
        Ok(state
            .passkeys
            .get(sub)
            .map(|keys| keys.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn passkey_count(&self, sub: &str) -> Result<usize, StoreError> {
        Ok(self.lock().passkeys.get(sub).map_or(0, |keys| keys.len()))
    }

    async fn add_passkey(
        &self,
        sub: &str,
        id: &str,
        json: &str,
        max: usize,
    ) -> Result<Added, StoreError> {
        let mut state = self.lock();
        let keys = state.passkeys.entry(sub.to_owned()).or_default();
        if keys.contains_key(id) {
            return Ok(Added::Exists);
        }
        if keys.len() >= max {
            return Ok(Added::Full);
        }
        keys.insert(id.to_owned(), json.to_owned());
        Ok(Added::Added)
    }

    async fn replace_passkey(&self, sub: &str, id: &str, json: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        match state
            .passkeys
            .get_mut(sub)
            .and_then(|keys| keys.get_mut(id))
        {
            Some(stored) => {
                json.clone_into(stored);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn remove_passkey(&self, sub: &str, id: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        Ok(state
            .passkeys
            .get_mut(sub)
            .is_some_and(|keys| keys.remove(id).is_some()))
    }

    async fn remove_passkeys(&self, sub: &str) -> Result<usize, StoreError> {
        Ok(self
            .lock()
            .passkeys
            .remove(sub)
            .map_or(0, |keys| keys.len()))
    }
}
