//! Persistence: one [`Store`] with two backends, Redis (production; every read-check-write is a
//! single Lua script) and memory (`--dev` and tests; the same contract behind a mutex).
//!
//! Records are small serde structs. Users and clients are durable registrations; everything a
//! token creates (refresh-token families) carries a TTL, so nothing needs a cleanup job.

pub mod memory;
pub mod redis;

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::keys::KeyMeta;
use crate::ratelimit::{AccountKeys, LoginPolicy, Verdict};

/// A registered user.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    /// Stable subject identifier (UUID v4), the `sub` of tokens.
    pub sub: String,
    /// Normalised username (see [`crate::users::normalize_username`]).
    pub username: String,
    /// Email address, if known.
    pub email: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// A disabled user cannot log in or refresh.
    pub disabled: bool,
    /// Active TOTP secret, sealed with the data key ([`crate::datakey`]).
    #[serde(default)]
    pub totp: Option<String>,
    /// TOTP secret awaiting confirmation, sealed.
    #[serde(default)]
    pub totp_pending: Option<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("sub", &self.sub)
            .field("username", &self.username)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// A registered OAuth client (RFC 6749 §2).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Client {
    /// The `client_id`.
    pub client_id: String,
    /// Hex SHA-256 of the client secret; `None` for a public client.
    pub secret_hash: Option<String>,
    /// Grant types the client may use (`password`, `refresh_token`, `client_credentials`,
    /// `authorization_code`).
    pub grant_types: Vec<String>,
    /// Scopes the client may request; also the default when a request names none.
    pub scopes: Vec<String>,
    /// Default `aud` of the access tokens it gets; the server default when `None`.
    pub audience: Option<String>,
    /// Further audiences it may ask for with an RFC 8707 `resource` parameter.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Redirect URIs for the authorization code flow, compared exactly (RFC 9700 §2.1).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Browser origins allowed to call the token, revocation and userinfo endpoints (CORS).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Where RP-initiated logout may send the browser back to.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// A third-party client: users are asked for consent.
    #[serde(default)]
    pub third_party: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.client_id)
            .field("public", &self.secret_hash.is_none())
            .field("grant_types", &self.grant_types)
            .finish_non_exhaustive()
    }
}

/// A refresh-token family: one login session (`sid`) and the chain of refresh tokens it rotates
/// through (RFC 9700 §4.14.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// The user's `sub`.
    pub sub: String,
    /// The client the family is bound to.
    pub client_id: String,
    /// The granted scope (space-separated); refreshes may only narrow it.
    pub scope: String,
    /// Time of the original authentication, unix seconds.
    pub auth_time: u64,
    /// Authentication methods used (RFC 8176 values, space-separated, e.g. `pwd`).
    pub amr: String,
    /// The user's username at login, for the `preferred_username` claim.
    pub username: String,
    /// The user's email at login, for the `email` claim.
    pub email: Option<String>,
}

/// The result of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now dead and its successor's hash is stored.
    Rotated(Family),
    /// The token had already been rotated: the whole family is now revoked.
    Reused {
        /// The family's user.
        sub: String,
        /// The family's client.
        client_id: String,
    },
    /// The scope asked for is not within the granted scope; nothing changed.
    ScopeExceeded,
    /// Unknown, expired, revoked, or bound to another client; nothing changed.
    Invalid,
}

/// The result of redeeming an authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// First use: the code's record (JSON); it is now marked used by the given family.
    Fresh(String),
    /// Already redeemed: the family its first use opened (to revoke, RFC 6749 §4.1.2).
    Reused(String),
    /// Unknown or expired.
    Unknown,
}

/// What a stored refresh token is, for introspection and revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// The current token of a live family.
    Current(Family),
    /// A rotated-away token of a live family.
    Rotated(Family),
    /// Nothing known (never issued, expired or revoked).
    Unknown,
}

/// The persistence backend. Every method is one round trip to Redis at most.
#[derive(Clone)]
pub enum Store {
    /// In-process maps behind a mutex (`--dev`, tests).
    Memory(memory::MemoryStore),
    /// Redis standalone or Cluster (production).
    Redis(redis::RedisStore),
}

/// Calls the backend's method; a failed Redis call counts in `tessera_store_errors_total`.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Memory(s) => s.$method($($arg),*).await,
            Store::Redis(s) => {
                let result = s.$method($($arg),*).await;
                if result.is_err() {
                    s.errors.inc();
                }
                result
            }
        }
    };
}

impl Store {
    /// The counter of failed store commands (Redis only), for the metrics registry.
    pub fn error_counter(&self) -> Option<prometheus::IntCounter> {
        match self {
            Store::Memory(_) => None,
            Store::Redis(s) => Some(s.errors.clone()),
        }
    }

    /// Checks the backend answers (`PING`).
    ///
    /// # Errors
    /// [`StoreError`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self.ping())
    }

    /// The user with this normalised username.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        dispatch!(self.user(username))
    }

    /// The user with this `sub`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn user_by_sub(&self, sub: &str) -> Result<Option<User>, StoreError> {
        dispatch!(self.user_by_sub(sub))
    }

    /// Stores `user`. With `create_only`, refuses (returns `false`) when the username exists.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn put_user(&self, user: &User, create_only: bool) -> Result<bool, StoreError> {
        dispatch!(self.put_user(user, create_only))
    }

    /// The client with this id.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        dispatch!(self.client(client_id))
    }

    /// Stores `client`. With `create_only`, refuses (returns `false`) when the id is taken.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn put_client(&self, client: &Client, create_only: bool) -> Result<bool, StoreError> {
        dispatch!(self.put_client(client, create_only))
    }

    /// Removes client `client_id`; `true` if it existed.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError> {
        dispatch!(self.remove_client(client_id))
    }

    /// Every registered client, in no particular order.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        dispatch!(self.clients())
    }

    /// Creates family `family_id` whose current refresh token hashes to `token_hash`, alive for
    /// `ttl` seconds, and indexes it under the user.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn create_family(
        &self,
        family_id: &str,
        family: &Family,
        token_hash: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        dispatch!(self.create_family(family_id, family, token_hash, ttl))
    }

    /// Atomically rotates the refresh token `presented_hash` of `family_id` to `new_hash` for
    /// `client_id`, checking `scope` (empty: no narrowing) is within the grant. The family keeps
    /// its expiry: a session lives `refresh_token_ttl` from login. A rotated token presented
    /// again revokes the family.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable; then nothing changed.
    pub async fn rotate_refresh_token(
        &self,
        family_id: &str,
        presented_hash: &str,
        new_hash: &str,
        client_id: &str,
        scope: &[&str],
    ) -> Result<Rotation, StoreError> {
        dispatch!(self.rotate_refresh_token(family_id, presented_hash, new_hash, client_id, scope))
    }

    /// What the refresh token `token_hash` of `family_id` is, without changing anything.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn refresh_token_state(
        &self,
        family_id: &str,
        token_hash: &str,
    ) -> Result<TokenState, StoreError> {
        dispatch!(self.refresh_token_state(family_id, token_hash))
    }

    /// Whether session `family_id` is still alive (not revoked, not expired).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn family_alive(&self, family_id: &str) -> Result<bool, StoreError> {
        dispatch!(self.family_alive(family_id))
    }

    /// Revokes family `family_id`; `true` if it existed.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn revoke_family(&self, family_id: &str) -> Result<bool, StoreError> {
        dispatch!(self.revoke_family(family_id))
    }

    /// Revokes every family of user `sub`; returns how many were alive.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn revoke_user_families(&self, sub: &str) -> Result<usize, StoreError> {
        dispatch!(self.revoke_user_families(sub))
    }

    /// Counts an attempt from one client IP (`key`) against `per_minute` attempts per minute
    /// (GCRA, one atomic step at time `now_ms`).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn ip_attempt(
        &self,
        key: &str,
        now_ms: u64,
        per_minute: u32,
    ) -> Result<Verdict, StoreError> {
        dispatch!(self.ip_attempt(key, now_ms, per_minute))
    }

    /// Counts a login attempt on an account and an (account, IP) pair, atomically at time
    /// `now_ms`: refused during the account's back-off or past the pair limit; otherwise the
    /// attempt counts as a failure until [`Store::login_success`] clears it (so parallel
    /// attempts cannot overshoot), and reaching the limit starts the back-off.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn account_attempt(
        &self,
        keys: &AccountKeys,
        now_ms: u64,
        policy: &LoginPolicy,
    ) -> Result<Verdict, StoreError> {
        dispatch!(self.account_attempt(keys, now_ms, policy))
    }

    /// Clears the account and pair failure counters.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn login_success(&self, keys: &AccountKeys) -> Result<(), StoreError> {
        dispatch!(self.login_success(keys))
    }

    /// Stores `sealed` under the data-key check unless one is stored; returns the stored one.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn data_key_check(&self, sealed: &str) -> Result<String, StoreError> {
        dispatch!(self.data_key_check(sealed))
    }

    /// Accepts TOTP time step `step` for `sub` if it is later than the last accepted one
    /// (atomic compare-and-set, RFC 6238 §5.2); `false` for a replay or an older step.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn accept_totp_step(&self, sub: &str, step: u64) -> Result<bool, StoreError> {
        dispatch!(self.accept_totp_step(sub, step))
    }

    /// Replaces the recovery-code hashes of `sub` (empty: none).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn set_recovery_codes(&self, sub: &str, hashes: &[String]) -> Result<(), StoreError> {
        dispatch!(self.set_recovery_codes(sub, hashes))
    }

    /// Consumes recovery code `hash` of `sub`; `true` if it was unused (atomic: single use).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn use_recovery_code(&self, sub: &str, hash: &str) -> Result<bool, StoreError> {
        dispatch!(self.use_recovery_code(sub, hash))
    }

    /// Stores a pending login `json` under the `mfa_token` hash for `ttl` seconds.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn put_mfa_token(&self, hash: &str, json: &str, ttl: u64) -> Result<(), StoreError> {
        dispatch!(self.put_mfa_token(hash, json, ttl))
    }

    /// The pending login of a live `mfa_token` hash.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn mfa_token(&self, hash: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self.mfa_token(hash))
    }

    /// Counts a wrong second factor on an `mfa_token`; the token dies at `max` failures.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn mfa_token_failed(&self, hash: &str, max: u32) -> Result<(), StoreError> {
        dispatch!(self.mfa_token_failed(hash, max))
    }

    /// Consumes an `mfa_token`; `true` if it was still alive (single use).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn consume_mfa_token(&self, hash: &str) -> Result<bool, StoreError> {
        dispatch!(self.consume_mfa_token(hash))
    }

    /// Rotation metadata of every key, by kid.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn key_metadata(
        &self,
    ) -> Result<std::collections::HashMap<String, KeyMeta>, StoreError> {
        dispatch!(self.key_metadata())
    }

    /// Sets the rotation metadata of key `kid`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn put_key_meta(&self, kid: &str, meta: &KeyMeta) -> Result<(), StoreError> {
        dispatch!(self.put_key_meta(kid, meta))
    }

    /// Forgets the rotation metadata of key `kid`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn remove_key_meta(&self, kid: &str) -> Result<(), StoreError> {
        dispatch!(self.remove_key_meta(kid))
    }

    /// Takes the lock `name` for `ttl` seconds unless someone holds it (`SET NX EX`); `true`
    /// when taken. Not released early: it only keeps instances from acting at once.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn try_lock(&self, name: &str, ttl: u64) -> Result<bool, StoreError> {
        dispatch!(self.try_lock(name, ttl))
    }

    /// Stores a short-lived record (authorization request, login session, authorization code)
    /// of `kind` under `id` (a hash) for `ttl` seconds, replacing any earlier one.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn put_record(
        &self,
        kind: &str,
        id: &str,
        json: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        dispatch!(self.put_record(kind, id, json, ttl))
    }

    /// The live record of `kind` under `id`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn record(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self.record(kind, id))
    }

    /// Deletes the record of `kind` under `id`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn delete_record(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        dispatch!(self.delete_record(kind, id))
    }

    /// Atomically marks authorization code `id` as redeemed by `family_id` (single use).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn redeem_code(&self, id: &str, family_id: &str) -> Result<Redemption, StoreError> {
        dispatch!(self.redeem_code(id, family_id))
    }

    /// Records that login session `session` opened family `family_id` (kept `ttl` seconds).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn add_session_family(
        &self,
        session: &str,
        family_id: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        dispatch!(self.add_session_family(session, family_id, ttl))
    }

    /// Removes and returns the families opened by login session `session`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn take_session_families(&self, session: &str) -> Result<Vec<String>, StoreError> {
        dispatch!(self.take_session_families(session))
    }
}
