//! The hosted pages' forms: password, second factor, consent. Each is bound to its pending
//! request and checked for CSRF before anything else happens; the password and second-factor
//! steps apply the same limits, checks and audit events as the password and `mfa-otp` grants.

use std::net::IpAddr;
use std::sync::Arc;

use subtle::ConstantTimeEq;

use super::authorize::{client_of, continue_signed_in};
use super::passkey::factors_of;
use super::step::{Factors, Notice, Outcome, PageError, Pending, Redirect, Step};
use crate::clock::now;
use crate::mfa::{verify_second_factor, MfaError, MFA_TOKEN_ATTEMPTS};
use crate::sessions::{
    auth_request, auth_request_attempt, finish_auth_request, login_session, open_login_session,
    save_login_session, update_auth_request, Continuation, LoginSession,
};
use crate::state::AppState;
use crate::store::{Attempt, Backend, Client, User};
use crate::users::{authenticate_limited, normalize_password, normalize_username};

/// What every page form carries: the pending request's id and the CSRF token, from the form and
/// from its cookie. No `Debug`: it holds the CSRF token.
#[derive(Default, Clone, Copy)]
pub struct FormContext<'a> {
    /// The hidden `request_id` field.
    pub request_id: Option<&'a str>,
    /// The hidden `csrf` field.
    pub csrf: Option<&'a str>,
    /// The CSRF cookie's value.
    pub csrf_cookie: Option<&'a str>,
}

/// The login form's fields, as typed.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// `username`.
    pub username: &'a str,
    /// `password`.
    pub password: &'a str,
}

/// The second-factor form's fields: a TOTP code (RFC 6238) or a recovery code. No `Debug`:
/// both are secrets.
#[derive(Default, Clone, Copy)]
pub struct SecondFactorInput<'a> {
    /// `otp`.
    pub otp: Option<&'a str>,
    /// `recovery_code`.
    pub recovery_code: Option<&'a str>,
}

/// The pending request a form belongs to, after the CSRF check, with its client.
pub(super) async fn pending_form(
    state: &AppState,
    form: FormContext<'_>,
) -> Result<(Pending, Arc<Client>), PageError> {
    let id = form.request_id.ok_or(PageError::Expired)?;
    let request = auth_request(&state.store, id)
        .await?
        .ok_or(PageError::Expired)?;
    let same =
        |a: Option<&str>| bool::from(a.unwrap_or("").as_bytes().ct_eq(request.csrf.as_bytes()));
    if !(same(form.csrf) && same(form.csrf_cookie)) {
        tracing::warn!(target: "audit", event = "csrf_rejected", client_id = %request.client_id);
        return Err(PageError::Forged);
    }
    let client = client_of(state, &request.client_id).await?;
    let pending = Pending {
        id: id.to_owned(),
        request,
    };
    Ok((pending, client))
}

/// The password step from client address `ip`, with the same limits and audit events as the
/// password grant. A user with a second factor goes on to [`Step::SecondFactor`].
///
/// # Errors
/// A [`PageError`] for a form that is expired, forged or from a removed client.
pub async fn login(
    state: &AppState,
    form: FormContext<'_>,
    credentials: Credentials<'_>,
    ip: IpAddr,
) -> Result<Outcome, PageError> {
    let (mut pending, client) = pending_form(state, form).await?;
    let typed = credentials.username;
    let retry = |pending, client, notice| {
        Ok(Step::Login {
            pending,
            client,
            username: typed.to_owned(),
            notice: Some(notice),
        }
        .into())
    };
    let (Ok(username), Ok(password)) = (
        normalize_username(typed),
        normalize_password(credentials.password),
    ) else {
        return retry(pending, client, Notice::MissingCredentials);
    };
    let checked = authenticate_limited(
        &state.limiter,
        &state.store,
        &state.hasher,
        &username,
        password,
        ip,
    );
    let user = match checked.await {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::info!(target: "audit", event = "login_failure", client_id = %client.client_id, %ip);
            return retry(pending, client, Notice::InvalidCredentials);
        }
        Err(e) => return retry(pending, client, Notice::of(&e)),
    };
    let Ok(factors) = factors_of(state, &user).await else {
        return retry(pending, client, Notice::Unavailable);
    };
    if factors.any() {
        pending.request.mfa_user = Some(user.username.clone());
        if update_auth_request(&state.store, &pending.id, &pending.request)
            .await
            .is_err()
        {
            return retry(pending, client, Notice::Unavailable);
        }
        return Ok(Step::SecondFactor {
            pending,
            factors,
            notice: None,
        }
        .into());
    }
    signed_in(state, client, pending, &user, "pwd").await
}

/// The second step, with the same replay protection and the same account-wide second-factor
/// limit as the `mfa-otp` grant ([`verify_second_factor`]); each attempt spends one of the
/// pending request's [`MFA_TOKEN_ATTEMPTS`] before the code is looked at. When
/// the browser's login session (`session_cookie`) is the same user's (a step-up), that session
/// is upgraded in place, keeping its families and consents; otherwise a new one opens.
///
/// # Errors
/// [`PageError::StartAgain`] without a password step or when the user went away,
/// [`PageError::TooManyCodes`] at the request's limit (during the account's back-off the step
/// shows again with [`Notice::TooManyAttempts`]), and as for the other forms.
pub async fn second_factor(
    state: &AppState,
    form: FormContext<'_>,
    factor: SecondFactorInput<'_>,
    ip: IpAddr,
    session_cookie: Option<&str>,
) -> Result<Outcome, PageError> {
    let (pending, client) = pending_form(state, form).await?;
    let username = pending
        .request
        .mfa_user
        .clone()
        .ok_or(PageError::StartAgain)?;
    let user = match state.store.user(&username).await {
        Ok(Some(user)) if !user.disabled => user,
        Ok(_) => return Err(PageError::StartAgain),
        Err(_) => return Err(PageError::Unavailable),
    };
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
    let (otp, recovery) = (factor.otp, factor.recovery_code);
    let (store, key) = (&state.store, &state.data_key);
    match verify_second_factor(&state.limiter, store, key, &user, otp, recovery).await {
        // RFC 8176 §2: password plus one-time password.
        Ok(method) => {
            let amr = format!("pwd {method}");
            second_step_passed(state, client, pending, &user, &amr, session_cookie).await
        }
        Err(MfaError::Refused(e)) => again(pending, Notice::of(&e)),
        Err(MfaError::Store(e)) => Err(e.into()),
        Err(_) => {
            tracing::info!(target: "audit", event = "mfa_failure", sub = %user.sub, %ip);
            wrong_second_factor(pending, factors, Notice::InvalidCode, left)
        }
    }
}

/// Spends one of the pending request's [`MFA_TOKEN_ATTEMPTS`] second-step attempts, before the
/// factor is looked at (atomic: parallel guesses never get more evaluations); returns the
/// attempts left after this one.
///
/// # Errors
/// [`PageError::TooManyCodes`] when every attempt is spent, [`PageError::Expired`] when the
/// request is gone.
pub(super) async fn spend_second_step(
    state: &AppState,
    pending: &Pending,
) -> Result<u32, PageError> {
    match auth_request_attempt(&state.store, &pending.id, MFA_TOKEN_ATTEMPTS).await? {
        Attempt::Counted { left } => Ok(left),
        Attempt::Exhausted => Err(PageError::TooManyCodes),
        Attempt::Unknown => Err(PageError::Expired),
    }
}

/// A wrong second factor with `left` attempts left on `pending`: the step again with
/// `notice`.
///
/// # Errors
/// [`PageError::TooManyCodes`] after the last attempt.
pub(super) fn wrong_second_factor(
    pending: Pending,
    factors: Factors,
    notice: Notice,
    left: u32,
) -> Result<Outcome, PageError> {
    if left == 0 {
        return Err(PageError::TooManyCodes);
    }
    Ok(Step::SecondFactor {
        pending,
        factors,
        notice: Some(notice),
    }
    .into())
}

/// The second step of `user` succeeded with `amr` (RFC 8176). When the browser's login session
/// (`session_cookie`) is the same user's (a step-up), that session is upgraded in place,
/// keeping its families and consents; otherwise a new one opens.
///
/// # Errors
/// [`PageError::Unavailable`].
pub(super) async fn second_step_passed(
    state: &AppState,
    client: Arc<Client>,
    pending: Pending,
    user: &User,
    amr: &str,
    session_cookie: Option<&str>,
) -> Result<Outcome, PageError> {
    let store = &state.store;
    if let Some(cookie) = session_cookie {
        if let Some(mut session) = login_session(store, cookie).await? {
            if session.sub == user.sub {
                amr.clone_into(&mut session.amr);
                session.auth_time = now();
                let ttl = state.settings.login_session_ttl;
                save_login_session(store, cookie, &session, ttl).await?;
                tracing::info!(target: "audit", event = "browser_login", sub = %user.sub, client_id = %client.client_id, amr = %session.amr);
                let Pending { id, request } = pending;
                let step =
                    continue_signed_in(state, client, request, Some(id), cookie, session, true);
                return step.await.map(Outcome::from);
            }
        }
    }
    signed_in(state, client, pending, user, amr).await
}

/// The user allows (`allow`) or denies a third-party client; the scopes allowed are remembered
/// for the client in the login session behind `session_cookie`.
///
/// # Errors
/// [`PageError::SignInAgain`] without a live login session, and as for the other forms.
pub async fn consent(
    state: &AppState,
    form: FormContext<'_>,
    session_cookie: Option<&str>,
    allow: bool,
) -> Result<Outcome, PageError> {
    let (pending, client) = pending_form(state, form).await?;
    let cookie = session_cookie.ok_or(PageError::SignInAgain)?;
    let Ok(Some(mut session)) = login_session(&state.store, cookie).await else {
        return Err(PageError::SignInAgain);
    };
    let Continuation::Code(request) = &pending.request.then else {
        return Err(PageError::StartAgain);
    };
    if !allow {
        let _ = finish_auth_request(&state.store, &pending.id).await;
        tracing::info!(target: "audit", event = "consent_denied", sub = %session.sub, client_id = %client.client_id);
        let denied = Redirect::error(
            &request.redirect_uri,
            request.state.as_deref(),
            "access_denied",
            "the user denied access",
            true,
        );
        return Ok(Step::Redirect(denied).into());
    }
    // OIDC Core §3.1.2.4: what was granted is remembered per client and per scope.
    session.grant(&client.client_id, &pending.request.scope);
    let ttl = state.settings.login_session_ttl;
    save_login_session(&state.store, cookie, &session, ttl).await?;
    tracing::info!(target: "audit", event = "consent_granted", sub = %session.sub, client_id = %client.client_id);
    let Pending { id, mut request } = pending;
    // The consent `prompt=consent` asked for is given: continue to the code.
    if let Continuation::Code(code) = &mut request.then {
        code.prompt_consent = false;
    }
    continue_signed_in(state, client, request, Some(id), cookie, session, true)
        .await
        .map(Outcome::from)
}

/// The user has authenticated with `amr` (RFC 8176): open a login session and continue.
pub(super) async fn signed_in(
    state: &AppState,
    client: Arc<Client>,
    pending: Pending,
    user: &User,
    amr: &str,
) -> Result<Outcome, PageError> {
    let session = LoginSession {
        username: user.username.clone(),
        sub: user.sub.clone(),
        auth_time: now(),
        amr: amr.to_owned(),
        consents: Default::default(),
    };
    let ttl = state.settings.login_session_ttl;
    let cookie = open_login_session(&state.store, &session, ttl).await?;
    tracing::info!(target: "audit", event = "browser_login", sub = %user.sub, client_id = %client.client_id, amr);
    let Pending { id, request } = pending;
    let step = continue_signed_in(state, client, request, Some(id), &cookie, session, true).await?;
    Ok(Outcome {
        step,
        new_session: Some(cookie),
    })
}
