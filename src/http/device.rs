//! The device authorization grant over HTTP (RFC 8628): the device authorization endpoint
//! (`POST /oauth2/device_authorization`, §3.1–3.2) and the verification page (`/device`, §3.3)
//! with its approval form. The token endpoint's polls are in [`super::token`]; the decisions
//! are in [`crate::grants`] and [`crate::signin`].

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::authorize::PageForm;
use super::extract::{ClientIp, ClientRequest, Params};
use super::pages::{cookie_value, render, CSRF_COOKIE, SESSION_COOKIE};
use super::paths;
use crate::error::OAuthError;
use crate::grants::device_authorization as start;
use crate::signin::{self, PageError};
use crate::state::AppState;

/// `POST /oauth2/device_authorization` (§3.1): a client registered for the device-code grant,
/// authenticated as at the token endpoint, with an optional `scope`. Answers (§3.2) the
/// `device_code`, the `user_code` (`XXXX-XXXX`), `verification_uri` (`<issuer>/device`),
/// `verification_uri_complete` (with the user code), `expires_in` and `interval` (seconds),
/// with `Cache-Control: no-store`.
///
/// # Errors
/// As at the token endpoint (RFC 6749 §5.2): `invalid_request`, `invalid_client`,
/// `unauthorized_client`, `invalid_scope`; 503 when the store is down.
pub async fn device_authorization(
    state: web::Data<AppState>,
    request: ClientRequest,
) -> Result<HttpResponse, OAuthError> {
    let ClientRequest { params, client } = request;
    let authorization = start(&state, &client, params.get("scope")).await?;
    let verification_uri = state.settings.endpoint(paths::DEVICE);
    // The user code is letters and a dash: nothing to escape in a query.
    let complete = format!("{verification_uri}?user_code={}", authorization.user_code);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(json!({
            "device_code": authorization.device_code,
            "user_code": authorization.user_code.to_string(),
            "verification_uri": verification_uri,
            "verification_uri_complete": complete,
            "expires_in": authorization.expires_in,
            "interval": authorization.interval,
        })))
}

/// `GET /device`: the code form; with `user_code` (from `verification_uri_complete`, §3.3.1)
/// the code is entered at once.
pub async fn device_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, PageError> {
    let params = Params::from_query(&req)?;
    let outcome = match params.get("user_code") {
        None => signin::device_form(),
        Some(typed) => {
            let session = cookie_value(&state, &req, SESSION_COOKIE);
            let csrf = cookie_value(&state, &req, CSRF_COOKIE);
            signin::enter_user_code(&state, typed, session.as_deref(), csrf.as_deref(), ip).await?
        }
    };
    Ok(render(&state, outcome))
}

/// `POST /device`: the code form's `user_code`.
pub async fn device_code_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: Result<Params, OAuthError>,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, PageError> {
    let params = params?;
    let typed = params.get("user_code").unwrap_or("");
    let session = cookie_value(&state, &req, SESSION_COOKIE);
    let csrf = cookie_value(&state, &req, CSRF_COOKIE);
    let outcome =
        signin::enter_user_code(&state, typed, session.as_deref(), csrf.as_deref(), ip).await?;
    Ok(render(&state, outcome))
}

/// `POST /device/approve`: approve (`decision=approve`) or deny the device.
pub async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<PageForm, OAuthError>,
) -> Result<HttpResponse, PageError> {
    let form = form?;
    let (context, session, approve) = form.answer(&state, &req, "approve");
    let outcome = signin::decide_device(&state, context, session.as_deref(), approve).await?;
    Ok(render(&state, outcome))
}
