//! Device authorization grant (RFC 8628): the device authorization request (§3.1–3.2) and the
//! token request of the polling device (§3.4–3.5).

use super::{grant_scope, open_session, require_grant, Authentication, Grantee, TokenResponse};
use crate::device::{self, DeviceAuthorization, DEVICE_CODE_GRANT};
use crate::error::{ErrorCode, OAuthError};
use crate::state::AppState;
use crate::store::{Backend, Client, DevicePoll};
use crate::tokens::RefreshToken;

/// Starts a device authorization for `client` (§3.1) with the requested `scope` (all of the
/// client's scopes when absent, RFC 6749 §3.3), valid `device_code_ttl` seconds.
///
/// # Errors
/// `unauthorized_client` unless the client has the device-code grant; `invalid_scope`; 503
/// when the store is down.
#[tracing::instrument(skip_all, fields(client_id = %client.client_id, grant_type = "device_code"))]
pub async fn device_authorization(
    state: &AppState,
    client: &Client,
    scope: Option<&str>,
) -> Result<DeviceAuthorization, OAuthError> {
    require_grant(client, DEVICE_CODE_GRANT)?;
    let scope = grant_scope(client, scope, Grantee::User)?;
    let ttl = state.settings.device_code_ttl;
    Ok(device::start(&state.store, &client.client_id, scope, ttl).await?)
}

/// Exchanges a device code once the user has approved (§3.4): the poll that redeems it gets
/// the tokens of a new session (a refresh token when the client has the refresh grant, an ID
/// token with `openid`, `amr` from the user's sign-in); every other poll gets the §3.5 error.
///
/// # Errors
/// `authorization_pending`, `slow_down` (the interval grew by 5 s), `access_denied`,
/// `expired_token`; `invalid_grant` for an unknown, another client's or an already redeemed
/// device code, or a user disabled meanwhile; `unauthorized_client`; 503 when the store is down.
#[tracing::instrument(skip_all, fields(client_id = %client.client_id, grant_type = "device_code"))]
pub async fn device_code_grant(
    state: &AppState,
    client: &Client,
    device_code: &str,
    dpop: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    require_grant(client, DEVICE_CODE_GRANT)?;
    let invalid = || OAuthError::invalid_grant("the device code is invalid or was already used");
    let refused = |code, description: &str| Err(OAuthError::new(code, description));
    let poll = device::poll(&state.store, device_code, &client.client_id).await?;
    // RFC 8628 §3.5: the device keeps polling on the first two, and stops on the others.
    let (request, approval) = match poll {
        DevicePoll::Approved(answer) => answer,
        DevicePoll::Pending => {
            return refused(
                ErrorCode::AuthorizationPending,
                "the user has not answered yet",
            )
        }
        DevicePoll::SlowDown => {
            return refused(
                ErrorCode::SlowDown,
                "polling too fast: wait 5 seconds longer between requests from now on",
            )
        }
        DevicePoll::Denied => {
            return refused(ErrorCode::AccessDenied, "the user denied the request")
        }
        DevicePoll::Expired => {
            return refused(
                ErrorCode::ExpiredToken,
                "the device code has expired; start again",
            )
        }
        DevicePoll::Invalid => return Err(invalid()),
    };
    let user = state
        .store
        .user(&approval.username)
        .await?
        .filter(|u| u.sub == approval.sub && !u.disabled)
        .ok_or_else(invalid)?;
    let auth = Authentication {
        user: &user,
        auth_time: approval.auth_time,
        amr: &approval.amr,
        nonce: None,
        dpop,
    };
    open_session(
        state,
        client,
        auth,
        request.scope,
        RefreshToken::new_family(),
    )
    .await
}
