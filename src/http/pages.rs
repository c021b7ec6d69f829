//! The hosted pages: rendering of the sign-in steps ([`render`]) and of [`PageError`] (its
//! `ResponseError` impl, so handlers use `?`), with the askama templates, the security headers
//! every page carries, the cookies and the redirects back to the client. The words of every
//! notice and error are here, once.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};
use askama::Template;

use crate::sessions::AUTH_REQUEST_TTL;
use crate::signin::{
    Factors, LogoutConfirmation, Notice, Outcome, PageError, Pending, Redirect, ScopeChoice, Step,
};
use crate::state::AppState;
use crate::store::Client;

/// The session cookie's base name (the server side is a `sessions::LoginSession`).
pub(super) const SESSION_COOKIE: &str = "tessera-session";
/// The CSRF cookie's base name (double submit with the forms' `csrf` field).
pub(super) const CSRF_COOKIE: &str = "tessera-csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    client_id: &'a str,
    request_id: &'a str,
    csrf: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    passkeys: bool,
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage<'a> {
    request_id: &'a str,
    csrf: &'a str,
    error: Option<&'a str>,
    factors: Factors,
}

/// What a page asking the user to grant a client access shows and posts: the consent page and
/// the device approval page.
/// `scopes` lists the request's scopes, each marked new or already granted (OIDC Core
/// §3.1.2.4).
struct Grant<'a> {
    client_id: &'a str,
    username: &'a str,
    scopes: &'a [ScopeChoice],
    request_id: &'a str,
    csrf: &'a str,
}

impl<'a> Grant<'a> {
    fn of(
        pending: &'a Pending,
        client: &'a Client,
        username: &'a str,
        scopes: &'a [ScopeChoice],
    ) -> Self {
        Self {
            client_id: &client.client_id,
            username,
            scopes,
            request_id: &pending.id,
            csrf: &pending.request.csrf,
        }
    }

    /// Whether some of the scopes were granted before (the page then says which are new).
    fn any_granted(&self) -> bool {
        self.scopes.iter().any(|s| !s.new)
    }
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    grant: Grant<'a>,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage<'a> {
    user_code: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "device_approve.html")]
struct DeviceApprovalPage<'a> {
    grant: Grant<'a>,
    user_code: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    confirmation: &'a LogoutConfirmation,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    heading: &'a str,
    message: &'a str,
}

/// The stylesheet of the pages (the CSP allows no inline style).
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../assets/tessera.css"))
}

/// A page with a heading and a message.
pub(super) fn message(status: StatusCode, heading: &str, message: &str) -> HttpResponse {
    page(status, None, MessagePage { heading, message }.render())
}

/// The hosted pages' WebAuthn script (served from `/assets/`: the CSP allows no inline script).
pub async fn passkey_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../assets/passkey.js"))
}

/// An HTML response with the security headers every page carries. `form_target` is the origin
/// a form on this page may end up redirecting to (CSP `form-action` also governs redirects).
pub(super) fn page(
    status: StatusCode,
    form_target: Option<&str>,
    body: Result<String, askama::Error>,
) -> HttpResponse {
    let form_action = match form_target {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".into(),
    };
    let mut response = HttpResponse::build(status);
    secure_headers(&mut response, &form_action);
    match body {
        Ok(html) => response.content_type("text/html; charset=utf-8").body(html),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

fn secure_headers(response: &mut HttpResponseBuilder, form_action: &str) {
    response
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
            ),
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
}

fn origin_of(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
}

/// Cookie names: `__Host-` prefix (RFC 6265bis §4.1.3.2) when the cookies are `Secure`.
fn cookie_name(state: &AppState, base: &'static str) -> String {
    if state.settings.cookie_secure {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

pub(super) fn cookie<'c>(
    state: &AppState,
    base: &'static str,
    value: String,
    max_age: u64,
    same_site: SameSite,
) -> Cookie<'c> {
    Cookie::build(cookie_name(state, base), value)
        .path("/")
        .http_only(true)
        .secure(state.settings.cookie_secure)
        .same_site(same_site)
        .max_age(actix_web::cookie::time::Duration::seconds(
            i64::try_from(max_age).unwrap_or(i64::MAX),
        ))
        .finish()
}

/// The value of cookie `base` on the request.
pub(super) fn cookie_value(
    state: &AppState,
    req: &HttpRequest,
    base: &'static str,
) -> Option<String> {
    req.cookie(&cookie_name(state, base))
        .map(|c| c.value().to_owned())
}

fn notice_text(notice: Notice) -> (StatusCode, &'static str) {
    match notice {
        Notice::MissingCredentials => {
            (StatusCode::BAD_REQUEST, "Enter your username and password.")
        }
        Notice::InvalidCredentials => (StatusCode::BAD_REQUEST, "Invalid username or password."),
        Notice::TooManyAttempts => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts. Please wait a moment and try again.",
        ),
        Notice::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is temporarily unavailable. Please try again shortly.",
        ),
        Notice::InvalidCode => (StatusCode::BAD_REQUEST, "That code is not valid."),
        Notice::InvalidUserCode => (
            StatusCode::BAD_REQUEST,
            "That code is not valid or has expired. Check the code on your device and try again.",
        ),
        Notice::PasskeyRefused => (
            StatusCode::BAD_REQUEST,
            "That passkey could not be used to sign in. Try again, or use another way to sign in.",
        ),
    }
}

/// The status and the words of an optional notice (200 and none without one).
fn notice_status(notice: Option<Notice>) -> (StatusCode, Option<&'static str>) {
    match notice.map(notice_text) {
        Some((status, text)) => (status, Some(text)),
        None => (StatusCode::OK, None),
    }
}

/// A form page of `pending`, with its CSRF cookie. `form-action` allows the request's redirect
/// origin, because the form's answer may redirect there.
fn form_page(
    state: &AppState,
    pending: &Pending,
    notice: Option<Notice>,
    body: impl FnOnce(Option<&'static str>) -> Result<String, askama::Error>,
) -> HttpResponse {
    let (status, error) = notice_status(notice);
    let origin = pending.request.redirect_uri().and_then(origin_of);
    let mut response = page(status, origin.as_deref(), body(error));
    let csrf = cookie(
        state,
        CSRF_COOKIE,
        pending.request.csrf.clone(),
        AUTH_REQUEST_TTL,
        SameSite::Strict,
    );
    let _ = response.add_cookie(&csrf);
    response
}

/// Redirects the browser (RFC 6749 §4.1.2: `params` added to the URI's query), with `iss`
/// (RFC 9207) when it answers an authorization request.
fn redirect(state: &AppState, to: &Redirect, with_iss: bool) -> HttpResponse {
    let Ok(mut url) = url::Url::parse(&to.uri) else {
        return PageError::InvalidRedirectUri.error_response();
    };
    if !to.params.is_empty() || with_iss {
        let mut query = url.query_pairs_mut();
        for (k, v) in &to.params {
            query.append_pair(k, v);
        }
        if with_iss {
            query.append_pair("iss", &state.settings.issuer);
        }
    }
    let status = if to.after_post {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    let mut response = HttpResponse::build(status);
    secure_headers(&mut response, "'self'");
    response
        .insert_header((header::LOCATION, url.to_string()))
        .finish()
}

/// Renders a sign-in step, setting the new session cookie when one was opened.
pub(super) fn render(state: &AppState, outcome: Outcome) -> HttpResponse {
    let mut response = match outcome.step {
        Step::Login {
            pending,
            client,
            username,
            notice,
        } => form_page(state, &pending, notice, |error| {
            LoginPage {
                client_id: &client.client_id,
                request_id: &pending.id,
                csrf: &pending.request.csrf,
                username: &username,
                error,
                passkeys: state.settings.relying_party.is_some(),
            }
            .render()
        }),
        Step::SecondFactor {
            pending,
            factors,
            notice,
        } => form_page(state, &pending, notice, |error| {
            MfaPage {
                request_id: &pending.id,
                csrf: &pending.request.csrf,
                error,
                factors,
            }
            .render()
        }),
        Step::Consent {
            pending,
            client,
            username,
            scopes,
        } => form_page(state, &pending, None, |_| {
            ConsentPage {
                grant: Grant::of(&pending, &client, &username, &scopes),
            }
            .render()
        }),
        Step::DeviceCode { user_code, notice } => {
            let (status, error) = notice_status(notice);
            let body = DevicePage {
                user_code: &user_code,
                error,
            };
            page(status, None, body.render())
        }
        Step::DeviceApproval {
            pending,
            client,
            username,
            scopes,
            user_code,
        } => form_page(state, &pending, None, |_| {
            DeviceApprovalPage {
                grant: Grant::of(&pending, &client, &username, &scopes),
                user_code: &user_code,
            }
            .render()
        }),
        Step::DeviceDone { approved } => {
            let (heading, message) = if approved {
                ("Device connected", "You can return to your device now.")
            } else {
                (
                    "Device denied",
                    "The device did not get access to your account.",
                )
            };
            page(
                StatusCode::OK,
                None,
                MessagePage { heading, message }.render(),
            )
        }
        Step::Redirect(to) => redirect(state, &to, true),
        Step::ConfirmLogout(confirmation) => {
            // CSP form-action also governs the redirect the form's answer makes.
            let target = confirmation.post_logout_redirect_uri.as_deref();
            let origin = target.and_then(origin_of);
            let body = LogoutPage {
                confirmation: &confirmation,
            };
            page(StatusCode::OK, origin.as_deref(), body.render())
        }
        Step::SignedOut(target) => {
            let mut response = match target {
                Some(to) => redirect(state, &to, false),
                None => page(
                    StatusCode::OK,
                    None,
                    MessagePage {
                        heading: "Signed out",
                        message: "You are signed out.",
                    }
                    .render(),
                ),
            };
            let mut gone = cookie(state, SESSION_COOKIE, String::new(), 0, SameSite::Lax);
            gone.make_removal();
            let _ = response.add_cookie(&gone);
            response
        }
    };
    if let Some(value) = outcome.new_session {
        let ttl = state.settings.login_session_ttl;
        let session = cookie(state, SESSION_COOKIE, value, ttl, SameSite::Lax);
        let _ = response.add_cookie(&session);
    }
    response
}

/// An error page: shown, never redirected (RFC 6749 §4.1.2.1).
impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Forged => StatusCode::FORBIDDEN,
            PageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let again = "Please start again from the application.";
        let message = match self {
            PageError::Malformed(description) => description.as_str(),
            PageError::NoClient => "The request names no client.",
            PageError::UnknownClient => "The application is not registered.",
            PageError::ClientGone => "The application is no longer registered.",
            PageError::UnregisteredRedirectUri => {
                "The redirect URI is not registered for this application."
            }
            PageError::InvalidRedirectUri => "The redirect URI is invalid.",
            PageError::InvalidRequestUri => {
                "This sign-in request has expired, was already used or is invalid. Please start again from the application."
            }
            PageError::PushRequired => {
                "This application must push its authorization requests first (RFC 9126)."
            }
            PageError::Expired => {
                "This sign-in request has expired or is invalid. Please start again from the application."
            }
            PageError::Forged => {
                "The form could not be verified. Please start again from the application."
            }
            PageError::StartAgain => again,
            PageError::TooManyCodes => {
                "Too many wrong codes. Please start again from the application."
            }
            PageError::SignInAgain => "Please sign in again from the application.",
            PageError::UnregisteredLogoutUri => "The post-logout redirect URI is not registered.",
            PageError::DeviceCodeGone => {
                "This code has expired or was already answered. Please start again on your device."
            }
            PageError::LogoutNeedsClient => "Name the application (client_id or id_token_hint).",
            PageError::LogoutClientMismatch => {
                "The logout request names one application (client_id) but carries an ID token of another (id_token_hint). You are still signed in."
            }
            PageError::PasskeysOff => "Passkeys are not available here.",
            PageError::Unavailable => "Please try again shortly.",
        };
        let mut response = page(
            self.status_code(),
            None,
            MessagePage {
                heading: "Sign-in failed",
                message,
            }
            .render(),
        );
        if *self == PageError::Unavailable {
            // RFC 9110 §10.2.3.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}
