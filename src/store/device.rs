//! Device authorizations (RFC 8628) as the store keeps them: one hash per device code, found by
//! the device code's hash (the token endpoint's polls) or through a user-code index (the
//! verification page). Every state change — a poll (pending, slow down, denied, approved and
//! redeemed once, expired) and the user's decision — is one atomic step on the one hash, so it
//! holds across instances like refresh rotation. The typed operations below are the way in; the
//! raw contract is [`super::DeviceBackend`].
//!
//! Times are passed in (unix milliseconds), so the contract suite can prove expiry and the
//! polling interval without sleeping. A record's key lives [`EXPIRED_GRACE`] seconds past its
//! logical expiry, so a late poll is answered `expired_token` rather than `invalid_grant`.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::backend::DeviceBackend;
use super::Store;
use crate::error::StoreError;
use crate::secret::SecretHash;

/// Seconds a device authorization's key outlives its `expires_in`: late polls within it get
/// `expired_token` (RFC 8628 §3.5); after it, the code is unknown.
pub const EXPIRED_GRACE: u64 = 300;

/// A new device authorization for [`DeviceBackend::create_device`].
#[derive(Debug, Clone, Copy)]
pub struct NewDevice<'a> {
    /// The client the device code is bound to.
    pub client_id: &'a str,
    /// The request's JSON (opaque to the store).
    pub json: &'a str,
    /// The minimum polling interval at first, milliseconds (RFC 8628 §3.2 `interval`).
    pub interval_ms: u64,
    /// How much a poll that comes too early adds to the interval, milliseconds (§3.5).
    pub slow_down_ms: u64,
    /// When the codes expire, unix milliseconds (§3.2 `expires_in`).
    pub expires_ms: u64,
    /// How long the key lives, seconds (`expires_in` + [`EXPIRED_GRACE`]).
    pub ttl: u64,
}

/// What a poll of the token endpoint finds (RFC 8628 §3.5). Only `Approved` is answered with
/// tokens, and only once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePoll<T> {
    /// The user has not answered yet (`authorization_pending`).
    Pending,
    /// Polled before the interval passed: the interval has grown (`slow_down`).
    SlowDown,
    /// The user said no (`access_denied`).
    Denied,
    /// The codes have expired (`expired_token`).
    Expired,
    /// Approved, and this poll redeemed it: the request and the approval.
    Approved(T),
    /// Unknown, bound to another client, or already redeemed (`invalid_grant`); nothing
    /// changed.
    Invalid,
}

impl<T> DevicePoll<T> {
    /// The same answer with the approval mapped by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> Option<U>) -> DevicePoll<U> {
        match self {
            DevicePoll::Pending => DevicePoll::Pending,
            DevicePoll::SlowDown => DevicePoll::SlowDown,
            DevicePoll::Denied => DevicePoll::Denied,
            DevicePoll::Expired => DevicePoll::Expired,
            DevicePoll::Approved(t) => f(t).map_or(DevicePoll::Invalid, DevicePoll::Approved),
            DevicePoll::Invalid => DevicePoll::Invalid,
        }
    }
}

fn encode<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError("unserialisable record".into()))
}

/// A stored JSON value that no longer decodes (written by another version) counts as gone.
fn decode<T: DeserializeOwned>(json: &str) -> Option<T> {
    serde_json::from_str(json).ok()
}

impl Store {
    /// Creates the device authorization `id` (the device code's hash) for `request`, reachable
    /// by the user code's hash `user_code` as well. `false` (and nothing stored) when that user
    /// code is taken by a live authorization: draw another.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn create_device<R: Serialize>(
        &self,
        id: &SecretHash,
        user_code: &SecretHash,
        request: &R,
        new: NewDevice<'_>,
    ) -> Result<bool, StoreError> {
        let json = encode(request)?;
        let new = NewDevice { json: &json, ..new };
        self.put_device(id, user_code, &new).await
    }

    /// The authorization entered as `user_code`, while it is pending and unexpired at
    /// `now_ms`: its id and request.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn pending_device<R: DeserializeOwned>(
        &self,
        user_code: &SecretHash,
        now_ms: u64,
    ) -> Result<Option<(SecretHash, R)>, StoreError> {
        Ok(self
            .device_by_user_code(user_code, now_ms)
            .await?
            .and_then(|(id, json)| decode(&json).map(|request| (id, request))))
    }

    /// Records the user's answer to the pending authorization `id`: `Some(approval)` approves,
    /// `None` denies. `false` when it was not pending any more (decided, expired or gone).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn decide_device<A: Serialize>(
        &self,
        id: &SecretHash,
        approval: Option<&A>,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let json = approval.map(encode).transpose()?;
        self.set_device_decision(id, json.as_deref(), now_ms).await
    }

    /// One poll of authorization `id` by client `client_id` at `now_ms` (see [`DevicePoll`]).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn poll_device<R: DeserializeOwned, A: DeserializeOwned>(
        &self,
        id: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> Result<DevicePoll<(R, A)>, StoreError> {
        Ok(self
            .device_poll(id, client_id, now_ms)
            .await?
            .map(|(request, approval)| Some((decode(&request)?, decode(&approval)?))))
    }
}
