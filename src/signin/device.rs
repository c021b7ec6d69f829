//! The device verification page (RFC 8628 §3.3): the user types the code a device shows (or
//! follows `verification_uri_complete`), signs in through the usual login and second-factor
//! steps, and approves or denies the device on a page that names the client, the scopes and
//! the user code, and warns against remote phishing (§5.4). A pending device approval is an
//! [`AuthRequest`] whose continuation is [`Continuation::Device`], so the sign-in steps lead
//! back here instead of to a redirect.
//!
//! Code entries count against the per-IP limit (§5.1: see [`crate::device`] for the
//! arithmetic); a wrong, expired or answered code gets the same notice.

use std::net::IpAddr;

use super::authorize::{client_of, continue_signed_in, login_form};
use super::forms::{pending_form, FormContext};
use super::step::{Notice, Outcome, PageError, Step};
use crate::device::{self, DeviceApproval, UserCode};
use crate::sessions::{csrf_token, finish_auth_request, login_session, AuthRequest, Continuation};
use crate::state::AppState;

/// The code form, empty: what `GET /device` shows without a `user_code`.
pub fn device_form() -> Outcome {
    Step::DeviceCode {
        user_code: String::new(),
        notice: None,
    }
    .into()
}

/// The user entered `typed` as a user code from client address `ip` (a form post, or the
/// `user_code` of `verification_uri_complete`). A pending code leads a signed-in user (by
/// `session_cookie`) to the approval page, anyone else to the login form; every entry counts
/// against the per-IP limit, and a bad one shows the form again with a notice. The pending
/// sign-in keeps the browser's CSRF token (`csrf_cookie`, see [`csrf_token`]).
///
/// # Errors
/// [`PageError::ClientGone`] when the code's client was removed; [`PageError::Unavailable`]
/// when the store is down.
pub async fn enter_user_code(
    state: &AppState,
    typed: &str,
    session_cookie: Option<&str>,
    csrf_cookie: Option<&str>,
    ip: IpAddr,
) -> Result<Outcome, PageError> {
    let again = |notice| {
        Ok(Step::DeviceCode {
            user_code: typed.to_owned(),
            notice: Some(notice),
        }
        .into())
    };
    // RFC 8628 §5.1: the brute-force limit, counted before the code is looked at.
    if let Err(e) = state.limiter.check_ip(ip).await {
        return again(Notice::of(&e));
    }
    let Some(user_code) = UserCode::parse(typed) else {
        return again(Notice::InvalidUserCode);
    };
    let Some((id, pending)) = device::pending(&state.store, &user_code).await? else {
        return again(Notice::InvalidUserCode);
    };
    let client = client_of(state, &pending.client_id).await?;
    let request = AuthRequest {
        client_id: pending.client_id,
        scope: pending.scope,
        csrf: csrf_token(csrf_cookie),
        mfa_user: None,
        then: Continuation::Device {
            device: id,
            user_code: user_code.to_string(),
        },
    };
    if let Some(cookie) = session_cookie {
        if let Some(session) = login_session(&state.store, cookie).await? {
            let step = continue_signed_in(state, client, request, None, cookie, session, true);
            return step.await.map(Outcome::from);
        }
    }
    login_form(state, client, request).await
}

/// The signed-in user (by `session_cookie`) approves (`approve`) or denies the device
/// authorization of the approval form; the device learns the answer at its next poll.
///
/// # Errors
/// [`PageError::SignInAgain`] without a live login session, [`PageError::StartAgain`] for a
/// form that is not a device approval, [`PageError::DeviceCodeGone`] when the authorization
/// expired or was answered meanwhile, and as for the other forms.
pub async fn decide_device(
    state: &AppState,
    form: FormContext<'_>,
    session_cookie: Option<&str>,
    approve: bool,
) -> Result<Outcome, PageError> {
    let (pending, client) = pending_form(state, form).await?;
    let Continuation::Device { device: id, .. } = &pending.request.then else {
        return Err(PageError::StartAgain);
    };
    let cookie = session_cookie.ok_or(PageError::SignInAgain)?;
    let session = login_session(&state.store, cookie)
        .await?
        .ok_or(PageError::SignInAgain)?;
    let approval = approve.then(|| DeviceApproval {
        username: session.username.clone(),
        sub: session.sub.clone(),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
    });
    let decided = device::decide(&state.store, id, approval.as_ref()).await?;
    // Best effort: the request expires by itself, and the decision is taken once anyway.
    let _ = finish_auth_request(&state.store, &pending.id).await;
    if !decided {
        return Err(PageError::DeviceCodeGone);
    }
    if approve {
        tracing::info!(target: "audit", event = "device_approved", sub = %session.sub, client_id = %client.client_id);
    } else {
        tracing::info!(target: "audit", event = "device_denied", sub = %session.sub, client_id = %client.client_id);
    }
    Ok(Step::DeviceDone { approved: approve }.into())
}
