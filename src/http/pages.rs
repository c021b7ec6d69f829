//! The hosted pages' plumbing: askama templates, security headers, cookies and redirects back
//! to the client. Used by [`super::authorize`].

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use askama::Template;

use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage<'a> {
    pub(super) client_id: &'a str,
    pub(super) request_id: &'a str,
    pub(super) csrf: &'a str,
    pub(super) username: &'a str,
    pub(super) error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "mfa.html")]
pub(super) struct MfaPage<'a> {
    pub(super) request_id: &'a str,
    pub(super) csrf: &'a str,
    pub(super) error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub(super) struct ConsentPage<'a> {
    pub(super) client_id: &'a str,
    pub(super) username: &'a str,
    pub(super) scopes: Vec<&'a str>,
    pub(super) request_id: &'a str,
    pub(super) csrf: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
pub(super) struct MessagePage<'a> {
    pub(super) heading: &'a str,
    pub(super) message: &'a str,
}

/// The stylesheet of the pages (the CSP allows no inline style).
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../assets/tessera.css"))
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

pub(super) fn secure_headers(response: &mut HttpResponseBuilder, form_action: &str) {
    response
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
            ),
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
}

/// An error shown to the user, never redirected (unknown client, bad redirect URI, expired
/// request): RFC 6749 §4.1.2.1 forbids redirecting to an unverified URI.
pub(super) fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    page(
        status,
        None,
        MessagePage {
            heading: "Sign-in failed",
            message,
        }
        .render(),
    )
}

pub(super) fn origin_of(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
}

/// Redirects the browser to `redirect_uri` with `params` added to its query (RFC 6749 §4.1.2)
/// and `iss` (RFC 9207). 303 after a form POST, 302 after a GET.
pub(super) fn redirect_to(
    state: &AppState,
    redirect_uri: &str,
    params: &[(&str, &str)],
    after_post: bool,
) -> HttpResponse {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return error_page(StatusCode::BAD_REQUEST, "The redirect URI is invalid."),
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in params {
            query.append_pair(k, v);
        }
        query.append_pair("iss", &state.settings.issuer);
    }
    let status = if after_post {
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

/// RFC 6749 §4.1.2.1: an error for a verified client and redirect URI goes back to the client.
pub(super) fn redirect_error(
    state: &AppState,
    redirect_uri: &str,
    client_state: Option<&str>,
    code: &str,
    description: &str,
    after_post: bool,
) -> HttpResponse {
    let mut params = vec![("error", code), ("error_description", description)];
    if let Some(s) = client_state {
        params.push(("state", s));
    }
    redirect_to(state, redirect_uri, &params, after_post)
}

/// Cookie names: `__Host-` prefix (RFC 6265bis §4.1.3.2) when the cookies are `Secure`.
pub(super) fn cookie_name(state: &AppState, base: &'static str) -> String {
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

pub(super) fn session_cookie_value(state: &AppState, req: &HttpRequest) -> Option<String> {
    req.cookie(&cookie_name(state, "tessera-session"))
        .map(|c| c.value().to_owned())
}
