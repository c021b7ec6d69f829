//! The hosted account page (`GET /account`) over HTTP: the sign-in through tessera's own
//! client ([`crate::account`]), the page, and its rendering. The page's form posts are
//! [`super::account_forms`]. Same headers as the login pages (CSP without inline script,
//! `no-store`, frame and referrer rules), cookies `HttpOnly` and `__Host-` when secure.

use actix_web::cookie::time::OffsetDateTime;
use actix_web::cookie::SameSite;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use minijinja::context;
use serde::Serialize;

use super::extract::Params;
use super::pages::{cookie, cookie_value, page, Html, SESSION_COOKIE};
use crate::account::{self, Account, CALLBACK_PATH};
use crate::mfa;
use crate::passkeys::{self, PasskeyView};
use crate::session_list;
use crate::signin::PageError;
use crate::state::AppState;
use crate::store::Backend;

/// The cookie carrying the page sign-in's `state` and PKCE verifier to the callback.
const FLOW_COOKIE: &str = "tessera-account-flow";
/// Seconds the page's sign-in may take (the authorization request's lifetime).
const FLOW_TTL: u64 = crate::sessions::AUTH_REQUEST_TTL;

/// One passkey as the page lists it.
#[derive(Serialize)]
struct PasskeyItem {
    id: String,
    name: String,
    created: String,
    used: Option<String>,
    synced: bool,
}

/// One session (refresh-token family) as the page lists it.
#[derive(Serialize)]
struct SessionItem {
    sid: String,
    client_id: String,
    started: String,
    refreshed: Option<String>,
    amr: String,
}

/// A TOTP enrollment in progress: the QR code (base64 PNG) and the key as text.
#[derive(Serialize)]
pub(super) struct Enrollment {
    pub(super) qr_png: String,
    pub(super) secret: String,
}

impl From<mfa::Enrollment> for Enrollment {
    fn from(e: mfa::Enrollment) -> Self {
        Self {
            qr_png: e.qr_png,
            secret: e.secret,
        }
    }
}

/// The input (its `id` in account.html, or a name the template gives a group of inputs) each
/// form error is about: the page marks it
/// `aria-invalid` and ties the error to it with `aria-describedby` (WCAG 2.2 SC 3.3.1).
/// Errors about no single input (a recent sign-in needed, a passkey ceremony) have none.
fn field_of(error: &str) -> Option<&'static str> {
    match error {
        "account-error-totp-code" => Some("totp-code"),
        // The proof of the removal form: its password and its code.
        "account-error-totp-current-code" => Some("totp-remove"),
        "account-error-password-wrong" => Some("current-password"),
        "account-error-password-new" => Some("new-password"),
        _ => None,
    }
}

/// What a form's answer adds to the page: a notice and an error are message ids
/// (`crate::ui`).
#[derive(Default)]
pub(super) struct Extras {
    pub(super) notice: Option<&'static str>,
    pub(super) error: Option<&'static str>,
    pub(super) enrollment: Option<Enrollment>,
    pub(super) new_codes: Option<Vec<String>>,
}

/// A unix time as the page shows it (UTC, to the minute).
fn when(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|t| {
            format!(
                "{}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

impl From<PasskeyView> for PasskeyItem {
    fn from(v: PasskeyView) -> Self {
        Self {
            created: when(v.created_at),
            used: v.last_used_at.map(when),
            synced: v.backed_up,
            id: v.id,
            name: v.name,
        }
    }
}

/// Renders the page of `account` with `status` and `extras`.
pub(super) async fn render_account(
    state: &AppState,
    account: &Account,
    status: StatusCode,
    extras: Extras,
) -> HttpResponse {
    let user = &account.user;
    let passkeys_on = state.settings.relying_party.is_some();
    let (keys, left, sessions) = match (
        passkeys::list(state, user).await,
        state.store.recovery_codes_left(&user.sub).await,
        session_list::list(&state.store, &user.sub, None).await,
    ) {
        (Ok(keys), Ok(left), Ok(sessions)) => (keys, left, sessions),
        _ => return unavailable(),
    };
    let sessions: Vec<SessionItem> = sessions
        .into_iter()
        .map(|s| SessionItem {
            started: when(s.created_at),
            refreshed: s.last_refreshed_at.map(when),
            amr: s.amr.join(" "),
            sid: s.sid,
            client_id: s.client_id,
        })
        .collect();
    let context = context! {
        username => &user.username,
        csrf => &account.csrf,
        recent => account.recent,
        notice => extras.notice,
        error => extras.error,
        error_field => extras.error.and_then(field_of),
        passkeys_on,
        passkeys => keys.into_iter().map(PasskeyItem::from).collect::<Vec<_>>(),
        totp => user.totp.is_some(),
        enrollment => extras.enrollment,
        recovery_left => left,
        new_codes => extras.new_codes,
        sessions,
    };
    page(status, None, Html::new("account.html", context))
}

/// 303 back to the page, with `done` naming what happened (shown as a notice).
pub(super) fn back(done: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/account?done={done}")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The answer when the store fails under the account page or one of its forms: the "Please
/// try again shortly." page (503 with `Retry-After: 1`, [`PageError::Unavailable`]), never a
/// page that blames the user's input.
pub(super) fn unavailable() -> HttpResponse {
    PageError::Unavailable.error_response()
}

/// The notice of a `done` value.
fn notice_of(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "passkey-added" => "account-done-passkey-added",
        "passkey-renamed" => "account-done-passkey-renamed",
        "passkey-removed" => "account-done-passkey-removed",
        "totp-removed" => "account-done-totp-removed",
        "password-changed" => "account-done-password-changed",
        "session-ended" => "account-done-session-ended",
        "session-gone" => "account-done-session-gone",
        _ => return None,
    })
}

/// Sends the browser into the normal sign-in with the account page's client; `again` asks
/// for a fresh authentication.
fn sign_in(state: &AppState, again: bool) -> HttpResponse {
    let start = account::start_sign_in(&state.settings, again);
    let mut response = HttpResponse::Found()
        .insert_header((header::LOCATION, start.url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish();
    // Lax: the callback is a top-level navigation redirected from the sign-in pages.
    let flow = cookie(state, FLOW_COOKIE, start.flow, FLOW_TTL, SameSite::Lax);
    let _ = response.add_cookie(&flow);
    response
}

/// `GET /account`: the page for a signed-in browser; otherwise the sign-in.
pub async fn account_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let session = cookie_value(&state, &req, SESSION_COOKIE);
    match account::account(&state, session.as_deref()).await {
        Ok(Some(account)) => {
            let done = Params::from_query(&req).ok();
            let extras = Extras {
                notice: notice_of(done.as_ref().and_then(|p| p.get("done"))),
                ..Extras::default()
            };
            render_account(&state, &account, StatusCode::OK, extras).await
        }
        Ok(None) => sign_in(&state, false),
        Err(_) => unavailable(),
    }
}

/// `GET /account/reauth`: signs in again (`prompt=login`) for a change that needs a recent
/// authentication.
pub async fn reauth(state: web::Data<AppState>) -> HttpResponse {
    sign_in(&state, true)
}

/// `GET /account/callback`: the end of the page's sign-in (RFC 6749 §4.1.2): checks `state`
/// and the code, then 303 to the page.
pub async fn callback(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let params = Params::from_query(&req).ok();
    let get = |name| params.as_ref().and_then(|p| p.get(name));
    let flow = cookie_value(&state, &req, FLOW_COOKIE);
    let session = cookie_value(&state, &req, SESSION_COOKIE);
    let finished = account::finish_sign_in(
        &state,
        flow.as_deref(),
        get("state"),
        get("code"),
        session.as_deref(),
    )
    .await;
    let mut response = match finished {
        Ok(true) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/account"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Ok(false) => {
            tracing::info!(target: "audit", event = "account_sign_in_refused", path = CALLBACK_PATH);
            super::pages::message(
                StatusCode::BAD_REQUEST,
                "error-heading",
                "error-account-sign-in",
            )
        }
        Err(_) => unavailable(),
    };
    let mut gone = cookie(&state, FLOW_COOKIE, String::new(), 0, SameSite::Lax);
    gone.make_removal();
    let _ = response.add_cookie(&gone);
    response
}
