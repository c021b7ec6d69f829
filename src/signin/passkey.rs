//! The passkey steps of the hosted sign-in (WebAuthn L3 §7.2): "Sign in with a passkey" (a
//! discoverable credential, no username) on the login form, with conditional mediation, and a
//! passkey as the second step after a password, as an alternative to TOTP or recovery codes.
//!
//! The challenge is bound to the pending sign-in (keyed by its id), single use (taken by the
//! answer) and short lived ([`crate::passkeys::CEREMONY_TTL`]). Attempts count in the per-IP
//! login limit. A passkey with user verification is a complete multi-factor sign-in: its
//! `amr` (RFC 8176 §2) is `hwk user mfa` or `swk user mfa`, without `pwd`.

use std::net::IpAddr;

use webauthn_rs::prelude::{PublicKeyCredential, RequestChallengeResponse};

use super::forms::{pending_form, second_step_passed, signed_in, wrong_second_factor, FormContext};
use super::step::{Factors, Notice, Outcome, PageError, Step};
use crate::error::StoreError;
use crate::passkeys::assertion::{challenge, verify, Refusal};
use crate::passkeys::PasskeyError;
use crate::state::AppState;
use crate::store::{Backend, PasskeyBackend, User};

/// The second factors `user` has (one store call when passkeys are on).
///
/// # Errors
/// Store failures.
pub(super) async fn factors_of(state: &AppState, user: &User) -> Result<Factors, StoreError> {
    let passkey =
        state.settings.relying_party.is_some() && state.store.passkey_count(&user.sub).await? > 0;
    Ok(Factors {
        totp: user.totp.is_some(),
        passkey,
    })
}

/// The options for `navigator.credentials.get` to sign in the pending request of `form`: any
/// discoverable passkey on the login step, the user's passkeys on the second step. A new
/// challenge replaces the request's earlier one.
///
/// # Errors
/// As the other forms; [`PageError::PasskeysOff`] when passkeys are off or the user of the
/// second step has none.
pub async fn passkey_options(
    state: &AppState,
    form: FormContext<'_>,
) -> Result<RequestChallengeResponse, PageError> {
    let (pending, _) = pending_form(state, form).await?;
    let user = match &pending.request.mfa_user {
        Some(username) => Some(
            state
                .store
                .user(username)
                .await?
                .filter(|u| !u.disabled)
                .ok_or(PageError::StartAgain)?,
        ),
        None => None,
    };
    challenge(state, &pending.id, user.as_ref())
        .await
        .map_err(|e| match e {
            PasskeyError::Store(e) => e.into(),
            _ => PageError::PasskeysOff,
        })
}

/// The browser's answer `credential` to the challenge of the pending request of `form`, from
/// client address `ip`. On the login step the passkey's user signs in; on the second step it
/// must be the password's user's, and a refusal counts as a wrong second factor.
///
/// # Errors
/// As the other forms; a refused passkey shows the step again with
/// [`Notice::PasskeyRefused`].
pub async fn passkey_login(
    state: &AppState,
    form: FormContext<'_>,
    credential: &PublicKeyCredential,
    ip: IpAddr,
    session_cookie: Option<&str>,
) -> Result<Outcome, PageError> {
    let (pending, client) = pending_form(state, form).await?;
    let second_step = match &pending.request.mfa_user {
        Some(username) => {
            let user = state
                .store
                .user(username)
                .await?
                .filter(|u| !u.disabled)
                .ok_or(PageError::StartAgain)?;
            Some((factors_of(state, &user).await?, user))
        }
        None => None,
    };
    let shown_again = |pending, notice| match &second_step {
        Some((factors, _)) => Step::SecondFactor {
            pending,
            factors: *factors,
            notice: Some(notice),
        },
        None => Step::Login {
            pending,
            client: client.clone(),
            username: String::new(),
            notice: Some(notice),
        },
    };
    if let Err(e) = state.limiter.check_ip(ip).await {
        return Ok(shown_again(pending, Notice::of(&e)).into());
    }
    let verified = match verify(state, &pending.id, credential).await {
        Ok(verified) => verified,
        Err(Refusal::Store(e)) => return Err(e.into()),
        Err(_) => {
            tracing::info!(target: "audit", event = "login_failure", client_id = %client.client_id, %ip, method = "passkey");
            return match second_step {
                Some((factors, _)) => {
                    wrong_second_factor(state, pending, factors, Notice::PasskeyRefused).await
                }
                None => Ok(shown_again(pending, Notice::PasskeyRefused).into()),
            };
        }
    };
    match second_step {
        // RFC 8176 §2: password plus a key-based proof of possession.
        Some((_, user)) if user.sub == verified.user.sub => {
            let amr = format!("pwd {} mfa", verified.methods);
            second_step_passed(state, client, pending, &user, &amr, session_cookie).await
        }
        Some(_) => Err(PageError::StartAgain),
        None => {
            let amr = format!("{} mfa", verified.methods);
            signed_in(state, client, pending, &verified.user, &amr).await
        }
    }
}
