//! The memory backend's state: one struct of maps behind the backend's mutex, and its lazy
//! expiry helpers.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;

use crate::secret::SecretHash;
use crate::store::limits::{backoff_ms, Backoff};
use crate::store::model::{Client, Family, KeyMeta, User};

/// A limiter counter: `value` (TAT or count), `until` (back-off end), expiring at `expires` (ms).
#[derive(Default, Clone, Copy)]
pub(super) struct Counter {
    pub(super) value: u64,
    pub(super) until: u64,
    pub(super) expires: u64,
}

impl Counter {
    /// One more failure at `now` (the twin of `count_failure` in `redis/scripts/backoff.lua`):
    /// reaching the limit of `rule` starts its back-off; the failures are remembered for the
    /// window after the last one, or until the back-off ends if that is later.
    pub(super) fn fail(&mut self, now: u64, rule: &Backoff) {
        self.value += 1;
        self.expires = now + rule.window_ms;
        if self.value >= u64::from(rule.failure_limit) {
            self.until = now + backoff_ms(self.value, rule);
            self.expires = self.expires.max(self.until);
        }
    }
}

pub(super) struct FamilyRecord {
    pub(super) family: Family,
    pub(super) current: SecretHash,
    pub(super) used: HashSet<SecretHash>,
    pub(super) expires: Instant,
    /// Unix seconds of its creation and last rotation.
    pub(super) created: u64,
    pub(super) refreshed: Option<u64>,
    /// The refresh grace record of the last rotation: (parent, sealed successor, end).
    pub(super) grace: Option<(SecretHash, String, Instant)>,
}

/// A typed record: its JSON, failures counted, the family that redeemed it, and its expiry.
pub(super) struct StoredRecord {
    pub(super) json: String,
    pub(super) failures: u32,
    pub(super) redeemed_by: Option<String>,
    pub(super) expires: Instant,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) users: HashMap<String, User>,
    pub(super) subs: HashMap<String, String>,
    pub(super) clients: HashMap<String, Client>,
    pub(super) families: HashMap<String, FamilyRecord>,
    pub(super) user_families: HashMap<String, HashSet<String>>,
    pub(super) counters: HashMap<String, Counter>,
    pub(super) data_key_check: Option<String>,
    pub(super) totp_steps: HashMap<String, u64>,
    pub(super) recovery: HashMap<String, HashSet<SecretHash>>,
    pub(super) key_meta: HashMap<String, KeyMeta>,
    pub(super) locks: HashMap<String, Instant>,
    /// The user index: [`crate::store::names::user_index_member`] of every user, in order.
    pub(super) user_index: BTreeSet<String>,
    /// By [`crate::store::names::record`].
    pub(super) records: HashMap<String, StoredRecord>,
    pub(super) session_families: HashMap<SecretHash, HashSet<String>>,
    /// Device authorizations (RFC 8628).
    pub(super) devices: super::device::Devices,
    /// The back-channel logout queue.
    pub(super) notices: super::notices::Notices,
    /// Passkeys: by `sub`, credential id → record JSON.
    pub(super) passkeys: HashMap<String, HashMap<String, String>>,
}

impl State {
    /// The live counter `key` at `now` (ms), zero when absent or expired.
    pub(super) fn counter(&self, key: &str, now: u64) -> Counter {
        self.counters
            .get(key)
            .filter(|c| c.expires > now)
            .copied()
            .unwrap_or_default()
    }

    /// The live family `id`, dropping it if it expired.
    pub(super) fn family(&mut self, id: &str) -> Option<&mut FamilyRecord> {
        if self
            .families
            .get(id)
            .is_some_and(|f| f.expires <= Instant::now())
        {
            self.families.remove(id);
        }
        self.families.get_mut(id)
    }

    /// The live record `key`, dropping it if it expired.
    pub(super) fn record(&mut self, key: &str) -> Option<&mut StoredRecord> {
        if self
            .records
            .get(key)
            .is_some_and(|r| r.expires <= Instant::now())
        {
            self.records.remove(key);
        }
        self.records.get_mut(key)
    }
}
