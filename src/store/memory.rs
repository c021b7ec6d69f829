//! In-memory backend: the same contract as Redis, behind one mutex. Used by `--dev` and tests.
//! Expiry is checked lazily on access.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Client, Family, Redemption, Rotation, TokenState, User};
use crate::error::StoreError;
use crate::keys::KeyMeta;
use crate::ratelimit::{backoff_ms, gcra, AccountKeys, LoginPolicy, Verdict};

/// A limiter counter: `value` (TAT or count), `until` (back-off end), expiring at `expires` (ms).
#[derive(Default, Clone, Copy)]
struct Counter {
    value: u64,
    until: u64,
    expires: u64,
}

struct FamilyRecord {
    family: Family,
    current: String,
    used: HashSet<String>,
    expires: Instant,
}

#[derive(Default)]
struct State {
    users: HashMap<String, User>,
    subs: HashMap<String, String>,
    clients: HashMap<String, Client>,
    families: HashMap<String, FamilyRecord>,
    user_families: HashMap<String, HashSet<String>>,
    counters: HashMap<String, Counter>,
    data_key_check: Option<String>,
    totp_steps: HashMap<String, u64>,
    recovery: HashMap<String, HashSet<String>>,
    /// mfa_token hash → (pending login JSON, failures, expiry).
    mfa_tokens: HashMap<String, (String, u32, Instant)>,
    key_meta: HashMap<String, KeyMeta>,
    locks: HashMap<String, Instant>,
    /// `kind:id` → (JSON, expiry, family that redeemed it for codes).
    records: HashMap<String, (String, Instant, Option<String>)>,
    session_families: HashMap<String, HashSet<String>>,
}

impl State {
    /// The live counter `key` at `now` (ms), zero when absent or expired.
    fn counter(&self, key: &str, now: u64) -> Counter {
        self.counters
            .get(key)
            .filter(|c| c.expires > now)
            .copied()
            .unwrap_or_default()
    }

    /// The live family `id`, dropping it if it expired.
    fn family(&mut self, id: &str) -> Option<&mut FamilyRecord> {
        if self
            .families
            .get(id)
            .is_some_and(|f| f.expires <= Instant::now())
        {
            self.families.remove(id);
        }
        self.families.get_mut(id)
    }
}

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

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    pub(super) async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(username).cloned())
    }

    pub(super) async fn user_by_sub(&self, sub: &str) -> Result<Option<User>, StoreError> {
        let state = self.lock();
        Ok(state
            .subs
            .get(sub)
            .and_then(|name| state.users.get(name))
            .cloned())
    }

    pub(super) async fn put_user(
        &self,
        user: &User,
        create_only: bool,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if create_only && state.users.contains_key(&user.username) {
            return Ok(false);
        }
        state.subs.insert(user.sub.clone(), user.username.clone());
        state.users.insert(user.username.clone(), user.clone());
        Ok(true)
    }

    pub(super) async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        Ok(self.lock().clients.get(client_id).cloned())
    }

    pub(super) async fn put_client(
        &self,
        client: &Client,
        create_only: bool,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if create_only && state.clients.contains_key(&client.client_id) {
            return Ok(false);
        }
        state
            .clients
            .insert(client.client_id.clone(), client.clone());
        Ok(true)
    }

    pub(super) async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().clients.remove(client_id).is_some())
    }

    pub(super) async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        Ok(self.lock().clients.values().cloned().collect())
    }

    pub(super) async fn create_family(
        &self,
        family_id: &str,
        family: &Family,
        token_hash: &str,
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
                current: token_hash.to_owned(),
                used: HashSet::new(),
                expires: Instant::now() + Duration::from_secs(ttl),
            },
        );
        Ok(())
    }

    pub(super) async fn rotate_refresh_token(
        &self,
        family_id: &str,
        presented_hash: &str,
        new_hash: &str,
        client_id: &str,
        scope: &[&str],
    ) -> Result<Rotation, StoreError> {
        let mut state = self.lock();
        let Some(record) = state.family(family_id) else {
            return Ok(Rotation::Invalid);
        };
        if record.current != presented_hash {
            if record.used.contains(presented_hash) {
                let family = record.family.clone();
                state.families.remove(family_id);
                return Ok(Rotation::Reused {
                    sub: family.sub,
                    client_id: family.client_id,
                });
            }
            return Ok(Rotation::Invalid);
        }
        if record.family.client_id != client_id {
            return Ok(Rotation::Invalid);
        }
        if !scope
            .iter()
            .all(|s| record.family.scope.split(' ').any(|g| g == *s))
        {
            return Ok(Rotation::ScopeExceeded);
        }
        let old = std::mem::replace(&mut record.current, new_hash.to_owned());
        record.used.insert(old);
        Ok(Rotation::Rotated(record.family.clone()))
    }

    pub(super) async fn refresh_token_state(
        &self,
        family_id: &str,
        token_hash: &str,
    ) -> Result<TokenState, StoreError> {
        let mut state = self.lock();
        Ok(match state.family(family_id) {
            Some(r) if r.current == token_hash => TokenState::Current(r.family.clone()),
            Some(r) if r.used.contains(token_hash) => TokenState::Rotated(r.family.clone()),
            _ => TokenState::Unknown,
        })
    }

    pub(super) async fn family_alive(&self, family_id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().family(family_id).is_some())
    }

    pub(super) async fn revoke_family(&self, family_id: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let alive = state.family(family_id).is_some();
        state.families.remove(family_id);
        Ok(alive)
    }

    pub(super) async fn revoke_user_families(&self, sub: &str) -> Result<usize, StoreError> {
        let mut state = self.lock();
        let ids = state.user_families.remove(sub).unwrap_or_default();
        let mut alive = 0;
        for id in ids {
            if state.family(&id).is_some() {
                alive += 1;
            }
            state.families.remove(&id);
        }
        Ok(alive)
    }

    pub(super) async fn ip_attempt(
        &self,
        key: &str,
        now: u64,
        per_minute: u32,
    ) -> Result<Verdict, StoreError> {
        let mut state = self.lock();
        let tat = state.counter(key, now).value;
        Ok(match gcra(tat, now, per_minute) {
            Ok(new_tat) => {
                state.counters.insert(
                    key.to_owned(),
                    Counter {
                        value: new_tat,
                        until: 0,
                        expires: new_tat,
                    },
                );
                Verdict::Allowed
            }
            Err(wait) => Verdict::Limited("ip", wait),
        })
    }

    pub(super) async fn account_attempt(
        &self,
        keys: &AccountKeys,
        now: u64,
        policy: &LoginPolicy,
    ) -> Result<Verdict, StoreError> {
        let mut state = self.lock();
        let limit = u64::from(policy.account_failures);
        let mut account = state.counter(&keys.account, now);
        if account.until > now {
            return Ok(Verdict::Limited("account", account.until - now));
        }
        let mut pair = state.counter(&keys.pair, now);
        if pair.value == 0 {
            pair.expires = now + policy.failure_window_ms;
        }
        pair.value += 1;
        state.counters.insert(keys.pair.clone(), pair);
        if pair.value > limit {
            return Ok(Verdict::Limited("pair", (pair.expires - now).max(1)));
        }
        account.value += 1;
        account.expires = now + policy.failure_window_ms;
        if account.value >= limit {
            account.until = now + backoff_ms(account.value, policy);
            account.expires = account.expires.max(account.until);
        }
        state.counters.insert(keys.account.clone(), account);
        Ok(Verdict::Allowed)
    }

    pub(super) async fn login_success(&self, keys: &AccountKeys) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.counters.remove(&keys.account);
        state.counters.remove(&keys.pair);
        Ok(())
    }

    pub(super) async fn data_key_check(&self, sealed: &str) -> Result<String, StoreError> {
        Ok(self
            .lock()
            .data_key_check
            .get_or_insert_with(|| sealed.to_owned())
            .clone())
    }

    pub(super) async fn accept_totp_step(&self, sub: &str, step: u64) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let last = state.totp_steps.entry(sub.to_owned()).or_insert(0);
        if step > *last {
            *last = step;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    pub(super) async fn set_recovery_codes(
        &self,
        sub: &str,
        hashes: &[String],
    ) -> Result<(), StoreError> {
        self.lock()
            .recovery
            .insert(sub.to_owned(), hashes.iter().cloned().collect());
        Ok(())
    }

    pub(super) async fn use_recovery_code(
        &self,
        sub: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .recovery
            .get_mut(sub)
            .is_some_and(|codes| codes.remove(hash)))
    }

    pub(super) async fn put_mfa_token(
        &self,
        hash: &str,
        json: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let expires = Instant::now() + Duration::from_secs(ttl);
        self.lock()
            .mfa_tokens
            .insert(hash.to_owned(), (json.to_owned(), 0, expires));
        Ok(())
    }

    pub(super) async fn mfa_token(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .mfa_tokens
            .get(hash)
            .filter(|(_, _, expires)| *expires > Instant::now())
            .map(|(json, _, _)| json.clone()))
    }

    pub(super) async fn mfa_token_failed(&self, hash: &str, max: u32) -> Result<(), StoreError> {
        let mut state = self.lock();
        let dead = match state.mfa_tokens.get_mut(hash) {
            Some(entry) => {
                entry.1 += 1;
                entry.1 >= max
            }
            None => false,
        };
        if dead {
            state.mfa_tokens.remove(hash);
        }
        Ok(())
    }

    pub(super) async fn consume_mfa_token(&self, hash: &str) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .mfa_tokens
            .remove(hash)
            .is_some_and(|(_, _, expires)| expires > Instant::now()))
    }

    pub(super) async fn key_metadata(&self) -> Result<HashMap<String, KeyMeta>, StoreError> {
        Ok(self.lock().key_meta.clone())
    }

    pub(super) async fn put_key_meta(&self, kid: &str, meta: &KeyMeta) -> Result<(), StoreError> {
        self.lock().key_meta.insert(kid.to_owned(), *meta);
        Ok(())
    }

    pub(super) async fn remove_key_meta(&self, kid: &str) -> Result<(), StoreError> {
        self.lock().key_meta.remove(kid);
        Ok(())
    }

    pub(super) async fn try_lock(&self, name: &str, ttl: u64) -> Result<bool, StoreError> {
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

    pub(super) async fn put_record(
        &self,
        kind: &str,
        id: &str,
        json: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let expires = Instant::now() + Duration::from_secs(ttl);
        self.lock()
            .records
            .insert(format!("{kind}:{id}"), (json.to_owned(), expires, None));
        Ok(())
    }

    pub(super) async fn record(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .records
            .get(&format!("{kind}:{id}"))
            .filter(|(_, expires, _)| *expires > Instant::now())
            .map(|(json, _, _)| json.clone()))
    }

    pub(super) async fn delete_record(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        self.lock().records.remove(&format!("{kind}:{id}"));
        Ok(())
    }

    pub(super) async fn redeem_code(
        &self,
        id: &str,
        family_id: &str,
    ) -> Result<Redemption, StoreError> {
        let mut state = self.lock();
        Ok(match state.records.get_mut(&format!("code:{id}")) {
            Some((_, expires, _)) if *expires <= Instant::now() => Redemption::Unknown,
            Some((_, _, Some(first))) => Redemption::Reused(first.clone()),
            Some((json, _, used)) => {
                *used = Some(family_id.to_owned());
                Redemption::Fresh(json.clone())
            }
            None => Redemption::Unknown,
        })
    }

    pub(super) async fn add_session_family(
        &self,
        session: &str,
        family_id: &str,
        _ttl: u64,
    ) -> Result<(), StoreError> {
        self.lock()
            .session_families
            .entry(session.to_owned())
            .or_default()
            .insert(family_id.to_owned());
        Ok(())
    }

    pub(super) async fn take_session_families(
        &self,
        session: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .session_families
            .remove(session)
            .map(|set| set.into_iter().collect())
            .unwrap_or_default())
    }
}
