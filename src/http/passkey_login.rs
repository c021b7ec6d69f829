//! The passkey steps of the hosted sign-in over HTTP: the challenge for the page's script
//! (`POST /oauth2/authorize/passkey/options`, JSON) and the answer
//! (`POST /oauth2/authorize/passkey`, a form whose `credential` field is the browser's
//! `PublicKeyCredential` as JSON). Both carry the pending request's id and CSRF token like
//! every page form; the decisions are [`crate::signin`]'s.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use webauthn_rs::prelude::PublicKeyCredential;

use super::authorize::PageForm;
use super::extract::ClientIp;
use super::pages::{cookie_value, render, SESSION_COOKIE};
use crate::error::OAuthError;
use crate::signin::{self, PageError};
use crate::state::AppState;

/// `POST /oauth2/authorize/passkey/options`: 200 with the `PublicKeyCredentialRequestOptions`
/// (`{"publicKey": {...}, "mediation": ...}`) for `navigator.credentials.get`.
pub async fn options(
    state: web::Data<AppState>,
    form: Result<PageForm, OAuthError>,
) -> Result<HttpResponse, PageError> {
    let form = form?;
    let options = signin::passkey_options(&state, form.context()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(options))
}

/// `POST /oauth2/authorize/passkey`: the passkey step (login or second step).
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<PageForm, OAuthError>,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, PageError> {
    let form = form?;
    let credential: PublicKeyCredential = form
        .get("credential")
        .and_then(|json| serde_json::from_str(json).ok())
        .ok_or_else(|| PageError::Malformed("the passkey answer is missing or malformed".into()))?;
    let session = cookie_value(&state, &req, SESSION_COOKIE);
    let outcome =
        signin::passkey_login(&state, form.context(), &credential, ip, session.as_deref()).await?;
    Ok(render(&state, outcome))
}
