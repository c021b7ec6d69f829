//! The second-factor limit on Redis: one key per user (`rl:factor:<sub>`), one script
//! (`scripts/factor_attempt.lua`, after the shared `scripts/backoff.lua`).

use redis::AsyncCommands;

use super::codec::limit;
use super::scripts::FACTOR_ATTEMPT;
use super::RedisStore;
use crate::error::StoreError;
use crate::store::limits::{Backoff, Limit};
use crate::store::{names, FactorBackend};

impl FactorBackend for RedisStore {
    async fn factor_attempt(
        &self,
        sub: &str,
        now_ms: u64,
        rule: &Backoff,
    ) -> Result<Limit, StoreError> {
        let (which, wait): (String, u64) = FACTOR_ATTEMPT
            .key(names::factor_limit(sub))
            .arg(now_ms)
            .arg(rule.failure_limit)
            .arg(rule.base_ms)
            .arg(rule.max_ms)
            .arg(rule.window_ms)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(limit(&which, wait))
    }

    async fn factor_success(&self, sub: &str) -> Result<(), StoreError> {
        let () = self.conn.clone().del(names::factor_limit(sub)).await?;
        Ok(())
    }
}
