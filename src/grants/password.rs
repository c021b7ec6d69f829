//! Resource owner password credentials grant (RFC 6749 §4.3).
//!
//! Kept for first-party and curl use; RFC 9700 §2.4 deprecates it for third-party clients, which
//! is why it must be enabled per client. For a user with MFA active the password step does not
//! issue tokens: it opens a pending login and answers `mfa_required`.

use std::net::IpAddr;

use super::{grant_scope, open_session, require_grant, Authentication, Grantee, TokenResponse};
use crate::clock::now;
use crate::error::OAuthError;
use crate::mfa::{open_pending_login, PendingLogin};
use crate::state::AppState;
use crate::store::Client;
use crate::tokens::RefreshToken;
use crate::users::{authenticate_limited, normalize_password, normalize_username};

/// What a correct password leads to.
#[derive(Debug)]
pub enum PasswordOutcome {
    /// Tokens (no second factor configured).
    Tokens(TokenResponse),
    /// A second factor is needed: complete with the `mfa-otp` grant and this opaque,
    /// single-use `mfa_token` (5 minutes, bound to user and client).
    MfaRequired(String),
}

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
    dpop: Option<&str>,
) -> Result<PasswordOutcome, OAuthError> {
    require_grant(client, "password")?;
    let scope = grant_scope(client, scope, Grantee::User)?;
    let username = normalize_username(username)?;
    let password = normalize_password(password)?;
    let checked = authenticate_limited(
        &state.limiter,
        &state.store,
        &state.hasher,
        &username,
        password,
        ip,
    );
    let Some(user) = checked.await? else {
        tracing::info!(target: "audit", event = "login_failure", client_id = %client.client_id, %ip);
        return Err(OAuthError::invalid_grant("invalid username or password"));
    };
    if user.totp.is_some() {
        let pending = PendingLogin {
            username: user.username,
            sub: user.sub,
            client_id: client.client_id.clone(),
            scope,
            auth_time: now(),
        };
        let token = open_pending_login(&state.store, &pending).await?;
        tracing::info!(target: "audit", event = "mfa_required", sub = %pending.sub,
            client_id = %client.client_id);
        return Ok(PasswordOutcome::MfaRequired(token));
    }
    let auth = Authentication {
        user: &user,
        auth_time: now(),
        // RFC 8176 §2: password authentication.
        amr: "pwd",
        nonce: None,
        dpop,
    };
    open_session(state, client, auth, scope, RefreshToken::new_family())
        .await
        .map(PasswordOutcome::Tokens)
}
