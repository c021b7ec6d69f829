//! The second-factor limit in memory: a counter under the Redis key name, with the shared
//! back-off ([`super::state::Counter::fail`]).

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::limits::{Backoff, Limit, LimitedBy};
use crate::store::{names, FactorBackend};

impl FactorBackend for MemoryStore {
    async fn factor_attempt(
        &self,
        sub: &str,
        now: u64,
        rule: &Backoff,
    ) -> Result<Limit, StoreError> {
        let key = names::factor_limit(sub);
        let mut state = self.lock();
        let mut factor = state.counter(&key, now);
        if factor.until > now {
            return Ok(Limit::Limited {
                by: LimitedBy::SecondFactor,
                retry_after_ms: factor.until - now,
            });
        }
        factor.fail(now, rule);
        state.counters.insert(key, factor);
        Ok(Limit::Allowed)
    }

    async fn factor_success(&self, sub: &str) -> Result<(), StoreError> {
        self.lock().counters.remove(&names::factor_limit(sub));
        Ok(())
    }
}
