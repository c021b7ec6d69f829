//! Second step of a login with MFA: `grant_type=urn:tessera:params:oauth:grant-type:mfa-otp`
//! with the `mfa_token` from `mfa_required` and an `otp` (RFC 6238) or a `recovery_code`.

use std::net::IpAddr;

use super::{open_session, require_grant, Authentication, TokenResponse};
use crate::error::OAuthError;
use crate::mfa::{verify_second_factor, PendingLogin, MFA_TOKEN_ATTEMPTS};
use crate::secret::SecretHash;
use crate::state::AppState;
use crate::store::{Backend, Client};
use crate::tokens::RefreshToken;

/// The extension grant type URI (RFC 6749 §4.5).
pub const MFA_OTP_GRANT: &str = "urn:tessera:params:oauth:grant-type:mfa-otp";

/// Completes a pending login. Every failure is the same `invalid_grant`, whichever part was
/// wrong; five wrong codes kill the `mfa_token` (counted apart from password failures).
///
/// # Errors
/// `invalid_grant`, `unauthorized_client`, 429 when the client IP is over its limit, 503 when
/// the store is down.
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
    let user = state
        .store
        .user(&pending.username)
        .await?
        .filter(|u| u.sub == pending.sub && !u.disabled);
    let verified = match (&user, pending.client_id == client.client_id) {
        (Some(user), true) => {
            verify_second_factor(&state.store, &state.data_key, user, otp, recovery_code)
                .await
                .ok()
        }
        _ => None,
    };
    let (Some(user), Some(factor)) = (user, verified) else {
        state
            .store
            .count_failure::<PendingLogin>(&hash, MFA_TOKEN_ATTEMPTS)
            .await?;
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
