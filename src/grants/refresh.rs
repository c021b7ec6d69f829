//! Refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).

use super::{require_grant, split_scope, user_token_response, TokenResponse};
use crate::error::{ErrorCode, OAuthError};
use crate::state::AppState;
use crate::store::{Backend, Client, Presenter, Rotation, Successor};
use crate::tokens::RefreshToken;

/// Exchanges a refresh token for a new access token and a new refresh token, in one atomic
/// store operation. With `refresh_reuse_grace`, the parent of the current token presented
/// again within the window (before the current one was used) gets the same current token and a
/// fresh access token; anything else rotated is reuse. `scope` may only narrow the original grant; the family keeps its scope
/// (RFC 6749 §6).
///
/// # Errors
/// `invalid_grant` for unknown, expired, revoked, rotated (reuse: the family is revoked) or
/// other-client tokens, tokens of an earlier registration of the client (removed and
/// registered again: the one rotation script compares, no further store call), or a family bound to another DPoP key (RFC 9449 §5); `invalid_scope`; `unauthorized_client`; `temporarily_unavailable`.
#[tracing::instrument(skip_all, fields(client_id = %client.client_id, grant_type = "refresh_token"))]
pub async fn refresh_token_grant(
    state: &AppState,
    client: &Client,
    presented: &str,
    scope: Option<&str>,
    dpop: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    require_grant(client, "refresh_token")?;
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    let presented = RefreshToken::parse(presented).ok_or_else(invalid)?;
    let requested = split_scope(scope);
    let next = RefreshToken::in_family(presented.family_id());
    let (parent, successor) = (presented.hash(), next.hash());
    // The refresh grace window: the successor, sealed for the parent, is kept for the window
    // so that the parent presented again gets the same one. Nothing of this runs at grace 0.
    let grace_ms = state.settings.refresh_reuse_grace * 1000;
    let sealed = (grace_ms > 0).then(|| {
        state
            .data_key
            .seal(&grace_context(&parent), next.expose().as_bytes())
    });
    let rotation = state
        .store
        .rotate_refresh_token(
            presented.family_id(),
            &parent,
            Successor {
                hash: &successor,
                grace: sealed.as_deref().map(|s| (s, grace_ms)),
            },
            Presenter {
                client_id: &client.client_id,
                client_registered_at: client.registered_at,
                jkt: dpop,
                scope: &requested,
            },
        )
        .await?;
    let (family, token) = match rotation {
        Rotation::Rotated(family) => {
            tracing::info!(target: "audit", event = "refresh", sub = %family.sub,
                client_id = %client.client_id, sid = %presented.family_id());
            (family, next)
        }
        // Within the grace window: the same successor as the first presentation got.
        Rotation::Repeated { family, sealed } => {
            let same = state
                .data_key
                .open(&grace_context(&parent), &sealed)
                .ok()
                .and_then(|plain| String::from_utf8(plain).ok())
                .and_then(|t| RefreshToken::parse(&t))
                .ok_or_else(|| {
                    tracing::error!("a refresh grace copy does not open with this data key");
                    invalid()
                })?;
            tracing::info!(target: "audit", event = "refresh_repeated", sub = %family.sub,
                client_id = %client.client_id, sid = %presented.family_id());
            (family, same)
        }
        Rotation::Reused { sub, client_id } => {
            state.metrics.refresh_reuse.inc();
            tracing::warn!(target: "audit", event = "refresh_reuse_detected", sub = %sub,
                client_id = %client_id, sid = %presented.family_id());
            return Err(invalid());
        }
        Rotation::ScopeExceeded => {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "the requested scope exceeds the scope originally granted",
            ))
        }
        // RFC 9449 §5: not reuse; the family lives on.
        Rotation::KeyMismatch => {
            return Err(OAuthError::invalid_grant(
                "the refresh token is bound to a DPoP key: send a proof made with that key",
            ))
        }
        Rotation::Invalid => return Err(invalid()),
    };
    let scope = if requested.is_empty() {
        family.scope.clone()
    } else {
        requested.join(" ")
    };
    let family_id = presented.family_id().to_owned();
    user_token_response(
        state,
        client,
        (&family_id, &family),
        scope,
        Some(token),
        None,
        dpop,
    )
}

/// The associated data of a successor sealed for the grace window: bound to its parent.
fn grace_context(parent: &crate::secret::SecretHash) -> String {
    format!("refresh-grace:{}", parent.as_str())
}
