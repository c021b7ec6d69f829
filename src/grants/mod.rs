//! The OAuth grants, free of HTTP (with the device authorization request of RFC 8628, the
//! first half of its grant): each takes an authenticated client and typed parameters and
//! returns a [`TokenResponse`] or an [`OAuthError`] (RFC 6749 §5.1/§5.2).

pub mod authorization_code;
mod client_credentials;
mod device_code;
mod mfa_otp;
mod password;
mod refresh;

pub use authorization_code::{authorization_code_grant, pkce_s256_matches};
pub use client_credentials::client_credentials_grant;
pub use device_code::{device_authorization, device_code_grant};
pub use mfa_otp::{mfa_otp_grant, MFA_OTP_GRANT};
pub use password::{password_grant, PasswordOutcome};
pub use refresh::refresh_token_grant;

use serde::Serialize;

use crate::clients::{ADMIN_SCOPE, NOT_DEFAULT_SCOPES};
use crate::error::{quoted, ErrorCode, OAuthError, StoreError};
use crate::keys::KeyError;
use crate::state::AppState;
use crate::store::{Backend, Client, Family, User};
use crate::tokens::{Confirmation, RefreshToken};

/// RFC 9449 §5: `DPoP` for a token bound to a proof's key, else `Bearer`.
fn token_type(dpop: Option<&str>) -> &'static str {
    if dpop.is_some() {
        "DPoP"
    } else {
        "Bearer"
    }
}

/// RFC 9449 §5.2: a client registered with `dpop_bound_access_tokens` must send a proof.
///
/// # Errors
/// `invalid_dpop_proof`.
pub fn require_dpop(client: &Client, dpop: Option<&str>) -> Result<(), OAuthError> {
    if client.policy.dpop_bound_access_tokens && dpop.is_none() {
        return Err(OAuthError::invalid_dpop_proof(
            "this client must send a DPoP proof",
        ));
    }
    Ok(())
}

/// RFC 6749 §5.1 successful token response.
#[derive(Serialize)]
pub struct TokenResponse {
    /// The access token (JWT).
    pub access_token: String,
    /// `Bearer` (RFC 6750), or `DPoP` for a DPoP-bound token (RFC 9449 §5).
    pub token_type: &'static str,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
    /// The next refresh token, when the client may refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The granted scope, space-separated.
    pub scope: String,
    /// OpenID Connect ID token, when the scope includes `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl From<KeyError> for OAuthError {
    fn from(e: KeyError) -> Self {
        tracing::error!(error = %e, "signing failed");
        OAuthError::unavailable(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            1,
            "the service is temporarily unable to sign tokens",
        )
    }
}

/// RFC 6749 §3.3: the scope parameter is a space-delimited list; splits it, dropping empty items.
pub fn split_scope(scope: Option<&str>) -> Vec<&str> {
    scope
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

/// Whom a grant's tokens speak for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grantee {
    /// A user (every grant but client credentials): never [`ADMIN_SCOPE`].
    User,
    /// The client itself (client credentials, RFC 6749 §4.4).
    Client,
}

/// The scope to grant `client` for `grantee`: the requested scopes when all are allowed; when
/// none is requested, the server's default (RFC 6749 §3.3), the client's registered scopes
/// except [`NOT_DEFAULT_SCOPES`] (`openid`, `offline_access`, `tessera:admin`), which are only
/// granted when asked for.
///
/// # Errors
/// `invalid_scope` when a requested scope is not registered for the client, or is
/// [`ADMIN_SCOPE`] in a user's grant (a user's token never carries admin rights).
pub fn grant_scope(
    client: &Client,
    requested: Option<&str>,
    grantee: Grantee,
) -> Result<String, OAuthError> {
    let requested = split_scope(requested);
    if requested.is_empty() {
        let default: Vec<&str> = client
            .policy
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| !NOT_DEFAULT_SCOPES.contains(s))
            .collect();
        return Ok(default.join(" "));
    }
    if grantee == Grantee::User && requested.contains(&ADMIN_SCOPE) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!("scope `{ADMIN_SCOPE}` is granted only by the client_credentials grant"),
        ));
    }
    if let Some(bad) = requested
        .iter()
        .find(|s| !client.policy.scopes.iter().any(|c| c == *s))
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!("scope {} is not allowed for this client", quoted(bad)),
        ));
    }
    let mut granted: Vec<&str> = Vec::with_capacity(requested.len());
    for s in requested {
        if !granted.contains(&s) {
            granted.push(s);
        }
    }
    Ok(granted.join(" "))
}

/// RFC 6749 §5.2 `unauthorized_client` unless `client` is registered for `grant_type`.
///
/// # Errors
/// `unauthorized_client`.
pub fn require_grant(client: &Client, grant_type: &str) -> Result<(), OAuthError> {
    if client.policy.allows_grant(grant_type) {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("the client is not allowed the {grant_type} grant"),
        ))
    }
}

/// How a user authenticated, for a new session.
pub struct Authentication<'a> {
    /// The user.
    pub user: &'a User,
    /// When, unix seconds.
    pub auth_time: u64,
    /// Methods used (space-separated RFC 8176 values).
    pub amr: &'a str,
    /// The `nonce` of the authorization request, echoed in the ID token (OIDC Core §3.1.3.6).
    pub nonce: Option<&'a str>,
    /// The thumbprint of the request's DPoP proof key (RFC 9449 §5), if it sent one.
    pub dpop: Option<&'a str>,
}

/// Opens a session (refresh-token family `refresh`) for an authenticated user and answers with
/// its tokens. The refresh token is included when the client may use the refresh grant.
///
/// # Errors
/// 503 when the store is down or signing fails.
pub async fn open_session(
    state: &AppState,
    client: &Client,
    auth: Authentication<'_>,
    scope: String,
    refresh: RefreshToken,
) -> Result<TokenResponse, OAuthError> {
    let family = Family {
        sub: auth.user.sub.clone(),
        client_id: client.client_id.clone(),
        scope: scope.clone(),
        auth_time: auth.auth_time,
        amr: auth.amr.to_owned(),
        username: auth.user.username.clone(),
        email: auth.user.email.clone(),
        // RFC 9449 §5: public clients' refresh tokens are bound to the key; confidential
        // clients' are not (they authenticate), only their access tokens.
        jkt: auth
            .dpop
            .filter(|_| client.secret_hash.is_none())
            .map(str::to_owned),
        client_registered_at: client.registered_at,
    };
    state
        .store
        .create_family(
            refresh.family_id(),
            &family,
            &refresh.hash(),
            state.settings.refresh_token_ttl,
        )
        .await?;
    tracing::info!(target: "audit", event = "login_success", sub = %family.sub,
        client_id = %client.client_id, sid = %refresh.family_id(), amr = auth.amr);
    let may_refresh = client.policy.allows_grant("refresh_token");
    let family_id = refresh.family_id().to_owned();
    user_token_response(
        state,
        client,
        (&family_id, &family),
        scope,
        may_refresh.then_some(refresh),
        auth.nonce,
        auth.dpop,
    )
}

/// Signs an access token for the user session `(sid, family)` with `scope`, bound to the DPoP
/// key `dpop` when the request proved one (RFC 9449 §6).
fn user_token_response(
    state: &AppState,
    client: &Client,
    (family_id, family): (&str, &Family),
    scope: String,
    refresh_token: Option<RefreshToken>,
    nonce: Option<&str>,
    dpop: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let aud = client
        .policy
        .audience
        .as_deref()
        .unwrap_or(&state.settings.audience);
    let mut claims = state
        .tokens
        .session_access_claims(family_id, family, aud, &scope);
    claims.cnf = dpop.map(|jkt| Confirmation {
        jkt: jkt.to_owned(),
    });
    // OIDC Core §3.1.3.3: with the `openid` scope the token response carries an ID token.
    let id_token = if scope.split(' ').any(|s| s == "openid") {
        Some(state.tokens.sign_id_token(
            family_id,
            family,
            &scope,
            nonce,
            client.policy.id_token_signed_response_alg,
        )?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: state
            .tokens
            .sign_access_token(&claims, client.policy.access_token_signed_response_alg)?,
        token_type: token_type(dpop),
        expires_in: state.tokens.ttl(),
        refresh_token: refresh_token.map(|t| t.expose().to_owned()),
        scope,
        id_token,
    })
}

impl From<crate::users::UserError> for OAuthError {
    fn from(e: crate::users::UserError) -> Self {
        use crate::users::UserError;
        match e {
            UserError::InvalidUsername(why) => {
                OAuthError::invalid_request(format!("invalid username: {why}"))
            }
            UserError::InvalidPassword(why) => {
                OAuthError::invalid_request(format!("invalid password: {why}"))
            }
            UserError::Store(e) => e.into(),
            // Admission control: answer at once instead of queueing without bound.
            UserError::Hash(crate::credentials::HashError::Busy) => OAuthError::unavailable(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                1,
                "too many password checks in progress; retry shortly",
            ),
            other => StoreError(other.to_string()).into(),
        }
    }
}
