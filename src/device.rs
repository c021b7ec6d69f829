//! The device authorization grant's state (RFC 8628), HTTP-free: device codes, user codes,
//! the pending request and the user's approval. The device authorization endpoint
//! ([`start`]), the verification page (`signin`: [`pending`], [`decide`]) and the token
//! endpoint's polls (`grants`: [`poll`]) meet here; the store makes every step atomic.
//!
//! - **Device code**: 256 random bits (base64url, 43 characters), held only by the device and
//!   stored only as its SHA-256, the key of the authorization.
//! - **User code** (§6.1): 8 characters from the 20 consonants `BCDFGHJKLMNPQRSTVWXZ` (no
//!   vowels, so no words; no digits or look-alikes), shown as `XXXX-XXXX` and accepted
//!   case-insensitively, with or without the dash or spaces. Two live authorizations never
//!   share one (the store's index is taken with `SET NX`; a clash draws again).
//!
//! **Brute force (§5.1).** The user-code space is 20^8 = 25,600,000,000 (≈ 2^34.6). A code
//! lives `device_code_ttl` (default 600 s) and can be entered only while pending. Every code
//! entry on the verification page counts against the per-IP limit `login_ip_limit_per_minute`
//! (GCRA, default 10 per minute with a burst of 10), so one IP makes at most 10 + 10 × 10 = 110
//! entries in a code's lifetime: the chance that it hits one particular live code is
//! 110 / 2.56 × 10^10 ≈ 4.3 × 10^-9, and with 1,000 codes live at once about 4.3 × 10^-6 per IP
//! and lifetime. Even a hit gains little: the attacker must still sign in, and then approves
//! the victim's device for the attacker's own account. (With the limit set to 0 — only behind a
//! proxy that limits instead — entries are not counted.)
//!
//! **Polling (§3.5).** The interval starts at [`INTERVAL`] seconds; a poll sooner than the
//! interval after the previous one gets `slow_down` and adds [`SLOW_DOWN`] seconds for good.

use serde::{Deserialize, Serialize};

use crate::clock::now_ms;
use crate::error::StoreError;
use crate::secret::{random_token, SecretHash};
use crate::store::device::EXPIRED_GRACE;
use crate::store::{DevicePoll, NewDevice, Store};

/// The grant type URI of RFC 8628 §3.4, also the grant a client is registered for.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The initial minimum polling interval, seconds (§3.2 `interval`; §3.5 default 5).
pub const INTERVAL: u64 = 5;
/// What a `slow_down` adds to the interval, seconds (§3.5).
pub const SLOW_DOWN: u64 = 5;
/// The user-code alphabet of §6.1: 20 consonants.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// User-code length in characters (§6.1: 20^8 ≈ 2^34.6).
pub const USER_CODE_LENGTH: usize = 8;
/// User codes drawn before giving up when every one is taken (a clash is ~1 in 10^7 even with
/// thousands live, so reaching this means something is wrong).
const USER_CODE_DRAWS: usize = 5;

/// A user code in canonical form: 8 upper-case letters of [`USER_CODE_ALPHABET`]. Displayed
/// (`Display`) as `XXXX-XXXX`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserCode(String);

impl UserCode {
    /// A fresh user code, each character uniform over the alphabet (OS CSPRNG).
    pub fn generate() -> Self {
        use rand::Rng;
        let mut rng = rand::rngs::OsRng;
        Self(
            (0..USER_CODE_LENGTH)
                .map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())]))
                .collect(),
        )
    }

    /// Parses what a user typed (§6.1): case-insensitive, dashes and spaces ignored. `None`
    /// unless 8 characters of the alphabet remain.
    pub fn parse(typed: &str) -> Option<Self> {
        let code: String = typed
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid =
            code.len() == USER_CODE_LENGTH && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
        valid.then_some(Self(code))
    }

    /// The stored form (the key of the store's user-code index).
    fn hash(&self) -> SecretHash {
        SecretHash::of(&self.0)
    }
}

impl std::fmt::Display for UserCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (first, second) = self.0.split_at(self.0.len() / 2);
        write!(f, "{first}-{second}")
    }
}

/// What a device asked for (§3.1), kept with its authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRequest {
    /// The client the device code is bound to.
    pub client_id: String,
    /// The scope to grant, space-separated (validated against the client).
    pub scope: String,
    /// The user code, for the approval page to show beside the device's.
    pub user_code: UserCode,
}

/// The user's approval: who signed in, when and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceApproval {
    /// The user's normalised username.
    pub username: String,
    /// The user's `sub`.
    pub sub: String,
    /// When the user authenticated, unix seconds.
    pub auth_time: u64,
    /// RFC 8176 methods, space-separated.
    pub amr: String,
}

/// The answer of the device authorization endpoint (§3.2), without the URIs. `Debug` leaves
/// out the device code.
pub struct DeviceAuthorization {
    /// The device code (256 bits), for the device's polls; stored only hashed.
    pub device_code: String,
    /// The user code, for the user to type.
    pub user_code: UserCode,
    /// Seconds until both codes expire.
    pub expires_in: u64,
    /// Minimum seconds between polls.
    pub interval: u64,
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Starts a device authorization for `client_id` with the (already validated) `scope`, alive
/// `ttl` seconds.
///
/// # Errors
/// [`StoreError`] when the store is down, or when no free user code was found.
pub async fn start(
    store: &Store,
    client_id: &str,
    scope: String,
    ttl: u64,
) -> Result<DeviceAuthorization, StoreError> {
    let device_code = random_token();
    let id = SecretHash::of(&device_code);
    let mut request = DeviceRequest {
        client_id: client_id.to_owned(),
        scope,
        user_code: UserCode::generate(),
    };
    let new = NewDevice {
        client_id,
        json: "",
        interval_ms: INTERVAL * 1000,
        slow_down_ms: SLOW_DOWN * 1000,
        expires_ms: now_ms().saturating_add(ttl.saturating_mul(1000)),
        ttl: ttl + EXPIRED_GRACE,
    };
    for _ in 0..USER_CODE_DRAWS {
        let user_code = request.user_code.hash();
        if store.create_device(&id, &user_code, &request, new).await? {
            return Ok(DeviceAuthorization {
                device_code,
                user_code: request.user_code,
                expires_in: ttl,
                interval: INTERVAL,
            });
        }
        request.user_code = UserCode::generate();
    }
    Err(StoreError("no free user code".into()))
}

/// The pending authorization entered as `user_code`: its id (the device code's hash) and
/// request. `None` for unknown, expired or already answered codes.
///
/// # Errors
/// [`StoreError`] when the store is down.
pub async fn pending(
    store: &Store,
    user_code: &UserCode,
) -> Result<Option<(SecretHash, DeviceRequest)>, StoreError> {
    store.pending_device(&user_code.hash(), now_ms()).await
}

/// Records the user's answer to the pending authorization `id`: `Some` approves, `None` denies
/// (§3.3). `false` when it was no longer pending (answered meanwhile, or expired).
///
/// # Errors
/// [`StoreError`] when the store is down.
pub async fn decide(
    store: &Store,
    id: &SecretHash,
    approval: Option<&DeviceApproval>,
) -> Result<bool, StoreError> {
    store.decide_device(id, approval, now_ms()).await
}

/// One poll of the token endpoint with `device_code` by client `client_id` (§3.4): see
/// [`DevicePoll`]; `Approved` comes once.
///
/// # Errors
/// [`StoreError`] when the store is down.
pub async fn poll(
    store: &Store,
    device_code: &str,
    client_id: &str,
) -> Result<DevicePoll<(DeviceRequest, DeviceApproval)>, StoreError> {
    store
        .poll_device(&SecretHash::of(device_code), client_id, now_ms())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_consonants_shown_with_a_dash() {
        let code = UserCode::generate();
        let shown = code.to_string();
        assert_eq!(shown.len(), 9);
        assert_eq!(&shown[4..5], "-");
        assert!(shown
            .bytes()
            .filter(|b| *b != b'-')
            .all(|b| USER_CODE_ALPHABET.contains(&b)));
        assert_ne!(code, UserCode::generate());
    }

    #[test]
    fn typed_codes_are_case_insensitive_with_or_without_the_dash() {
        let code = UserCode::parse("BCDF-GHJK").unwrap();
        assert_eq!(UserCode::parse("bcdfghjk"), Some(code.clone()));
        assert_eq!(UserCode::parse(" bcdf ghjk "), Some(code.clone()));
        assert_eq!(code.to_string(), "BCDF-GHJK");
        for bad in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "ABCD-EFGH",
            "BCDF-GHJ1",
            "ＢCDF-GHJK",
        ] {
            assert_eq!(UserCode::parse(bad), None, "{bad}");
        }
    }
}
