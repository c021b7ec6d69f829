//! Resource owner password credentials grant (RFC 6749 §4.3).
//!
//! Kept for first-party and curl use; RFC 9700 §2.4 deprecates it for third-party clients, which
//! is why it must be enabled per client.

use std::net::IpAddr;

use super::{grant_scope, require_grant, user_token_response, TokenResponse};
use crate::error::OAuthError;
use crate::state::AppState;
use crate::store::{Client, Family};
use crate::tokens::{now, RefreshToken};
use crate::users::{authenticate, normalize_password, normalize_username};

/// Checks the user's credentials from client address `ip` and opens a new session
/// (refresh-token family). The login limits are checked before any hashing.
///
/// # Errors
/// `invalid_request` for a malformed username or a password over 1024 bytes (before hashing),
/// `invalid_grant` for unknown user, wrong password or disabled user (identical), `invalid_scope`,
/// `unauthorized_client`, 429 `temporarily_unavailable` when a login limit is reached, 503 when
/// the store is down or password hashing is saturated.
#[tracing::instrument(skip_all, fields(client_id = %client.client_id, grant_type = "password"))]
pub async fn password_grant(
    state: &AppState,
    client: &Client,
    ip: IpAddr,
    username: &str,
    password: &str,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    require_grant(client, "password")?;
    let scope = grant_scope(client, scope)?;
    let username = normalize_username(username)?;
    let password = normalize_password(password)?;
    state.limiter.check_login(&username, ip).await?;
    let Some(user) = authenticate(&state.store, &state.hasher, &username, password).await? else {
        tracing::info!(target: "audit", event = "login_failure", client_id = %client.client_id, %ip);
        return Err(OAuthError::invalid_grant("invalid username or password"));
    };
    state.limiter.login_succeeded(&username, ip).await?;
    let refresh = RefreshToken::new_family();
    let family = Family {
        sub: user.sub,
        client_id: client.client_id.clone(),
        scope: scope.clone(),
        auth_time: now(),
        // RFC 8176 §2: password authentication.
        amr: "pwd".into(),
        username: user.username,
        email: user.email,
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
        client_id = %client.client_id, sid = %refresh.family_id());
    let may_refresh = client.grant_types.iter().any(|g| g == "refresh_token");
    let family_id = refresh.family_id().to_owned();
    user_token_response(
        state,
        client,
        &family_id,
        &family,
        scope,
        may_refresh.then_some(refresh),
    )
}
