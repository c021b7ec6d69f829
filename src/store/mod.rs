//! Persistence, the ground floor: one [`Store`] over two backends that keep one contract
//! ([`Backend`]): Redis (production; every read-check-write is a single Lua script or an atomic
//! command) and memory (`--dev` and tests; the same contract behind a mutex).
//!
//! The store owns its vocabulary: its model ([`model`]), the limiter arithmetic ([`limits`]),
//! typed records ([`records`]) and every key name ([`names`]). It imports only the leaves
//! (`error`, `secret`, `clock`). Users and clients are durable registrations; everything a
//! token or a sign-in creates carries a TTL, so nothing needs a cleanup job.

mod backend;
pub mod device;
pub mod limits;
pub mod memory;
pub mod model;
pub mod names;
pub mod notices;
pub mod passkeys;
pub mod records;
pub mod redis;
pub mod sessions;

use std::collections::HashMap;
use std::net::IpAddr;

pub use backend::{Backend, DeviceBackend, FactorBackend, PasskeyBackend};
pub use device::{DevicePoll, NewDevice};
pub use limits::{Backoff, Limit, LimitedBy};
pub use model::{
    Client, ClientPolicy, Family, KeyMeta, Presenter, Rotation, SessionInfo, SigningAlg, Successor,
    TokenState, User, UsersPage,
};
pub use notices::{Claimed, Notice, NoticeBackend};
pub use passkeys::{Added, StoredPasskey};
pub use records::{Attempt, Kind, Record, Redemption};
pub use sessions::SessionBackend;

use crate::error::StoreError;
use crate::secret::SecretHash;

/// The persistence backend in use.
#[derive(Clone)]
pub enum Store {
    /// In-process maps behind a mutex (`--dev`, tests).
    Memory(memory::MemoryStore),
    /// Redis standalone, Cluster or Sentinel (production).
    Redis(redis::RedisStore),
}

impl Store {
    /// The counter of failed store commands (Redis only), for the metrics registry.
    pub fn error_counter(&self) -> Option<prometheus::IntCounter> {
        match self {
            Store::Memory(_) => None,
            Store::Redis(s) => Some(s.errors.clone()),
        }
    }
}

/// Calls the backend's method; a failed Redis call counts in `tessera_store_errors_total`.
macro_rules! dispatch {
    ($contract:ident { $(async fn $method:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)* }) => {
        impl $contract for Store {
            $(
                async fn $method(&self $(, $arg: $ty)*) -> Result<$ret, StoreError> {
                    match self {
                        Store::Memory(s) => s.$method($($arg),*).await,
                        Store::Redis(s) => {
                            let result = s.$method($($arg),*).await;
                            if result.is_err() {
                                s.errors.inc();
                            }
                            result
                        }
                    }
                }
            )*
        }
    };
}

dispatch! { Backend {
    async fn ping(&self) -> ();
    async fn user(&self, username: &str) -> Option<User>;
    async fn user_by_sub(&self, sub: &str) -> Option<User>;
    async fn put_user(&self, user: &User, create_only: bool) -> bool;
    async fn users_page(&self, cursor: Option<&str>, limit: usize) -> UsersPage;
    async fn remove_user(&self, user: &User) -> bool;
    async fn recovery_codes_left(&self, sub: &str) -> usize;
    async fn client(&self, client_id: &str) -> Option<Client>;
    async fn put_client(&self, client: &Client, create_only: bool) -> bool;
    async fn remove_client(&self, client_id: &str) -> bool;
    async fn clients(&self) -> Vec<Client>;
    async fn create_family(
        &self, family_id: &str, family: &Family, token_hash: &SecretHash, ttl: u64
    ) -> ();
    async fn rotate_refresh_token(
        &self,
        family_id: &str,
        presented: &SecretHash,
        successor: Successor<'_>,
        by: Presenter<'_>
    ) -> Rotation;
    async fn refresh_token_state(&self, family_id: &str, token_hash: &SecretHash) -> TokenState;
    async fn family_alive(&self, family_id: &str) -> bool;
    async fn revoke_family(&self, family_id: &str) -> bool;
    async fn revoke_user_families(&self, sub: &str) -> usize;
    async fn ip_attempt(&self, ip: IpAddr, now_ms: u64, per_minute: u32) -> Limit;
    async fn account_attempt(&self, username: &str, ip: IpAddr, now_ms: u64, rule: &Backoff)
        -> Limit;
    async fn login_success(&self, username: &str, ip: IpAddr, now_ms: u64) -> ();
    async fn data_key_check(&self, sealed: &str) -> String;
    async fn accept_totp_step(&self, sub: &str, step: u64) -> bool;
    async fn set_recovery_codes(&self, sub: &str, hashes: &[SecretHash]) -> ();
    async fn use_recovery_code(&self, sub: &str, hash: &SecretHash) -> bool;
    async fn key_metadata(&self) -> HashMap<String, KeyMeta>;
    async fn put_key_meta(&self, kid: &str, meta: &KeyMeta) -> ();
    async fn remove_key_meta(&self, kid: &str) -> ();
    async fn try_lock(&self, name: &str, ttl: u64) -> bool;
    async fn put_record(&self, kind: Kind, id: &SecretHash, json: &str, ttl: u64) -> ();
    async fn record(&self, kind: Kind, id: &SecretHash) -> Option<String>;
    async fn take_record(&self, kind: Kind, id: &SecretHash) -> Option<String>;
    async fn record_attempt(&self, kind: Kind, id: &SecretHash, max: u32) -> u32;
    async fn redeem_record(&self, kind: Kind, id: &SecretHash, family_id: &str)
        -> Redemption<String>;
    async fn add_session_family(&self, session: &SecretHash, family_id: &str, ttl: u64) -> ();
    async fn take_session_families(&self, session: &SecretHash) -> Vec<String>;
    async fn first_dpop_proof(&self, proof: &SecretHash, ttl_ms: u64) -> bool;
} }

dispatch! { DeviceBackend {
    async fn put_device(&self, id: &SecretHash, user_code: &SecretHash, new: &NewDevice<'_>) -> bool;
    async fn device_by_user_code(&self, user_code: &SecretHash, now_ms: u64)
        -> Option<(SecretHash, String)>;
    async fn set_device_decision(&self, id: &SecretHash, approval: Option<&str>, now_ms: u64)
        -> bool;
    async fn device_poll(&self, id: &SecretHash, client_id: &str, now_ms: u64)
        -> DevicePoll<(String, String)>;
} }

dispatch! { NoticeBackend {
    async fn claim_notices(&self, consumer: &str, count: usize, idle_ms: u64, now_ms: u64)
        -> Vec<Claimed>;
    async fn finish_notice(&self, entry: &str) -> ();
    async fn retry_notice(&self, entry: &str, notice: &Notice, due_ms: u64) -> ();
} }

dispatch! { SessionBackend {
    async fn user_sessions(&self, sub: &str) -> Vec<SessionInfo>;
} }

dispatch! { FactorBackend {
    async fn factor_attempt(&self, sub: &str, now_ms: u64, rule: &Backoff) -> Limit;
    async fn factor_success(&self, sub: &str) -> ();
} }

dispatch! { PasskeyBackend {
    async fn passkeys(&self, sub: &str) -> Vec<String>;
    async fn passkey_count(&self, sub: &str) -> usize;
    async fn add_passkey(&self, sub: &str, id: &str, json: &str, max: usize) -> Added;
    async fn replace_passkey(&self, sub: &str, id: &str, json: &str) -> bool;
    async fn remove_passkey(&self, sub: &str, id: &str) -> bool;
    async fn remove_passkeys(&self, sub: &str) -> usize;
} }
