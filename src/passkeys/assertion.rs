//! Signing in with a passkey (WebAuthn L3 §7.2): the challenge, bound to what it signs in
//! (a pending sign-in's id) and kept as a single-use store [`Record`], and the check of the
//! browser's assertion by `webauthn-rs`, with the counter rule of §7.2 step 22 and the
//! lookup of the credential among the user's own passkeys.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PublicKeyCredential,
    RequestChallengeResponse, WebauthnError,
};

use super::{encode_id, methods, relying_party, PasskeyError, CEREMONY_TTL};
use crate::clock::now;
use crate::error::StoreError;
use crate::secret::SecretHash;
use crate::state::AppState;
use crate::store::{Backend, Record, User};

/// An open sign-in challenge.
#[derive(Serialize, Deserialize)]
enum Challenge {
    /// Any user's discoverable passkey (empty `allowCredentials`, WebAuthn L3 §5.5): the
    /// authenticator names the user by its user handle.
    Discoverable(DiscoverableAuthentication),
    /// A passkey of user `sub` (the second step after a password).
    OfUser {
        sub: String,
        state: PasskeyAuthentication,
    },
}

impl Record for Challenge {
    const KIND: &'static str = "pkauth";
}

/// Why an assertion was refused; each is logged as an audit event by [`verify`].
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No open challenge for this sign-in (expired, already used, never started).
    #[error("no passkey challenge is open: start again")]
    NoChallenge,
    /// `webauthn-rs` refused it: wrong origin or RP ID, another challenge, bad signature,
    /// missing user verification.
    #[error("the passkey could not be verified")]
    Rejected,
    /// The credential is not one of the user's passkeys (unknown, removed, or another
    /// user's).
    #[error("this passkey is not registered")]
    UnknownCredential,
    /// The signature counter did not advance: a possibly cloned authenticator.
    #[error("this passkey's signature counter went backwards")]
    CounterRegression,
    /// The user is disabled or gone.
    #[error("the account cannot sign in")]
    UserGone,
    /// Passkeys are off.
    #[error("passkeys are not enabled on this server")]
    Disabled,
    /// The store is unavailable.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PasskeyError> for Refusal {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::Store(e) => Refusal::Store(e),
            PasskeyError::Disabled => Refusal::Disabled,
            _ => Refusal::Rejected,
        }
    }
}

/// A verified passkey sign-in.
#[derive(Debug)]
pub struct Verified {
    /// The user.
    pub user: User,
    /// The RFC 8176 methods it proves (`hwk user` or `swk user`).
    pub methods: &'static str,
}

/// Opens a sign-in challenge for `binding` (a pending sign-in's id), replacing any earlier
/// one: for `user`'s passkeys (a second step), or for any discoverable passkey when `None`.
/// Returns the options for `navigator.credentials.get`.
///
/// # Errors
/// [`PasskeyError::Disabled`], [`PasskeyError::NotFound`] when `user` has no passkey, store
/// failures.
pub async fn challenge(
    state: &AppState,
    binding: &str,
    user: Option<&User>,
) -> Result<RequestChallengeResponse, PasskeyError> {
    let webauthn = relying_party(state)?;
    let (options, challenge) = match user {
        None => {
            let (options, auth) = webauthn
                .start_discoverable_authentication()
                .map_err(|_| PasskeyError::Rejected)?;
            (options, Challenge::Discoverable(auth))
        }
        Some(user) => {
            let keys: Vec<_> = state
                .store
                .user_passkeys(&user.sub)
                .await?
                .into_iter()
                .map(|p| p.passkey)
                .collect();
            if keys.is_empty() {
                return Err(PasskeyError::NotFound);
            }
            let (options, auth) = webauthn
                .start_passkey_authentication(&keys)
                .map_err(|_| PasskeyError::Rejected)?;
            let sub = user.sub.clone();
            (options, Challenge::OfUser { sub, state: auth })
        }
    };
    state
        .store
        .put(&SecretHash::of(binding), &challenge, CEREMONY_TTL)
        .await?;
    Ok(options)
}

/// Checks `credential` against the challenge of `binding`, which is used up whatever the
/// outcome (a replayed or late assertion finds none). On success the passkey's counter and
/// last use are saved. Every refusal is an audit event (`passkey_login_refused`; a counter
/// that went backwards is `passkey_counter_regression`, a warning).
///
/// # Errors
/// A [`Refusal`]; nothing changed but the challenge is gone.
pub async fn verify(
    state: &AppState,
    binding: &str,
    credential: &PublicKeyCredential,
) -> Result<Verified, Refusal> {
    let result = check(state, binding, credential).await;
    let passkey = encode_id(credential.get_credential_id());
    match &result {
        Ok(verified) => {
            tracing::info!(target: "audit", event = "passkey_login", sub = %verified.user.sub, %passkey);
        }
        Err(Refusal::CounterRegression) => {
            tracing::warn!(target: "audit", event = "passkey_counter_regression", %passkey, "possible cloned authenticator");
        }
        Err(Refusal::Store(_)) => {}
        Err(reason) => {
            tracing::info!(target: "audit", event = "passkey_login_refused", %passkey, reason = %reason);
        }
    }
    result
}

async fn check(
    state: &AppState,
    binding: &str,
    credential: &PublicKeyCredential,
) -> Result<Verified, Refusal> {
    let webauthn = relying_party(state)?;
    let challenge: Challenge = state
        .store
        .take(&SecretHash::of(binding))
        .await?
        .ok_or(Refusal::NoChallenge)?;
    let cred_id = credential.get_credential_id();
    let sub = match &challenge {
        Challenge::OfUser { sub, .. } => sub.clone(),
        Challenge::Discoverable(_) => webauthn
            .identify_discoverable_authentication(credential)
            .map_err(|_| Refusal::UnknownCredential)?
            .0
            .to_string(),
    };
    let user = state
        .store
        .user_by_sub(&sub)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(Refusal::UserGone)?;
    let id = encode_id(cred_id);
    // Only the user's own passkeys count: a credential registered to another user, removed, or
    // never registered is unknown here (WebAuthn L3 §7.2 step 6).
    let mut stored = state
        .store
        .user_passkeys(&user.sub)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(Refusal::UnknownCredential)?;
    let outcome = match challenge {
        Challenge::Discoverable(auth) => {
            webauthn.finish_discoverable_authentication_v2(credential, auth, &stored.passkey)
        }
        Challenge::OfUser { state: auth, .. } => {
            webauthn.finish_passkey_authentication(credential, &auth)
        }
    };
    let result = outcome.map_err(|e| match e {
        // WebAuthn L3 §7.2 step 22: a counter that did not grow signals a cloned authenticator.
        WebauthnError::CredentialPossibleCompromise => Refusal::CounterRegression,
        _ => Refusal::Rejected,
    })?;
    if result.cred_id() != stored.passkey.cred_id() || !result.user_verified() {
        return Err(Refusal::Rejected);
    }
    stored.passkey.update_credential(&result);
    stored.last_used_at = Some(now());
    if !state.store.save_user_passkey(&user.sub, &stored).await? {
        return Err(Refusal::UnknownCredential);
    }
    Ok(Verified {
        methods: methods(&stored.passkey),
        user,
    })
}
