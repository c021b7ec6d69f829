//! Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3):
//! the credentials a request presents, checked against the client registry.

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{app_state, authorization, client_ip, Extracting, Params};
use crate::clients::PresentedClient;
use crate::error::{ErrorCode, OAuthError};
use crate::state::AppState;
use crate::store::Client;

/// A request body of parameters from an authenticated client: what the revocation (RFC 7009
/// §2.1) and introspection (RFC 7662 §2.1) endpoints take.
///
/// The extractor reads the body once ([`Params`] rules: at most
/// [`MAX_BODY_BYTES`](crate::http::MAX_BODY_BYTES), form-encoded or flat JSON, no repeated
/// parameter), then authenticates the client it presents: HTTP Basic (`client_secret_basic`,
/// RFC 6749 §2.3.1, id and secret form-urlencoded before base64), body parameters
/// (`client_secret_post`), or only `client_id` (`none`, public clients). A failure of a known
/// or unknown client is audited (`client_auth_failure`, with `client_id` and `ip`) and counted
/// against the IP limit.
///
/// # Errors
/// `invalid_request` for the body as [`Params::parse`] or two authentication methods at once;
/// `invalid_client` (401, `WWW-Authenticate: Basic`) for a malformed Basic header, no client
/// identification, an unknown client or a wrong or missing secret; 429 when the IP is over its
/// limit after a failure; 503 when the store is down.
pub struct ClientRequest {
    /// The body's parameters, client credentials included.
    pub params: Params,
    /// The authenticated client (cached in the registry; no store call on a hit).
    pub client: Arc<Client>,
}

impl FromRequest for ClientRequest {
    type Error = OAuthError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        authenticated(
            req,
            payload,
            |_| Ok(()),
            |(), params, client| Self { params, client },
        )
    }
}

/// Reads the body once, applies `check` to its parameters (before any client lookup), then
/// authenticates the client they present; `build` assembles the extractor's value.
pub(super) fn authenticated<T: 'static, R: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    check: fn(&Params) -> Result<T, OAuthError>,
    build: fn(T, Params, Arc<Client>) -> R,
) -> Extracting<R> {
    let state = app_state(req).cloned();
    let req = req.clone();
    let mut payload = payload.take();
    Box::pin(async move {
        let state = state?;
        let params = Params::read(&req, &mut payload).await?;
        let checked = check(&params)?;
        let client = authenticate(&state, &req, &params).await?;
        Ok(build(checked, params, client))
    })
}

/// Authenticates the client of a request whose body parameters are `params`. A failed
/// authentication is audited (`client_auth_failure` with `client_id` and `ip`) and counted
/// against the IP limit.
///
/// # Errors
/// As [`presented_client`] and [`crate::clients::ClientRegistry::authenticate`]; 429 when the
/// IP is over its limit after a failure.
async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    params: &Params,
) -> Result<Arc<Client>, OAuthError> {
    let presented = presented_client(req, params)?;
    let client = state.clients.authenticate(&presented).await;
    if let Err(e) = &client {
        if e.code == ErrorCode::InvalidClient {
            let ip = client_ip(state, req);
            tracing::info!(target: "audit", event = "client_auth_failure",
                client_id = %presented.client_id, %ip);
            state.limiter.check_ip(ip).await?;
        }
    }
    client
}

/// The client credentials presented with a request: HTTP Basic (`client_secret_basic`), body
/// parameters (`client_secret_post`), or only `client_id` (`none`, public clients).
///
/// # Errors
/// `invalid_request` when two methods are used at once (RFC 6749 §2.3) or the body's
/// `client_id` differs from Basic's; `invalid_client` for a malformed Basic header or no client
/// identification.
fn presented_client(req: &HttpRequest, params: &Params) -> Result<PresentedClient, OAuthError> {
    if let Some(encoded) = authorization::credentials(req, "Basic") {
        if params.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not Basic and client_secret both",
            ));
        }
        let decoded = STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(OAuthError::invalid_client)?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(OAuthError::invalid_client)?;
        let client_id = form_decode(id).ok_or_else(OAuthError::invalid_client)?;
        let secret = form_decode(secret).ok_or_else(OAuthError::invalid_client)?;
        if params
            .get("client_id")
            .is_some_and(|body_id| body_id != client_id)
        {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the authenticated client",
            ));
        }
        return Ok(PresentedClient {
            client_id,
            secret: Some(secret),
        });
    }
    let client_id = params
        .get("client_id")
        .ok_or_else(OAuthError::invalid_client)?;
    Ok(PresentedClient {
        client_id: client_id.to_owned(),
        secret: params.get("client_secret").map(str::to_owned),
    })
}

/// RFC 6749 §2.3.1: in HTTP Basic, the client id and secret are form-urlencoded before base64.
fn form_decode(part: &str) -> Option<String> {
    let spaced = part.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}
