//! `POST /oauth2/revoke` (RFC 7009).

use actix_web::{web, HttpResponse};

use super::extract::ClientRequest;
use crate::error::{ErrorCode, OAuthError};
use crate::state::AppState;
use crate::store::{Backend, TokenState};
use crate::tokens::RefreshToken;

/// Revokes a refresh token's family, or an access token's session (`sid`). Unknown, expired and
/// already revoked tokens get 200 too (RFC 7009 §2.2); a token issued to another client is
/// refused (§2.1).
pub async fn revoke(
    state: web::Data<AppState>,
    ClientRequest { params, client }: ClientRequest,
) -> Result<HttpResponse, OAuthError> {
    let token = params.require("token")?;
    let (family_id, owner) = if let Some(refresh) = RefreshToken::parse(token) {
        match state
            .store
            .refresh_token_state(refresh.family_id(), &refresh.hash())
            .await?
        {
            TokenState::Current(f) | TokenState::Rotated(f) => {
                (refresh.family_id().to_owned(), f.client_id)
            }
            TokenState::Unknown => return Ok(HttpResponse::Ok().finish()),
        }
    } else {
        match state.tokens.verify_access_token(token) {
            Ok(claims) => match claims.sid {
                Some(sid) => (sid, claims.client_id),
                None => return Ok(HttpResponse::Ok().finish()),
            },
            Err(_) => return Ok(HttpResponse::Ok().finish()),
        }
    };
    if owner != client.client_id {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the token was not issued to this client",
        ));
    }
    state.store.revoke_family(&family_id).await?;
    tracing::info!(target: "audit", event = "revocation", client_id = %client.client_id, sid = %family_id);
    Ok(HttpResponse::Ok().finish())
}
