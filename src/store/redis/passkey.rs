//! Passkeys in Redis: one hash per user (`passkeys:<sub>`), field = credential id. Adding
//! checks the count and the id in one Lua script (`passkey_add.lua`), replacing checks the
//! field exists (`passkey_replace.lua`); both touch the one key.

use redis::AsyncCommands;

use super::scripts::{PASSKEY_ADD, PASSKEY_REPLACE};
use super::RedisStore;
use crate::error::StoreError;
use crate::store::passkeys::Added;
use crate::store::{names, PasskeyBackend};

impl PasskeyBackend for RedisStore {
    async fn passkeys(&self, sub: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.conn.clone().hvals(names::passkeys(sub)).await?)
    }

    async fn passkey_count(&self, sub: &str) -> Result<usize, StoreError> {
        Ok(self.conn.clone().hlen(names::passkeys(sub)).await?)
    }

    async fn add_passkey(
        &self,
        sub: &str,
        id: &str,
        json: &str,
        max: usize,
    ) -> Result<Added, StoreError> {
        let answer: i64 = PASSKEY_ADD
            .key(names::passkeys(sub))
            .arg(id)
            .arg(json)
            .arg(max)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(match answer {
            1 => Added::Added,
            0 => Added::Exists,
            _ => Added::Full,
        })
    }

    async fn replace_passkey(&self, sub: &str, id: &str, json: &str) -> Result<bool, StoreError> {
        let replaced: i64 = PASSKEY_REPLACE
            .key(names::passkeys(sub))
            .arg(id)
            .arg(json)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(replaced == 1)
    }

    async fn remove_passkey(&self, sub: &str, id: &str) -> Result<bool, StoreError> {
        let removed: usize = self.conn.clone().hdel(names::passkeys(sub), id).await?;
        Ok(removed > 0)
    }

    async fn remove_passkeys(&self, sub: &str) -> Result<usize, StoreError> {
        let key = names::passkeys(sub);
        let (count,): (usize,) = redis::pipe()
            .atomic()
            .hlen(&key)
            .del(&key)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(count)
    }
}
