//! Passkeys (WebAuthn L3) for users: registration, listing, renaming, removal, and the
//! checking of a sign-in assertion ([`assertion`]). HTTP-free. Every WebAuthn structure is
//! made and checked by `webauthn-rs` (attestation, CBOR/COSE, signatures, counters, flags);
//! nothing here parses one.
//!
//! Ceremony state is a store [`Record`] (the crate's `danger-allow-state-serialisation`), so any
//! instance can finish a ceremony another began: a registration is keyed by the user (one at a
//! time; a new start replaces it) and taken on finish, so it is single use.

pub mod assertion;

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, Credential, Passkey, PasskeyRegistration,
    RegisterPublicKeyCredential, Uuid, Webauthn,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use crate::clock::now;
use crate::error::StoreError;
use crate::secret::SecretHash;
use crate::state::AppState;
use crate::store::{Added, PasskeyBackend, Record, StoredPasskey, User};

/// Passkeys a user may have at most.
pub const MAX_PASSKEYS: usize = 20;
/// Seconds a ceremony (registration or sign-in challenge) stays open: WebAuthn L3 §15.1
/// recommends 300 s for `timeout` where user verification is required.
pub const CEREMONY_TTL: u64 = 300;
/// Longest passkey name, characters.
pub const MAX_NAME: usize = 64;

/// Why a passkey operation was refused. Messages never contain credential data.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The server has no relying party configured (`webauthn_rp_id`).
    #[error("passkeys are not enabled on this server")]
    Disabled,
    /// No registration is open (never started, expired, or already finished).
    #[error("no passkey registration is in progress: start again")]
    NoCeremony,
    /// `webauthn-rs` refused the credential (origin, RP ID, challenge, flags, signature).
    #[error("the passkey could not be verified")]
    Rejected,
    /// The user has [`MAX_PASSKEYS`] already.
    #[error("at most 20 passkeys per user: remove one first")]
    Full,
    /// The credential is registered already.
    #[error("this passkey is already registered")]
    Exists,
    /// No passkey with that id.
    #[error("no such passkey")]
    NotFound,
    /// The name is empty, too long or has control characters.
    #[error("the name must be 1 to 64 characters without control characters")]
    BadName,
    /// The store is unavailable.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An open registration: whose, and the `webauthn-rs` state.
#[derive(Serialize, Deserialize)]
struct Registration {
    sub: String,
    state: PasskeyRegistration,
}

impl Record for Registration {
    const KIND: &'static str = "pkreg";
}

/// A passkey as the user sees it (the JSON API's and the account page's item).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PasskeyView {
    /// The credential id, base64url.
    pub id: String,
    /// The user's name for it.
    pub name: String,
    /// Registered, unix seconds.
    pub created_at: u64,
    /// Last sign-in, unix seconds.
    pub last_used_at: Option<u64>,
    /// WebAuthn L3 §6.1 BE flag: the credential may be synced (a multi-device passkey).
    pub backup_eligible: bool,
    /// WebAuthn L3 §6.1 BS flag: the credential is backed up or synced now.
    pub backed_up: bool,
}

impl From<&StoredPasskey> for PasskeyView {
    fn from(stored: &StoredPasskey) -> Self {
        let cred = credential(&stored.passkey);
        Self {
            id: stored.id.clone(),
            name: stored.name.clone(),
            created_at: stored.created_at,
            last_used_at: stored.last_used_at,
            backup_eligible: cred.backup_eligible,
            backed_up: cred.backup_state,
        }
    }
}

/// The credential's recorded properties (read only).
fn credential(passkey: &Passkey) -> Credential {
    passkey.clone().into()
}

/// The RFC 8176 methods a passkey sign-in with user verification proves: `hwk` for a
/// device-bound key, `swk` for a backup-eligible one (its private key is not confined to one
/// hardware authenticator, WebAuthn L3 §6.1.3), and `user` (the user verification gesture).
pub fn methods(passkey: &Passkey) -> &'static str {
    if credential(passkey).backup_eligible {
        "swk user"
    } else {
        "hwk user"
    }
}

/// The relying party, when passkeys are on.
///
/// # Errors
/// [`PasskeyError::Disabled`].
pub fn relying_party(state: &AppState) -> Result<&Webauthn, PasskeyError> {
    state
        .settings
        .relying_party
        .as_ref()
        .map(|rp| &*rp.webauthn)
        .ok_or(PasskeyError::Disabled)
}

/// The WebAuthn user handle of `user`: its `sub` (a UUID), so no other id is stored.
fn user_handle(user: &User) -> Result<Uuid, PasskeyError> {
    Uuid::parse_str(&user.sub).map_err(|_| PasskeyError::Rejected)
}

/// The store key of `sub`'s open registration.
fn registration_key(sub: &str) -> SecretHash {
    SecretHash::of(sub)
}

/// Checks a user-chosen name.
///
/// # Errors
/// [`PasskeyError::BadName`].
pub fn check_name(name: &str) -> Result<String, PasskeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(PasskeyError::BadName);
    }
    Ok(name.to_owned())
}

/// The `base64url` form of a credential id.
pub fn encode_id(id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// Starts registering a passkey for `user` (WebAuthn L3 §7.1): a discoverable credential
/// (`residentKey: required`) with user verification required, attestation `none`, and the
/// user's passkeys in `excludeCredentials`. Returns the options for
/// `navigator.credentials.create`; a previous open registration of the user is replaced.
///
/// # Errors
/// [`PasskeyError::Disabled`], [`PasskeyError::Full`], store failures.
pub async fn start_registration(
    state: &AppState,
    user: &User,
) -> Result<CreationChallengeResponse, PasskeyError> {
    let webauthn = relying_party(state)?;
    let existing = state.store.user_passkeys(&user.sub).await?;
    if existing.len() >= MAX_PASSKEYS {
        return Err(PasskeyError::Full);
    }
    let exclude = existing
        .iter()
        .map(|p| p.passkey.cred_id().clone())
        .collect();
    let (mut options, registration) = webauthn
        .start_passkey_registration(
            user_handle(user)?,
            &user.username,
            &user.username,
            Some(exclude),
        )
        .map_err(|_| PasskeyError::Rejected)?;
    // A passkey is a discoverable credential (WebAuthn L3 §5.4.6 `residentKey`), so it signs in
    // without a username; `webauthn-rs` leaves this to the relying party.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    let record = Registration {
        sub: user.sub.clone(),
        state: registration,
    };
    state
        .store
        .put(&registration_key(&user.sub), &record, CEREMONY_TTL)
        .await?;
    Ok(options)
}

/// Finishes the registration `user` started, naming the passkey `name`. The open
/// registration is used up whatever the outcome.
///
/// # Errors
/// [`PasskeyError::NoCeremony`], [`PasskeyError::Rejected`], [`PasskeyError::Full`],
/// [`PasskeyError::Exists`], [`PasskeyError::BadName`], store failures.
pub async fn finish_registration(
    state: &AppState,
    user: &User,
    credential: &RegisterPublicKeyCredential,
    name: &str,
) -> Result<PasskeyView, PasskeyError> {
    let webauthn = relying_party(state)?;
    let name = check_name(name)?;
    let record = state
        .store
        .take::<Registration>(&registration_key(&user.sub))
        .await?
        .filter(|r| r.sub == user.sub)
        .ok_or(PasskeyError::NoCeremony)?;
    let passkey = webauthn
        .finish_passkey_registration(credential, &record.state)
        .map_err(|e| {
            tracing::info!(target: "audit", event = "passkey_register_refused", sub = %user.sub, reason = %e);
            PasskeyError::Rejected
        })?;
    let stored = StoredPasskey {
        id: encode_id(passkey.cred_id()),
        name,
        created_at: now(),
        last_used_at: None,
        passkey,
    };
    match state
        .store
        .add_user_passkey(&user.sub, &stored, MAX_PASSKEYS)
        .await?
    {
        Added::Added => {}
        Added::Exists => return Err(PasskeyError::Exists),
        Added::Full => return Err(PasskeyError::Full),
    }
    tracing::info!(target: "audit", event = "passkey_registered", sub = %user.sub, passkey = %stored.id);
    Ok(PasskeyView::from(&stored))
}

/// The passkeys of `user`, oldest first.
///
/// # Errors
/// Store failures.
pub async fn list(state: &AppState, user: &User) -> Result<Vec<PasskeyView>, PasskeyError> {
    let keys = state.store.user_passkeys(&user.sub).await?;
    Ok(keys.iter().map(PasskeyView::from).collect())
}

/// Renames passkey `id` of `user`.
///
/// # Errors
/// [`PasskeyError::NotFound`], [`PasskeyError::BadName`], store failures.
pub async fn rename(
    state: &AppState,
    user: &User,
    id: &str,
    name: &str,
) -> Result<PasskeyView, PasskeyError> {
    let name = check_name(name)?;
    let mut stored = state
        .store
        .user_passkeys(&user.sub)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(PasskeyError::NotFound)?;
    stored.name = name;
    if !state.store.save_user_passkey(&user.sub, &stored).await? {
        return Err(PasskeyError::NotFound);
    }
    tracing::info!(target: "audit", event = "passkey_renamed", sub = %user.sub, passkey = %id);
    Ok(PasskeyView::from(&stored))
}

/// Removes passkey `id` of `user`.
///
/// # Errors
/// [`PasskeyError::NotFound`], store failures.
pub async fn remove(state: &AppState, user: &User, id: &str) -> Result<(), PasskeyError> {
    if !state.store.remove_passkey(&user.sub, id).await? {
        return Err(PasskeyError::NotFound);
    }
    tracing::info!(target: "audit", event = "passkey_removed", sub = %user.sub, passkey = %id);
    Ok(())
}
