//! Operator JSON API under `/admin/`: client management (user management is in
//! `admin_users`). Every call needs an admin token ([`Admin`]): an access token with the
//! `tessera:admin` scope from the client credentials grant of a confidential admin client
//! (created from the CLI); RFC 6750 §3.1 errors otherwise. Errors are JSON `{"error",
//! "error_description"}` ([`admin_error`]).

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde_json::json;

use super::extract::{read_body, Bearer};
use crate::clients::{self, ClientError, Registration, ADMIN_SCOPE};
use crate::error::{error_description, ErrorCode, OAuthError};
use crate::state::AppState;
use crate::store::Backend;
use crate::tokens::AccessClaims;

/// A verified bearer access token (see [`Bearer`]) with admin rights: it carries
/// [`ADMIN_SCOPE`], was issued by the client credentials grant (`sub` is the client, no
/// session: a user's token never has admin rights, whatever scopes its client has), and its
/// client still exists under the registration the token was issued to, is confidential, and is
/// registered for the client credentials grant with [`ADMIN_SCOPE`]. Yields the admin client
/// that acts, named in audit events. No store call while the client is in the registry's
/// cache (but a DPoP proof's `jti`).
///
/// # Errors
/// As [`Bearer`]; RFC 6750 §3.1: `insufficient_scope` (403) for a token without the scope, a
/// user's token, or a client no longer allowed the scope; `invalid_token` (401) when the
/// client was removed (or removed and registered again).
pub struct Admin {
    /// The `client_id` of the token: the admin client acting.
    pub client_id: String,
}

impl Admin {
    async fn of(state: &AppState, claims: AccessClaims) -> Result<Self, OAuthError> {
        let insufficient = |why: &str| OAuthError::new(ErrorCode::InsufficientScope, why);
        if !claims.scope.split(' ').any(|s| s == ADMIN_SCOPE) {
            return Err(insufficient("the tessera:admin scope is required"));
        }
        // Client credentials tokens speak for their client: `sub` is the client id and there
        // is no session (`sid`) or user authentication (`auth_time`).
        if claims.sub != claims.client_id || claims.sid.is_some() || claims.auth_time.is_some() {
            return Err(insufficient(
                "a user's token never carries admin rights: use the client credentials grant",
            ));
        }
        let client = state
            .clients
            .of_grant(&claims.client_id, claims.client_registered_at)
            .await?
            .ok_or_else(|| OAuthError::invalid_token("the token's client no longer exists"))?;
        let allowed = client.secret_hash.is_some()
            && client.policy.allows_grant("client_credentials")
            && client.policy.scopes.iter().any(|s| s == ADMIN_SCOPE);
        if !allowed {
            return Err(insufficient(
                "the client is no longer allowed tessera:admin",
            ));
        }
        Ok(Self {
            client_id: claims.client_id,
        })
    }
}

impl FromRequest for Admin {
    type Error = OAuthError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, OAuthError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = super::extract::app_state(req).cloned();
        let bearer = Bearer::verified(req);
        Box::pin(async move {
            let (state, Bearer(claims)) = (state?, bearer.await?);
            Self::of(&state, claims).await
        })
    }
}

/// The admin API's error answer: `status` with `{"error": code, "error_description"}`, the
/// description sanitized as every one is ([`error_description`], RFC 6749 §5.2).
pub(super) fn admin_error(
    status: StatusCode,
    code: &str,
    description: impl std::fmt::Display,
) -> HttpResponse {
    let description = error_description(&description.to_string());
    HttpResponse::build(status).json(json!({"error": code, "error_description": description}))
}

/// Renders a [`ClientError`]: 404 unknown, 409 taken, 503 store down, 400 otherwise: RFC 7591
/// §3.2.2 `invalid_redirect_uri` for a redirect or post-logout URI, `invalid_client_metadata`
/// for any other refused registration.
fn client_error(e: ClientError) -> HttpResponse {
    let (status, code) = match &e {
        ClientError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        ClientError::Exists => (StatusCode::CONFLICT, "conflict"),
        ClientError::Store(_) => {
            return actix_web::ResponseError::error_response(&OAuthError::from(
                crate::error::StoreError(e.to_string()),
            ))
        }
        ClientError::Metadata(m) => (StatusCode::BAD_REQUEST, m.code()),
        _ => (StatusCode::BAD_REQUEST, "invalid_client_metadata"),
    };
    admin_error(status, code, e)
}

/// `GET /admin/clients`: every registered client, without secrets.
pub async fn list(state: web::Data<AppState>, _admin: Admin) -> Result<HttpResponse, OAuthError> {
    let stored = state.store.clients().await?;
    let clients: Vec<_> = stored.iter().map(clients::describe).collect();
    Ok(HttpResponse::Ok().json(json!({"clients": clients})))
}

/// `POST /admin/clients` with a JSON registration: 201 with the client and, for a confidential
/// client without an operator-supplied secret, the generated `client_secret` (shown once).
pub async fn create(
    state: web::Data<AppState>,
    _admin: Admin,
    mut payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let body = read_body(&mut payload).await?;
    // A body that is not JSON is a malformed request; JSON with a wrong member (a wrong type,
    // a `null` secret, a missing `client_id`) is invalid metadata (RFC 7591 §3.2.2).
    let registration: Registration = match serde_json::from_slice(&body) {
        Ok(registration) => registration,
        Err(e) if e.is_data() => {
            let why = format!("invalid registration: {e}");
            return Ok(admin_error(
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                why,
            ));
        }
        Err(e) => {
            return Err(OAuthError::invalid_request(format!(
                "invalid registration: {e}"
            )))
        }
    };
    let client_id = registration.client_id.clone();
    if state.clients.is_declared(&client_id) {
        return Ok(client_error(ClientError::Exists));
    }
    if let Err(e) = clients::check_signing_keys(&registration.policy, &state.tokens.keys()) {
        return Ok(client_error(e.into()));
    }
    let result = clients::add_client(&state.store, registration).await;
    state.clients.forget(&client_id);
    match result {
        Ok(secret) => {
            let mut body = json!({"client_id": client_id});
            if let Some(secret) = secret {
                body["client_secret"] = secret.into();
            }
            Ok(HttpResponse::Created()
                .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
                .json(body))
        }
        Err(e) => Ok(client_error(e)),
    }
}

/// `GET /admin/clients/{client_id}`: one client, or 404.
pub async fn get(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    Ok(match state.store.client(&path).await? {
        Some(client) => HttpResponse::Ok().json(clients::describe(&client)),
        None => client_error(ClientError::NotFound),
    })
}

/// `DELETE /admin/clients/{client_id}`: 204, or 404.
pub async fn remove(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let result = clients::remove_client(&state.store, &path).await;
    state.clients.forget(&path);
    Ok(match result {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => client_error(e),
    })
}

/// `POST /admin/clients/{client_id}/secret`: a new generated secret (shown once).
pub async fn rotate_secret(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let result = clients::rotate_secret(&state.store, &path).await;
    state.clients.forget(&path);
    Ok(match result {
        Ok(secret) => HttpResponse::Ok()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(json!({"client_id": path.as_str(), "client_secret": secret})),
        Err(e) => client_error(e),
    })
}
