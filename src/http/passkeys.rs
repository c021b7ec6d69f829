//! The passkey JSON API a user calls with their own access token (RFC 6750), for apps and for
//! the account page's script: register (start, finish), list, rename, remove. The ceremony
//! itself is [`crate::passkeys`]'s; here are the requests, the answers and the recent-sign-in
//! rule (RFC 9470 §3): registering or removing a passkey needs an authentication (`auth_time`)
//! at most `passkey_reauth_max_age` seconds old.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use super::extract::{read_body, Bearer, SessionUser};
use crate::clock::now;
use crate::error::{ErrorCode, OAuthError};
use crate::passkeys::{self, PasskeyError};
use crate::state::AppState;
use crate::tokens::AccessClaims;

/// The answer to a refused passkey operation, in the RFC 6749 §5.2 format.
impl From<PasskeyError> for OAuthError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::Store(e) => e.into(),
            PasskeyError::NotFound => OAuthError::new(ErrorCode::InvalidRequest, e.to_string())
                .with_status(actix_web::http::StatusCode::NOT_FOUND),
            PasskeyError::Rejected | PasskeyError::NoCeremony => {
                OAuthError::invalid_grant(e.to_string())
            }
            _ => OAuthError::invalid_request(e.to_string()),
        }
    }
}

/// RFC 9470 §3: the token's `auth_time` must be at most `max_age` seconds old.
///
/// # Errors
/// `insufficient_user_authentication` (401).
pub(super) fn recent(claims: &AccessClaims, max_age: u64) -> Result<(), OAuthError> {
    match claims.auth_time {
        Some(t) if now().saturating_sub(t) <= max_age => Ok(()),
        _ => Err(OAuthError::insufficient_user_authentication(max_age)),
    }
}

/// The session user of `claims`, after the recent-sign-in check.
async fn recent_user(
    state: &AppState,
    claims: &AccessClaims,
) -> Result<crate::store::User, OAuthError> {
    recent(claims, state.settings.passkey_reauth_max_age)?;
    Ok(SessionUser::of(state, claims).await?.0)
}

fn no_store() -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

fn json_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, OAuthError> {
    serde_json::from_slice(body)
        .map_err(|_| OAuthError::invalid_request("the body must be the JSON object documented"))
}

/// `POST /account/passkeys/register/start`: 200 with the `PublicKeyCredentialCreationOptions`
/// (`{"publicKey": {...}}`, binary members base64url) for `navigator.credentials.create`.
pub async fn register_start(
    state: web::Data<AppState>,
    Bearer(claims): Bearer,
) -> Result<HttpResponse, OAuthError> {
    let user = recent_user(&state, &claims).await?;
    let options = passkeys::start_registration(&state, &user).await?;
    Ok(no_store().json(options))
}

#[derive(Deserialize)]
struct Finish {
    credential: RegisterPublicKeyCredential,
    name: String,
}

/// `POST /account/passkeys/register/finish` with `{"credential": <the
/// PublicKeyCredential, JSON>, "name": "..."}`: 201 with the new passkey.
pub async fn register_finish(
    state: web::Data<AppState>,
    Bearer(claims): Bearer,
    mut payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let user = recent_user(&state, &claims).await?;
    let Finish { credential, name } = json_body(&read_body(&mut payload).await?)?;
    let view = passkeys::finish_registration(&state, &user, &credential, &name).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view))
}

/// `GET /account/passkeys`: 200 with `{"passkeys": [{id, name, created_at, last_used_at,
/// backup_eligible, backed_up}]}`, oldest first.
pub async fn list(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
) -> Result<HttpResponse, OAuthError> {
    let keys = passkeys::list(&state, &user).await?;
    Ok(no_store().json(serde_json::json!({ "passkeys": keys })))
}

#[derive(Deserialize)]
struct Rename {
    name: String,
}

/// `PATCH /account/passkeys/{id}` with `{"name": "..."}`: 200 with the renamed passkey.
pub async fn rename(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    id: web::Path<String>,
    mut payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let Rename { name } = json_body(&read_body(&mut payload).await?)?;
    let view = passkeys::rename(&state, &user, &id, &name).await?;
    Ok(no_store().json(view))
}

/// `DELETE /account/passkeys/{id}`: 204.
pub async fn remove(
    state: web::Data<AppState>,
    Bearer(claims): Bearer,
    id: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let user = recent_user(&state, &claims).await?;
    passkeys::remove(&state, &user, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
