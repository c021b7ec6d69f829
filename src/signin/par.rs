//! Pushed authorization requests (RFC 9126): a client posts its authorization request, which is
//! checked exactly as at the authorization endpoint and kept, single use, for [`PAR_TTL`]
//! seconds under a `request_uri` bound to that client.

use serde::{Deserialize, Serialize};

use super::authorize::{check_request, trusted_redirect, AuthorizationRequest};
use super::step::PageError;
use crate::error::{ErrorCode, OAuthError, StoreError};
use crate::secret::{random_token, SecretHash};
use crate::state::AppState;
use crate::store::{Client, Record};

/// Seconds a pushed request lives (RFC 9126 §2.2 `expires_in`: short).
pub const PAR_TTL: u64 = 60;
/// RFC 9126 §2.2: the `request_uri` is a URN of this prefix and 256 random bits.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// A pushed authorization request, as received (owned), bound to its client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedRequest {
    /// The client that pushed it.
    pub client_id: String,
    /// The request's parameters by name (only those of [`AuthorizationRequest`]).
    pub params: Vec<(String, String)>,
}

impl Record for PushedRequest {
    const KIND: &'static str = "par";
}

/// The parameters an authorization request reads, in [`AuthorizationRequest`] order.
const NAMES: [&str; 15] = [
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "acr_values",
    "dpop_jkt",
    "request",
    "response_mode",
    "ui_locales",
    "client_id",
];

impl PushedRequest {
    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The request as the authorization endpoint reads it.
    pub fn as_request(&self) -> AuthorizationRequest<'_> {
        AuthorizationRequest {
            client_id: Some(&self.client_id),
            redirect_uri: self.get("redirect_uri"),
            response_type: self.get("response_type"),
            scope: self.get("scope"),
            state: self.get("state"),
            nonce: self.get("nonce"),
            code_challenge: self.get("code_challenge"),
            code_challenge_method: self.get("code_challenge_method"),
            prompt: self.get("prompt"),
            max_age: self.get("max_age"),
            acr_values: self.get("acr_values"),
            dpop_jkt: self.get("dpop_jkt"),
            request_uri: None,
            request: self.get("request"),
            response_mode: self.get("response_mode"),
            ui_locales: self.get("ui_locales"),
        }
    }
}

/// Checks the request `get` reads for the authenticated `client` as `/oauth2/authorize` would
/// (RFC 9126 §2.1), stores it and returns its `request_uri`. `proof_jkt` is the thumbprint of
/// the PAR request's verified DPoP proof, if it had one: RFC 9449 §10.1, it binds the code to
/// that key exactly as `dpop_jkt` does.
///
/// # Errors
/// `invalid_request` for a `request_uri` in the body (§2.1) or an unregistered redirect URI;
/// `invalid_dpop_proof` when a proof and `dpop_jkt` name different keys (RFC 9449 §10.1); the
/// authorization endpoint's error codes otherwise (§2.3); 503 when the store is down.
pub async fn push<'a>(
    state: &AppState,
    client: &Client,
    get: impl Fn(&str) -> Option<&'a str>,
    proof_jkt: Option<&str>,
) -> Result<String, OAuthError> {
    if get("request_uri").is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri must not be pushed (RFC 9126 §2.1)",
        ));
    }
    let mut params: Vec<(String, String)> = NAMES
        .iter()
        .filter(|n| **n != "client_id")
        .filter_map(|n| get(n).map(|v| ((*n).to_owned(), v.to_owned())))
        .collect();
    if let Some(jkt) = proof_jkt {
        // RFC 9449 §10.1: both present must name one key; a proof alone acts as dpop_jkt.
        match get("dpop_jkt").filter(|v| !v.is_empty()) {
            Some(requested) if requested != jkt => {
                return Err(OAuthError::invalid_dpop_proof(
                    "the DPoP proof's key is not the dpop_jkt of the request",
                ))
            }
            Some(_) => {}
            None => {
                params.retain(|(name, _)| name != "dpop_jkt");
                params.push(("dpop_jkt".to_owned(), jkt.to_owned()));
            }
        }
    }
    let pushed = PushedRequest {
        client_id: client.client_id.clone(),
        params,
    };
    let req = pushed.as_request();
    let redirect_uri = trusted_redirect(client, &req).map_err(|_| {
        OAuthError::invalid_request("the redirect_uri is not registered for this client")
    })?;
    check_request(client, redirect_uri, &req).map_err(|(code, description)| {
        let code = match code {
            "invalid_scope" => ErrorCode::InvalidScope,
            "unauthorized_client" => ErrorCode::UnauthorizedClient,
            _ => ErrorCode::InvalidRequest,
        };
        OAuthError::new(code, description)
    })?;
    let id = random_token();
    state
        .store
        .put(&SecretHash::of(&id), &pushed, PAR_TTL)
        .await
        .map_err(OAuthError::from)?;
    Ok(format!("{REQUEST_URI_PREFIX}{id}"))
}

/// Takes (single use) the pushed request `request_uri` of `client` (RFC 9126 §4).
///
/// # Errors
/// [`PageError::InvalidRequestUri`] when it is unknown, expired, used or another client's;
/// [`PageError::Unavailable`].
pub(super) async fn take_pushed(
    state: &AppState,
    client: &Client,
    request_uri: &str,
) -> Result<PushedRequest, PageError> {
    let id = request_uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .ok_or(PageError::InvalidRequestUri)?;
    let taken: Result<Option<PushedRequest>, StoreError> =
        state.store.take(&SecretHash::of(id)).await;
    taken?
        .filter(|p| p.client_id == client.client_id)
        .ok_or(PageError::InvalidRequestUri)
}
