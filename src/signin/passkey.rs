//! The passkey steps of the hosted sign-in (WebAuthn L3 §7.2): "Sign in with a passkey" (a
//! discoverable credential, no username) on the login form, with conditional mediation, and a
//! passkey as the second step after a password, as an alternative to TOTP or recovery codes.
//!
//! The challenge is bound to the pending sign-in (keyed by its id), single use (taken by the
//! answer) and short lived ([`crate::passkeys::CEREMONY_TTL`]). Attempts count in the per-IP
//! login limit; at the second step also in the account's second-factor limit and the pending
//! request's attempts, as codes do. A passkey with user verification is a complete
//! multi-factor sign-in: its `amr` (RFC 8176 §2) is `hwk user mfa` or `swk user mfa`, without
//! `pwd`.

use std::net::IpAddr;
use std::sync::Arc;

use webauthn_rs::prelude::{PublicKeyCredential, RequestChallengeResponse};

use super::forms::{
    pending_form, second_step_passed, signed_in, spend_second_step, wrong_second_factor,
    FormContext,
};
use super::step::{Factors, Notice, Outcome, PageError, Pending, Step};
use crate::error::StoreError;
use crate::passkeys::assertion::{challenge, verify, Refusal};
use crate::passkeys::PasskeyError;
use crate::state::AppState;
use crate::store::{Backend, Client, PasskeyBackend, User};

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
/// client address `ip`. On the login step the passkey's user signs in. On the second step it
/// must be the password's user's, and it is a second factor like a code: it spends one of the
/// request's attempts and goes through the account's second-factor limit (another user's
/// passkey counts as refused).
///
/// # Errors
/// As the other forms; a refused passkey shows the step again with
/// [`Notice::PasskeyRefused`], and [`PageError::TooManyCodes`] after the second step's last
/// attempt.
pub async fn passkey_login(
    state: &AppState,
    form: FormContext<'_>,
    credential: &PublicKeyCredential,
    ip: IpAddr,
    session_cookie: Option<&str>,
) -> Result<Outcome, PageError> {
    let (pending, client) = pending_form(state, form).await?;
    let Some(username) = pending.request.mfa_user.clone() else {
        if let Err(e) = state.limiter.check_ip(ip).await {
            return Ok(login_again(pending, client, Notice::of(&e)));
        }
        let verified = match verify(state, &pending.id, credential).await {
            Ok(verified) => verified,
            Err(Refusal::Store(e)) => return Err(e.into()),
            Err(_) => {
                tracing::info!(target: "audit", event = "login_failure", client_id = %client.client_id, %ip, method = "passkey");
                return Ok(login_again(pending, client, Notice::PasskeyRefused));
            }
        };
        let amr = format!("{} mfa", verified.methods);
        return signed_in(state, client, pending, &verified.user, &amr).await;
    };
    let user = state
        .store
        .user(&username)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(PageError::StartAgain)?;
    let factors = factors_of(state, &user).await?;
    let again = |pending, notice| {
        Ok(Step::SecondFactor {
            pending,
            factors,
            notice: Some(notice),
        }
        .into())
    };
    if let Err(e) = state.limiter.check_ip(ip).await {
        return again(pending, Notice::of(&e));
    }
    let left = spend_second_step(state, &pending).await?;
    let check = async {
        let verified = verify(state, &pending.id, credential).await?;
        if verified.user.sub == user.sub {
            Ok(verified)
        } else {
            Err(Refusal::UnknownCredential)
        }
    };
    match state.limiter.second_factor(&user.sub, check).await {
        // RFC 8176 §2: password plus a key-based proof of possession.
        Ok(Ok(verified)) => {
            let amr = format!("pwd {} mfa", verified.methods);
            second_step_passed(state, client, pending, &user, &amr, session_cookie).await
        }
        Ok(Err(Refusal::Store(e))) => Err(e.into()),
        Ok(Err(_)) => {
            tracing::info!(target: "audit", event = "login_failure", client_id = %client.client_id, %ip, method = "passkey");
            wrong_second_factor(pending, factors, Notice::PasskeyRefused, left)
        }
        Err(e) => again(pending, Notice::of(&e)),
    }
}

/// The login step again, with `notice`.
fn login_again(pending: Pending, client: Arc<Client>, notice: Notice) -> Outcome {
    Step::Login {
        pending,
        client,
        username: String::new(),
        notice: Some(notice),
    }
    .into()
}
