//! In-memory backend: the same contract as Redis, behind one mutex. Used by `--dev` and tests.
//! Expiry is checked lazily on access. Counters are kept under the Redis key names of
//! [`super::names`], so both backends share one layout.

mod device;
mod factors;
mod notices;
mod passkey;
mod rotation;
mod sessions;
mod state;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use self::state::{Counter, FamilyRecord, State, StoredRecord};

use super::limits::{gcra, Backoff, Limit, LimitedBy};
use super::model::{
    Client, Family, KeyMeta, Presenter, Rotation, Successor, TokenState, User, UsersPage,
};
use super::names;
use super::records::{Kind, Redemption};
use super::Backend;
use crate::error::StoreError;
use crate::secret::SecretHash;

/// In-process store. Cloning shares the same state.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written record (every update is a
        // single insert), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Backend for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(username).cloned())
    }

    async fn user_by_sub(&self, sub: &str) -> Result<Option<User>, StoreError> {
        let state = self.lock();
        Ok(state
            .subs
            .get(sub)
            .and_then(|name| state.users.get(name))
            .cloned())
    }

    async fn put_user(&self, user: &User, create_only: bool) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if create_only && state.users.contains_key(&user.username) {
            return Ok(false);
        }
        state.subs.insert(user.sub.clone(), user.username.clone());
        state.user_index.insert(names::user_index_member(user));
        state.users.insert(user.username.clone(), user.clone());
        Ok(true)
    }

    async fn users_page(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<UsersPage, StoreError> {
        use std::ops::Bound::{Excluded, Unbounded};
        let state = self.lock();
        let start = cursor.map_or(Unbounded, |c| Excluded(c.to_owned()));
        let members: Vec<&String> = state
            .user_index
            .range((start, Unbounded))
            .take(limit)
            .collect();
        let next = match members.last() {
            Some(last) if members.len() == limit => Some((*last).clone()),
            _ => None,
        };
        let users = members
            .iter()
            .filter_map(|m| m.split_once(':').and_then(|(_, sub)| state.subs.get(sub)))
            .filter_map(|name| state.users.get(name).cloned())
            .collect();
        Ok(UsersPage { users, next })
    }

    async fn remove_user(&self, user: &User) -> Result<bool, StoreError> {
        let existed = {
            let mut state = self.lock();
            let existed = state.users.remove(&user.username).is_some();
            state.subs.remove(&user.sub);
            state.user_index.remove(&names::user_index_member(user));
            state.recovery.remove(&user.sub);
            state.totp_steps.remove(&user.sub);
            existed
        };
        self.revoke_user_families(&user.sub).await?;
        Ok(existed)
    }

    async fn recovery_codes_left(&self, sub: &str) -> Result<usize, StoreError> {
        Ok(self.lock().recovery.get(sub).map_or(0, HashSet::len))
    }

    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        Ok(self.lock().clients.get(client_id).cloned())
    }

    async fn put_client(&self, client: &Client, create_only: bool) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if create_only && state.clients.contains_key(&client.client_id) {
            return Ok(false);
        }
        state
            .clients
            .insert(client.client_id.clone(), client.clone());
        Ok(true)
    }

    async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().clients.remove(client_id).is_some())
    }

    async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        Ok(self.lock().clients.values().cloned().collect())
    }

    async fn create_family(
        &self,
        family_id: &str,
        family: &Family,
        token_hash: &SecretHash,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        state
            .user_families
            .entry(family.sub.clone())
            .or_default()
            .insert(family_id.to_owned());
        state.families.insert(
            family_id.to_owned(),
            FamilyRecord {
                family: family.clone(),
                current: token_hash.clone(),
                used: HashSet::new(),
                expires: Instant::now() + Duration::from_secs(ttl),
                created: crate::clock::now(),
                refreshed: None,
                grace: None,
            },
        );
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        family_id: &str,
        presented: &SecretHash,
        successor: Successor<'_>,
        by: Presenter<'_>,
    ) -> Result<Rotation, StoreError> {
        Ok(self.lock().rotate(family_id, presented, successor, by))
    }

    async fn refresh_token_state(
        &self,
        family_id: &str,
        token_hash: &SecretHash,
    ) -> Result<TokenState, StoreError> {
        let mut state = self.lock();
        Ok(match state.family(family_id) {
            Some(r) if r.current == *token_hash => TokenState::Current(r.family.clone()),
            Some(r) if r.used.contains(token_hash) => TokenState::Rotated(r.family.clone()),
            _ => TokenState::Unknown,
        })
    }

    async fn family_alive(&self, family_id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().family(family_id).is_some())
    }

    async fn revoke_family(&self, family_id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().end_family(family_id))
    }

    async fn revoke_user_families(&self, sub: &str) -> Result<usize, StoreError> {
        let mut state = self.lock();
        let ids = state.user_families.remove(sub).unwrap_or_default();
        Ok(ids.iter().filter(|id| state.end_family(id)).count())
    }

    async fn ip_attempt(&self, ip: IpAddr, now: u64, per_minute: u32) -> Result<Limit, StoreError> {
        let key = names::ip_limit(ip);
        let mut state = self.lock();
        let tat = state.counter(&key, now).value;
        Ok(match gcra(tat, now, per_minute) {
            Ok(new_tat) => {
                let counter = Counter {
                    value: new_tat,
                    until: 0,
                    expires: new_tat,
                };
                state.counters.insert(key, counter);
                Limit::Allowed
            }
            Err(wait) => Limit::Limited {
                by: LimitedBy::Ip,
                retry_after_ms: wait,
            },
        })
    }

    async fn account_attempt(
        &self,
        username: &str,
        ip: IpAddr,
        now: u64,
        rule: &Backoff,
    ) -> Result<Limit, StoreError> {
        let (account_key, pair_key) = names::account_limits(username, ip);
        let mut state = self.lock();
        let limit = u64::from(rule.failure_limit);
        let mut pair = state.counter(&pair_key, now);
        if pair.value > 0 {
            let ttl = (pair.expires - now).max(1);
            if pair.value >= limit {
                return Ok(Limit::Limited {
                    by: LimitedBy::Pair,
                    retry_after_ms: ttl,
                });
            }
            let until = state.counter(&account_key, now).until;
            if until > now {
                return Ok(Limit::Limited {
                    by: LimitedBy::Account,
                    retry_after_ms: (until - now).min(ttl),
                });
            }
            pair.value += 1;
            state.counters.insert(pair_key, pair);
            return Ok(Limit::Allowed);
        }
        let pair = Counter {
            value: 1,
            until: 0,
            expires: now + rule.window_ms,
        };
        state.counters.insert(pair_key, pair);
        let mut account = state.counter(&account_key, now);
        account.fail(now, rule);
        state.counters.insert(account_key, account);
        Ok(Limit::Allowed)
    }

    async fn login_success(&self, username: &str, ip: IpAddr, now: u64) -> Result<(), StoreError> {
        let (account, pair) = names::account_limits(username, ip);
        let mut state = self.lock();
        let resolved = state
            .counters
            .remove(&pair)
            .is_some_and(|c| c.expires > now);
        if let Some(account) = state.counters.get_mut(&account) {
            if resolved && account.expires > now {
                account.value = account.value.saturating_sub(1);
            }
        }
        Ok(())
    }

    async fn data_key_check(&self, sealed: &str) -> Result<String, StoreError> {
        Ok(self
            .lock()
            .data_key_check
            .get_or_insert_with(|| sealed.to_owned())
            .clone())
    }

    async fn accept_totp_step(&self, sub: &str, step: u64) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let last = state.totp_steps.entry(sub.to_owned()).or_insert(0);
        if step > *last {
            *last = step;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    async fn set_recovery_codes(&self, sub: &str, hashes: &[SecretHash]) -> Result<(), StoreError> {
        self.lock()
            .recovery
            .insert(sub.to_owned(), hashes.iter().cloned().collect());
        Ok(())
    }

    async fn use_recovery_code(&self, sub: &str, hash: &SecretHash) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .recovery
            .get_mut(sub)
            .is_some_and(|codes| codes.remove(hash)))
    }

    async fn key_metadata(&self) -> Result<HashMap<String, KeyMeta>, StoreError> {
        Ok(self.lock().key_meta.clone())
    }

    async fn put_key_meta(&self, kid: &str, meta: &KeyMeta) -> Result<(), StoreError> {
        self.lock().key_meta.insert(kid.to_owned(), *meta);
        Ok(())
    }

    async fn remove_key_meta(&self, kid: &str) -> Result<(), StoreError> {
        self.lock().key_meta.remove(kid);
        Ok(())
    }

    async fn try_lock(&self, name: &str, ttl: u64) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let now = Instant::now();
        if state.locks.get(name).is_some_and(|until| *until > now) {
            return Ok(false);
        }
        state
            .locks
            .insert(name.to_owned(), now + Duration::from_secs(ttl));
        Ok(true)
    }

    async fn put_record(
        &self,
        kind: Kind,
        id: &SecretHash,
        json: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let key = names::record(kind.as_str(), id);
        let expires = Instant::now() + Duration::from_secs(ttl);
        let mut state = self.lock();
        match state.record(&key) {
            Some(record) => {
                json.clone_into(&mut record.json);
                record.expires = expires;
            }
            None => {
                let record = StoredRecord {
                    json: json.to_owned(),
                    failures: 0,
                    redeemed_by: None,
                    expires,
                };
                state.records.insert(key, record);
            }
        }
        Ok(())
    }

    async fn record(&self, kind: Kind, id: &SecretHash) -> Result<Option<String>, StoreError> {
        let key = names::record(kind.as_str(), id);
        Ok(self.lock().record(&key).map(|r| r.json.clone()))
    }

    async fn take_record(&self, kind: Kind, id: &SecretHash) -> Result<Option<String>, StoreError> {
        let key = names::record(kind.as_str(), id);
        let mut state = self.lock();
        state.record(&key);
        Ok(state.records.remove(&key).map(|r| r.json))
    }

    async fn record_attempt(
        &self,
        kind: Kind,
        id: &SecretHash,
        max: u32,
    ) -> Result<u32, StoreError> {
        let key = names::record(kind.as_str(), id);
        let mut state = self.lock();
        let Some(record) = state.record(&key) else {
            return Ok(0);
        };
        record.failures += 1;
        let attempts = record.failures;
        if attempts > max {
            state.records.remove(&key);
        }
        Ok(attempts)
    }

    async fn redeem_record(
        &self,
        kind: Kind,
        id: &SecretHash,
        family_id: &str,
    ) -> Result<Redemption<String>, StoreError> {
        let key = names::record(kind.as_str(), id);
        let mut state = self.lock();
        Ok(match state.record(&key) {
            Some(StoredRecord {
                redeemed_by: Some(first),
                ..
            }) => Redemption::Reused(first.clone()),
            Some(record) => {
                record.redeemed_by = Some(family_id.to_owned());
                Redemption::Fresh(record.json.clone())
            }
            None => Redemption::Unknown,
        })
    }

    async fn add_session_family(
        &self,
        session: &SecretHash,
        family_id: &str,
        _ttl: u64,
    ) -> Result<(), StoreError> {
        self.lock()
            .session_families
            .entry(session.clone())
            .or_default()
            .insert(family_id.to_owned());
        Ok(())
    }

    async fn take_session_families(&self, session: &SecretHash) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .session_families
            .remove(session)
            .map(|set| set.into_iter().collect())
            .unwrap_or_default())
    }

    async fn first_dpop_proof(&self, proof: &SecretHash, ttl_ms: u64) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let (key, now) = (names::dpop_proof(proof), Instant::now());
        if state.locks.get(&key).is_some_and(|until| *until > now) {
            return Ok(false);
        }
        state.locks.insert(key, now + Duration::from_millis(ttl_ms));
        Ok(true)
    }
}
