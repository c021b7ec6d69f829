//! Client credentials grant (RFC 6749 §4.4): machine tokens for confidential clients.
//! No store round trip: the client comes from the registry cache and the token is a JWT.

use super::{grant_scope, require_grant, token_type, Grantee, TokenResponse};
use crate::error::{ErrorCode, OAuthError};
use crate::state::AppState;
use crate::store::Client;
use crate::tokens::Confirmation;

/// Issues an access token with `sub` = `client_id`. The audience is the client's default, or
/// the RFC 8707 `resource` when it is one of the client's allowed audiences. No refresh token
/// (RFC 6749 §4.4.3).
///
/// # Errors
/// `unauthorized_client` (not registered for the grant, or a public client), `invalid_scope`,
/// `invalid_target` (RFC 8707 §2) for a resource the client may not ask for.
#[tracing::instrument(skip_all, fields(client_id = %client.client_id, grant_type = "client_credentials"))]
pub fn client_credentials_grant(
    state: &AppState,
    client: &Client,
    scope: Option<&str>,
    resource: Option<&str>,
    dpop: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    require_grant(client, "client_credentials")?;
    if client.secret_hash.is_none() {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "client credentials require a confidential client",
        ));
    }
    let scope = grant_scope(client, scope, Grantee::Client)?;
    let default = client
        .policy
        .audience
        .as_deref()
        .unwrap_or(&state.settings.audience);
    let aud = match resource {
        None => default,
        Some(r) if r == default || client.policy.audiences.iter().any(|a| a == r) => r,
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "the resource is not an audience this client may request",
            ))
        }
    };
    let mut claims = state.tokens.access_claims(
        &client.client_id,
        (&client.client_id, client.registered_at),
        aud,
        &scope,
        None,
        None,
    );
    claims.cnf = dpop.map(|jkt| Confirmation {
        jkt: jkt.to_owned(),
    });
    tracing::debug!(target: "audit", event = "client_credentials", client_id = %client.client_id);
    Ok(TokenResponse {
        access_token: state
            .tokens
            .sign_access_token(&claims, client.policy.access_token_signed_response_alg)?,
        token_type: token_type(dpop),
        expires_in: state.tokens.ttl(),
        refresh_token: None,
        scope,
        id_token: None,
    })
}
