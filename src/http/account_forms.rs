//! The account page's form posts (and the one JSON call its script makes): passkeys (add,
//! rename, remove), TOTP (set up, confirm, remove), recovery codes, password, sign-out. Each
//! needs the browser's login session and the page's CSRF token; adding or removing a factor
//! also needs a recent authentication (`passkey_reauth_max_age`), else the page asks to sign
//! in again (removing TOTP: or the current password and a current code). Every change is an
//! audit event (logged by the domain functions).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use super::account_page::{back, render_account, unavailable, Enrollment, Extras};
use super::extract::{ClientIp, Params};
use super::pages::{cookie_value, render, SESSION_COOKIE};
use crate::account::{self, csrf_ok, Account};
use crate::error::OAuthError;
use crate::mfa;
use crate::passkeys::{self, PasskeyError};
use crate::sessions::end_login_session;
use crate::signin::{Outcome, PageError, Step};
use crate::state::AppState;
use crate::users::{authenticate_limited, normalize_password, set_password};

/// The account of a form post whose CSRF token checks out, or the answer to give instead:
/// without a session, back to the page (which signs in); a forged form, 403.
pub(super) async fn account_of(
    state: &AppState,
    req: &HttpRequest,
    form: &Params,
) -> Result<Account, HttpResponse> {
    let session = cookie_value(state, req, SESSION_COOKIE);
    match account::account(state, session.as_deref()).await {
        Ok(Some(account)) if csrf_ok(&account, form.get("csrf")) => Ok(account),
        Ok(Some(account)) => {
            tracing::warn!(target: "audit", event = "csrf_rejected", sub = %account.user.sub, page = "account");
            Err(actix_web::ResponseError::error_response(&PageError::Forged))
        }
        Ok(None) => Err(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/account"))
            .finish()),
        Err(_) => Err(unavailable()),
    }
}

/// The page again with `error` (400).
async fn refused(state: &AppState, account: &Account, error: &'static str) -> HttpResponse {
    let extras = Extras {
        error: Some(error),
        ..Extras::default()
    };
    render_account(state, account, StatusCode::BAD_REQUEST, extras).await
}

const SIGN_IN_AGAIN: &str = "account-error-sign-in-again";

/// `account_or_answer!(state, req, form)`: the [`Account`] of a page form post, or returns the
/// answer [`account_of`] gives instead (303 to the page without a session, 403 on a bad CSRF
/// token).
macro_rules! account_or_answer {
    ($state:expr, $req:expr, $form:expr) => {
        match $crate::http::account_forms::account_of(&$state, &$req, &$form).await {
            Ok(account) => account,
            Err(answer) => return answer,
        }
    };
}
pub(super) use account_or_answer;

/// The page again with the error of a refused passkey form (400); a store failure is not the
/// user's mistake: 503, and nothing changed.
async fn passkey_refused(state: &AppState, account: &Account, e: &PasskeyError) -> HttpResponse {
    let error = match e {
        PasskeyError::Store(_) => return unavailable(),
        PasskeyError::Full => "account-error-passkeys-full",
        PasskeyError::Exists => "account-error-passkey-exists",
        PasskeyError::BadName => "account-error-passkey-name",
        PasskeyError::NotFound => "account-error-passkey-gone",
        PasskeyError::Disabled => "account-passkeys-off",
        PasskeyError::NoCeremony | PasskeyError::Rejected => "account-error-passkey-failed",
    };
    refused(state, account, error).await
}

/// `POST /account/passkey/options` (the page's script): 200 with the creation options, as
/// `POST /account/passkeys/register/start`; 401 `insufficient_user_authentication` when the
/// sign-in is not recent.
pub async fn passkey_options(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Params,
) -> Result<HttpResponse, OAuthError> {
    let account = match account_of(&state, &req, &form).await {
        Ok(account) => account,
        Err(_) => return Err(OAuthError::invalid_request("sign in to your account first")),
    };
    if !account.recent {
        return Err(OAuthError::insufficient_user_authentication(
            state.settings.passkey_reauth_max_age,
        ));
    }
    let options = passkeys::start_registration(&state, &account.user).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(options))
}

/// `POST /account/passkey/add` with `name` and `credential` (the browser's answer, JSON).
pub async fn passkey_add(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Params,
) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    if !account.recent {
        return refused(&state, &account, SIGN_IN_AGAIN).await;
    }
    let Some(credential) = form
        .get("credential")
        .and_then(|c| serde_json::from_str::<RegisterPublicKeyCredential>(c).ok())
    else {
        return refused(&state, &account, "account-error-passkey-failed").await;
    };
    let name = form.get("name").unwrap_or("");
    match passkeys::finish_registration(&state, &account.user, &credential, name).await {
        Ok(_) => back("passkey-added"),
        Err(e) => passkey_refused(&state, &account, &e).await,
    }
}

/// `POST /account/passkey/rename` with `id` and `name`.
pub async fn passkey_rename(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Params,
) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    let (id, name) = (form.get("id").unwrap_or(""), form.get("name").unwrap_or(""));
    match passkeys::rename(&state, &account.user, id, name).await {
        Ok(_) => back("passkey-renamed"),
        Err(e) => passkey_refused(&state, &account, &e).await,
    }
}

/// `POST /account/passkey/remove` with `id`.
pub async fn passkey_remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Params,
) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    if !account.recent {
        return refused(&state, &account, SIGN_IN_AGAIN).await;
    }
    match passkeys::remove(&state, &account.user, form.get("id").unwrap_or("")).await {
        Ok(()) => back("passkey-removed"),
        Err(e) => passkey_refused(&state, &account, &e).await,
    }
}

/// `POST /account/totp/start`: a new pending TOTP secret (RFC 6238), shown as a QR code and
/// as text on the page that answers.
pub async fn totp_start(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Params,
) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    if !account.recent {
        return refused(&state, &account, SIGN_IN_AGAIN).await;
    }
    let issuer = &state.settings.totp_issuer;
    let user = account.user.clone();
    let Ok(started) = mfa::start_enrollment(&state.store, &state.data_key, issuer, user).await
    else {
        return unavailable();
    };
    let extras = Extras {
        enrollment: Some(Enrollment::from(started)),
        ..Extras::default()
    };
    render_account(&state, &account, StatusCode::OK, extras).await
}

/// `POST /account/totp/confirm` with `code`: activates the pending secret and shows the new
/// recovery codes once. A wrong code shows the same pending key again (400); a store failure
/// answers 503 and changes nothing.
pub async fn totp_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Params,
) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    let code = form.get("code").unwrap_or("");
    let user = account.user.clone();
    match mfa::confirm_enrollment(&state.store, &state.data_key, user, code).await {
        Ok(codes) => {
            let Ok(Some(account)) = account::account(
                &state,
                cookie_value(&state, &req, SESSION_COOKIE).as_deref(),
            )
            .await
            else {
                return unavailable();
            };
            let extras = Extras {
                notice: Some("account-done-totp-set-up"),
                new_codes: Some(codes),
                ..Extras::default()
            };
            render_account(&state, &account, StatusCode::OK, extras).await
        }
        // The store failed: not the user's mistake, and nothing changed.
        Err(mfa::MfaError::Store(_)) => unavailable(),
        Err(_) => {
            // The pending secret stays: the page shows it again, so a mistyped code needs no
            // new scan (WCAG 2.2 SC 3.3.7); without one, the set-up starts over.
            let issuer = &state.settings.totp_issuer;
            let pending = mfa::pending_enrollment(&state.data_key, issuer, &account.user);
            let extras = Extras {
                error: Some(match pending {
                    Some(_) => "account-error-totp-code",
                    None => "account-error-totp-start-again",
                }),
                enrollment: pending.map(Enrollment::from),
                ..Extras::default()
            };
            render_account(&state, &account, StatusCode::BAD_REQUEST, extras).await
        }
    }
}

/// `POST /account/totp/remove`: after a recent sign-in, or with the current `password` and a
/// current `code` (the password first, through the login limiter, so a wrong one spends no
/// code: [`mfa::prove_owner`]). A code alone is not enough. A store failure answers 503.
pub async fn totp_remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    ClientIp(ip): ClientIp,
    form: Params,
) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    if !account.recent {
        let proof = mfa::OwnerProof {
            password: form.get("password").unwrap_or(""),
            otp: form.get("code").filter(|c| !c.is_empty()),
            recovery_code: None,
        };
        if let Err(e) = mfa::prove_owner(&state, &account.user, ip, proof).await {
            let error = match e.status() {
                StatusCode::TOO_MANY_REQUESTS => "account-error-too-many-attempts",
                StatusCode::SERVICE_UNAVAILABLE => return unavailable(),
                _ => "account-error-totp-current-code",
            };
            return refused(&state, &account, error).await;
        }
    }
    match mfa::disable(&state.store, account.user.clone()).await {
        Ok(()) => back("totp-removed"),
        Err(_) => unavailable(),
    }
}

/// `POST /account/recovery-codes`: replaces the recovery codes and shows the new ones once;
/// 503 when the store fails.
pub async fn recovery_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Params,
) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    if !account.recent {
        return refused(&state, &account, SIGN_IN_AGAIN).await;
    }
    match mfa::regenerate_recovery_codes(&state.store, &account.user).await {
        Ok(codes) => {
            let extras = Extras {
                new_codes: Some(codes),
                ..Extras::default()
            };
            render_account(&state, &account, StatusCode::OK, extras).await
        }
        Err(mfa::MfaError::Store(_)) => unavailable(),
        Err(_) => refused(&state, &account, "account-error-totp-first").await,
    }
}

/// `POST /account/password` with `current_password` and `new_password`: every refresh-token
/// session of the user is signed out; this browser's login session stays. The current password
/// is checked under the login limits (`users::authenticate_limited`), like every other password
/// check: a stolen session cookie gives no unlimited guesses at it.
pub async fn password(
    state: web::Data<AppState>,
    req: HttpRequest,
    ClientIp(ip): ClientIp,
    form: Params,
) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    let wrong = "account-error-password-wrong";
    let Ok(current) = normalize_password(form.get("current_password").unwrap_or("")) else {
        return refused(&state, &account, wrong).await;
    };
    let new = form.get("new_password").unwrap_or("");
    if normalize_password(new).is_err() {
        return refused(&state, &account, "account-error-password-new").await;
    }
    let user = &account.user;
    let (store, hasher) = (&state.store, &state.hasher);
    match authenticate_limited(&state.limiter, store, hasher, &user.username, current, ip).await {
        Ok(Some(_)) => {}
        Ok(None) => return refused(&state, &account, wrong).await,
        Err(e) if e.is_rate_limit() => {
            return refused(&state, &account, "account-error-too-many-attempts").await
        }
        Err(_) => return unavailable(),
    }
    match set_password(&state.store, &state.hasher, user.clone(), new, "self").await {
        Ok(_) => back("password-changed"),
        Err(_) => unavailable(),
    }
}

/// `POST /account/sign-out`: ends this browser's login session and its refresh-token families.
pub async fn sign_out(state: web::Data<AppState>, req: HttpRequest, form: Params) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    if let Some(cookie) = cookie_value(&state, &req, SESSION_COOKIE) {
        if end_login_session(&state.store, &cookie).await.is_err() {
            return unavailable();
        }
    }
    tracing::info!(target: "audit", event = "browser_logout", sub = %account.user.sub, page = "account");
    render(&state, Outcome::from(Step::SignedOut(None)))
}
