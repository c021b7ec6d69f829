//! Second step of a login with MFA: `grant_type=urn:tessera:params:oauth:grant-type:mfa-otp`
//! with the `mfa_token` from `mfa_required` and an `otp` (RFC 6238) or a `recovery_code`.

use std::net::IpAddr;

use super::{open_session, require_grant, Authentication, TokenResponse};
use crate::error::OAuthError;
use crate::mfa::{verify_second_factor, MfaError, PendingLogin, MFA_TOKEN_ATTEMPTS};
use crate::secret::SecretHash;
use crate::state::AppState;
use crate::store::{Attempt, Backend, Client};
use crate::tokens::RefreshToken;

/// The extension grant type URI (RFC 6749 §4.5).
pub const MFA_OTP_GRANT: &str = "urn:tessera:params:oauth:grant-type:mfa-otp";

/// Completes a pending login. Every failure is the same `invalid_grant`, whichever part was
/// wrong. Each request spends one of the `mfa_token`'s [`MFA_TOKEN_ATTEMPTS`] before its code
/// is looked at (atomic: parallel guesses never get more evaluations), and every code goes
/// through the account's second-factor limit, shared with the hosted second step
/// ([`verify_second_factor`]), so new tokens and new addresses do not buy more guesses.
///
/// # Errors
/// `invalid_grant`, `unauthorized_client`, 429 with `Retry-After` when the client IP is over its
/// limit or the account is in its second-factor back-off, 503 when the store is down.
#[tracing::instrument(skip_all, fields(client_id = %client.client_id, grant_type = "mfa-otp"))]
pub async fn mfa_otp_grant(
    state: &AppState,
    client: &Client,
    ip: IpAddr,
    mfa_token: &str,
    otp: Option<&str>,
    recovery_code: Option<&str>,
    dpop: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    require_grant(client, "password")?;
    state.limiter.check_ip(ip).await?;
    let invalid = || OAuthError::invalid_grant("the mfa_token or the code is invalid");
    let hash = SecretHash::of(mfa_token);
    let pending: PendingLogin = state.store.get(&hash).await?.ok_or_else(invalid)?;
    let spent = state
        .store
        .spend_attempt::<PendingLogin>(&hash, MFA_TOKEN_ATTEMPTS)
        .await?;
    if !matches!(spent, Attempt::Counted { .. }) {
        return Err(invalid());
    }
    let user = state
        .store
        .user(&pending.username)
        .await?
        .filter(|u| u.sub == pending.sub && !u.disabled);
    let verified = match (&user, pending.client_id == client.client_id) {
        (Some(user), true) => {
            let (store, key) = (&state.store, &state.data_key);
            match verify_second_factor(&state.limiter, store, key, user, otp, recovery_code).await {
                Ok(factor) => Some(factor),
                Err(MfaError::Refused(e)) => return Err(e),
                Err(MfaError::Store(e)) => return Err(e.into()),
                Err(_) => None,
            }
        }
        _ => None,
    };
    let (Some(user), Some(factor)) = (user, verified) else {
        tracing::info!(target: "audit", event = "mfa_failure", sub = %pending.sub, %ip);
        return Err(invalid());
    };
    if state.store.take::<PendingLogin>(&hash).await?.is_none() {
        return Err(invalid());
    }
    // RFC 8176 §2: password plus one-time password.
    let amr = format!("pwd {factor}");
    let auth = Authentication {
        user: &user,
        auth_time: pending.auth_time,
        amr: &amr,
        nonce: None,
        dpop,
    };
    open_session(
        state,
        client,
        auth,
        pending.scope,
        RefreshToken::new_family(),
    )
    .await
}
