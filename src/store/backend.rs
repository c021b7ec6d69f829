//! The store contract, written once: both backends implement [`Backend`], and so does
//! [`super::Store`], which dispatches to the backend it holds (static dispatch, no boxing).
//! `tests/api/store_contract.rs` runs one suite against both backends.
//!
//! Every method is one round trip to Redis at most, except where its doc says otherwise. Every
//! method fails only with [`StoreError`] when the backend is unavailable; then nothing changed.

use std::collections::HashMap;
use std::net::IpAddr;

use super::device::{DevicePoll, NewDevice};
use super::limits::{Backoff, Limit};
use super::model::{
    Client, Family, KeyMeta, Presenter, Rotation, Successor, TokenState, User, UsersPage,
};
use super::records::{Kind, Redemption};
use crate::error::StoreError;
use crate::secret::SecretHash;

/// What a persistence backend does. Callers hold a concrete [`super::Store`], so the futures'
/// `Send`-ness is known at every call site (hence no `Send` bounds in the trait).
#[allow(async_fn_in_trait)]
pub trait Backend {
    /// Checks the backend answers (`PING`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The user with this normalised username.
    async fn user(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// The user with this `sub` (two round trips: the index, then the user).
    async fn user_by_sub(&self, sub: &str) -> Result<Option<User>, StoreError>;

    /// Stores `user`. With `create_only`, refuses (returns `false`) when the username exists.
    async fn put_user(&self, user: &User, create_only: bool) -> Result<bool, StoreError>;

    /// Up to `limit` users after the index member `cursor` (exclusive; `None`: from the
    /// start), in creation order (see [`super::names::USER_INDEX`]). A user created meanwhile
    /// comes after every existing one, so paging sees each user once. One round trip for the
    /// index, then two per user.
    async fn users_page(&self, cursor: Option<&str>, limit: usize)
        -> Result<UsersPage, StoreError>;

    /// Removes `user`: its record (freeing the username), its `sub` index entry, its place in
    /// the user index, its recovery codes and TOTP step, and every refresh-token family
    /// (session). `true` if the record existed. One round trip per key (they live in different
    /// cluster slots), then as [`Backend::revoke_user_families`].
    async fn remove_user(&self, user: &User) -> Result<bool, StoreError>;

    /// How many unused recovery codes `sub` has.
    async fn recovery_codes_left(&self, sub: &str) -> Result<usize, StoreError>;

    /// The client with this id.
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError>;

    /// Stores `client`. With `create_only`, refuses (returns `false`) when the id is taken.
    async fn put_client(&self, client: &Client, create_only: bool) -> Result<bool, StoreError>;

    /// Removes client `client_id`; `true` if it existed.
    async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError>;

    /// Every registered client, in no particular order (one round trip per client).
    async fn clients(&self) -> Result<Vec<Client>, StoreError>;

    /// Creates family `family_id` whose current refresh token hashes to `token_hash`, alive for
    /// `ttl` seconds, and indexes it under the user (two round trips: the index lives in
    /// another cluster slot, and is written first, so a family is never alive without being
    /// reachable by logout-everywhere).
    async fn create_family(
        &self,
        family_id: &str,
        family: &Family,
        token_hash: &SecretHash,
        ttl: u64,
    ) -> Result<(), StoreError>;

    /// Atomically rotates the refresh token `presented` of `family_id` to `successor` for
    /// `client_id` (a family opened under another registration of that id, see
    /// [`Presenter::client_registered_at`], is [`Rotation::Invalid`] and unchanged), checking
    /// `scope` (empty: no narrowing) is within the grant, and records the
    /// time as the session's last refresh. The family keeps its expiry: a session lives
    /// `refresh_token_ttl` from login. A rotated token presented again revokes the family (RFC
    /// 9700 §4.14.2) and queues its back-channel logout notice (a second round trip, only
    /// then) — except, with a grace window ([`Successor::grace`]), the parent of the current
    /// token presented within the window before the current one was used: that answers
    /// [`Rotation::Repeated`] with the sealed current token, changing nothing. A family bound
    /// to a DPoP key (`jkt`) answers [`Rotation::KeyMismatch`], changing nothing, unless `jkt`
    /// is that key. One script; nothing more runs for a grace of 0.
    async fn rotate_refresh_token(
        &self,
        family_id: &str,
        presented: &SecretHash,
        successor: Successor<'_>,
        by: Presenter<'_>,
    ) -> Result<Rotation, StoreError>;

    /// What the refresh token `token_hash` of `family_id` is, without changing anything.
    async fn refresh_token_state(
        &self,
        family_id: &str,
        token_hash: &SecretHash,
    ) -> Result<TokenState, StoreError>;

    /// Whether session `family_id` is still alive (not revoked, not expired).
    async fn family_alive(&self, family_id: &str) -> Result<bool, StoreError>;

    /// Revokes family `family_id` and queues its back-channel logout notice
    /// ([`super::notices`]); `true` if it existed. Three round trips: the family is read, the
    /// notice queued (another cluster slot), then the family deleted, so a crash in between
    /// leaves a notice too many rather than a session ended silently.
    async fn revoke_family(&self, family_id: &str) -> Result<bool, StoreError>;

    /// Revokes every family of user `sub`, as [`Backend::revoke_family`] each; returns how
    /// many were alive.
    async fn revoke_user_families(&self, sub: &str) -> Result<usize, StoreError>;

    /// Counts an attempt from client `ip` against `per_minute` attempts per minute (GCRA, one
    /// atomic step at time `now_ms`; see [`super::limits::gcra`]).
    async fn ip_attempt(
        &self,
        ip: IpAddr,
        now_ms: u64,
        per_minute: u32,
    ) -> Result<Limit, StoreError>;

    /// Counts a login attempt on account `username` from address `ip` (the caller's limit
    /// address), atomically at `now_ms`. Every allowed attempt counts as an unresolved failure
    /// of the (account, address) pair until [`Backend::login_success`] clears it, so parallel
    /// attempts cannot overshoot. Refused ([`LimitedBy::Pair`]) at `rule.failure_limit`
    /// unresolved attempts, for `rule.window_ms` from the pair's first. An address with an
    /// unresolved failure is refused during the account's back-off ([`LimitedBy::Account`],
    /// waiting until the back-off ends or the pair expires, whichever is first) and its further
    /// failures do not extend it. An address with none is let through the back-off, and its
    /// first failure counts against the account: reaching the limit starts (or extends) the
    /// back-off of `rule` ([`super::limits::backoff_ms`]). Account failures are remembered
    /// `rule.window_ms` after the last one (longer while a back-off runs).
    ///
    /// [`LimitedBy::Pair`]: super::limits::LimitedBy::Pair
    /// [`LimitedBy::Account`]: super::limits::LimitedBy::Account
    async fn account_attempt(
        &self,
        username: &str,
        ip: IpAddr,
        now_ms: u64,
        rule: &Backoff,
    ) -> Result<Limit, StoreError>;

    /// Clears the unresolved failures of the pair (account `username`, address `ip`) after a
    /// correct password, and takes back the one account failure the pair's first attempt
    /// counted. The other addresses' failures and a running back-off stay: a success (perhaps
    /// an attacker's who has the password) never reopens the account to the addresses that
    /// failed on it. `now_ms` is the time of the success (the memory backend's clock; Redis
    /// keeps its own).
    async fn login_success(
        &self,
        username: &str,
        ip: IpAddr,
        now_ms: u64,
    ) -> Result<(), StoreError>;

    /// Stores `sealed` as the data-key check unless one is stored; returns the stored one.
    async fn data_key_check(&self, sealed: &str) -> Result<String, StoreError>;

    /// Accepts TOTP time step `step` for `sub` if it is later than the last accepted one
    /// (atomic compare-and-set, RFC 6238 §5.2); `false` for a replay or an older step.
    async fn accept_totp_step(&self, sub: &str, step: u64) -> Result<bool, StoreError>;

    /// Replaces the recovery-code hashes of `sub` (empty: none).
    async fn set_recovery_codes(&self, sub: &str, hashes: &[SecretHash]) -> Result<(), StoreError>;

    /// Consumes recovery code `hash` of `sub`; `true` if it was unused (atomic: single use).
    async fn use_recovery_code(&self, sub: &str, hash: &SecretHash) -> Result<bool, StoreError>;

    /// Rotation metadata of every key, by kid.
    async fn key_metadata(&self) -> Result<HashMap<String, KeyMeta>, StoreError>;

    /// Sets the rotation metadata of key `kid`.
    async fn put_key_meta(&self, kid: &str, meta: &KeyMeta) -> Result<(), StoreError>;

    /// Forgets the rotation metadata of key `kid`.
    async fn remove_key_meta(&self, kid: &str) -> Result<(), StoreError>;

    /// Takes the lock `name` for `ttl` seconds unless someone holds it (`SET NX EX`); `true`
    /// when taken. Not released early: it only keeps instances from acting at once.
    async fn try_lock(&self, name: &str, ttl: u64) -> Result<bool, StoreError>;

    /// Stores the record `json` of `kind` under `id` for `ttl` seconds. A live record of that id
    /// gets the new JSON and expiry but keeps its failure count (and redemption), so rewriting
    /// a pending request cannot reset its budget. Callers use the typed [`super::Store::put`].
    async fn put_record(
        &self,
        kind: Kind,
        id: &SecretHash,
        json: &str,
        ttl: u64,
    ) -> Result<(), StoreError>;

    /// The live record of `kind` under `id`.
    async fn record(&self, kind: Kind, id: &SecretHash) -> Result<Option<String>, StoreError>;

    /// Removes and returns the live record of `kind` under `id` (atomic: one taker wins).
    async fn take_record(&self, kind: Kind, id: &SecretHash) -> Result<Option<String>, StoreError>;

    /// Spends one attempt of the record of `kind` under `id`, before the attempt is evaluated:
    /// returns the attempts so far, this one included (0 when there is no such record); an
    /// attempt past `max` deletes the record. Atomic, so parallel attempts can never get more
    /// than `max` evaluations.
    async fn record_attempt(
        &self,
        kind: Kind,
        id: &SecretHash,
        max: u32,
    ) -> Result<u32, StoreError>;

    /// Marks the record of `kind` under `id` as redeemed by family `family_id` (atomic: single
    /// use). `Fresh` with the record once, then `Reused` with the first family.
    async fn redeem_record(
        &self,
        kind: Kind,
        id: &SecretHash,
        family_id: &str,
    ) -> Result<Redemption<String>, StoreError>;

    /// Records that login session `session` opened family `family_id` (kept `ttl` seconds).
    async fn add_session_family(
        &self,
        session: &SecretHash,
        family_id: &str,
        ttl: u64,
    ) -> Result<(), StoreError>;

    /// Removes and returns the families opened by login session `session`.
    async fn take_session_families(&self, session: &SecretHash) -> Result<Vec<String>, StoreError>;

    /// Records the DPoP proof `proof` (the hash of its key thumbprint and `jti`) as seen for
    /// `ttl_ms` milliseconds: `true` the first time, `false` for a replay within that time
    /// (RFC 9449 §11.1). One atomic `SET NX PX`, so two instances never both accept one proof.
    async fn first_dpop_proof(&self, proof: &SecretHash, ttl_ms: u64) -> Result<bool, StoreError>;
}

/// The device-authorization part of the store contract (RFC 8628), kept apart from [`Backend`]
/// so each backend implements it in a file of its own. Callers use the typed operations of
/// [`super::device`]. Key names: `device:<hash>` and `user-code:<hash>` ([`super::names`]).
#[allow(async_fn_in_trait)]
pub trait DeviceBackend {
    /// Stores the device authorization `id` described by `new`, status pending, and indexes it
    /// under `user_code` (two round trips: the index lives in another cluster slot, and is
    /// taken first with `SET NX`). `false`, and nothing stored, when the user code is taken.
    async fn put_device(
        &self,
        id: &SecretHash,
        user_code: &SecretHash,
        new: &NewDevice<'_>,
    ) -> Result<bool, StoreError>;

    /// The id and request JSON of the authorization indexed under `user_code`, if it is pending
    /// and unexpired at `now_ms` (two round trips, reading only).
    async fn device_by_user_code(
        &self,
        user_code: &SecretHash,
        now_ms: u64,
    ) -> Result<Option<(SecretHash, String)>, StoreError>;

    /// Atomically decides the authorization `id` if it is pending and unexpired at `now_ms`:
    /// approved with the `approval` JSON, or denied for `None`. `true` when it was pending.
    async fn set_device_decision(
        &self,
        id: &SecretHash,
        approval: Option<&str>,
        now_ms: u64,
    ) -> Result<bool, StoreError>;

    /// Atomically polls the authorization `id` for `client_id` at `now_ms` (RFC 8628 §3.4–3.5):
    /// another client's poll changes nothing (`Invalid`); after expiry `Expired`; while pending,
    /// a poll sooner than the interval after the previous one gets `SlowDown` and grows the
    /// interval by its slow-down step, otherwise `Pending`; each poll counts as the previous one
    /// for the next; a denied one is `Denied`; an approved one is redeemed by the first poll,
    /// which gets the request and approval JSON, while later polls get `Invalid`.
    async fn device_poll(
        &self,
        id: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> Result<DevicePoll<(String, String)>, StoreError>;
}

/// The passkey part of the store contract (WebAuthn L3 §4 "credential record"): a user's
/// registered passkeys, one hash per user (`passkeys:<sub>`, field = the credential id,
/// base64url; value = the record's JSON, opaque to the store). Kept apart from [`Backend`] so
/// each backend implements it in a file of its own. Callers use [`super::passkeys`].
#[allow(async_fn_in_trait)]
pub trait PasskeyBackend {
    /// Every passkey record (JSON) of user `sub`, in no particular order.
    async fn passkeys(&self, sub: &str) -> Result<Vec<String>, StoreError>;

    /// How many passkeys user `sub` has.
    async fn passkey_count(&self, sub: &str) -> Result<usize, StoreError>;

    /// Adds the record `json` of credential `id` to `sub`'s passkeys unless `sub` has one of
    /// that id or already `max` (atomic: parallel registrations never exceed `max`).
    async fn add_passkey(
        &self,
        sub: &str,
        id: &str,
        json: &str,
        max: usize,
    ) -> Result<super::passkeys::Added, StoreError>;

    /// Replaces the record of credential `id` of `sub` with `json` if it is still registered
    /// (atomic: a passkey removed meanwhile stays removed); `false` when it is not.
    async fn replace_passkey(&self, sub: &str, id: &str, json: &str) -> Result<bool, StoreError>;

    /// Removes credential `id` of `sub`; `true` if it was registered.
    async fn remove_passkey(&self, sub: &str, id: &str) -> Result<bool, StoreError>;

    /// Removes every passkey of `sub`; returns how many there were.
    async fn remove_passkeys(&self, sub: &str) -> Result<usize, StoreError>;
}

/// The second-factor limit part of the store contract: one counter per user
/// (`rl:factor:<sub>`, [`super::names::factor_limit`]) with the back-off of the account limit.
/// Kept apart from [`Backend`] so each backend implements it in a file of its own. Callers use
/// `ratelimit::Limiter::second_factor`.
#[allow(async_fn_in_trait)]
pub trait FactorBackend {
    /// Counts a second-factor attempt on the account of user `sub` (`rl:factor:<sub>`),
    /// atomically at `now_ms`, before the factor is checked: refused
    /// ([`super::LimitedBy::SecondFactor`]) during the account's second-factor back-off;
    /// otherwise the attempt counts as a failure until [`FactorBackend::factor_success`] clears
    /// it (so parallel attempts cannot overshoot), and reaching the limit starts the back-off
    /// of `rule`, the schedule of [`Backend::account_attempt`]. Nothing else clears it: not a
    /// correct password, not a new `mfa_token`, not another address.
    async fn factor_attempt(
        &self,
        sub: &str,
        now_ms: u64,
        rule: &Backoff,
    ) -> Result<Limit, StoreError>;

    /// Clears the second-factor failures of user `sub` (a correct factor, an operator's reset).
    async fn factor_success(&self, sub: &str) -> Result<(), StoreError>;
}
