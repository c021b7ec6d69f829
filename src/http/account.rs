//! Endpoints a user calls with their own access token.

use actix_web::{web, HttpRequest, HttpResponse};

use super::bearer_claims;
use crate::error::OAuthError;
use crate::state::AppState;
use crate::users::logout_all as revoke_all_sessions;

/// `POST /account/logout-all`: revokes every refresh-token family of the bearer's user. 204.
/// A client-credentials token (no session) is refused with `invalid_token`.
pub async fn logout_all(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, OAuthError> {
    let claims = bearer_claims(&state, &req)?;
    if claims.sid.is_none() {
        return Err(OAuthError::invalid_token(
            "the access token does not belong to a user",
        ));
    }
    revoke_all_sessions(&state.store, &claims.sub).await?;
    Ok(HttpResponse::NoContent().finish())
}
