//! `GET`/`POST /oauth2/userinfo` (OpenID Connect Core §5.3).

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::extract::{FormBearer, SessionUser};
use crate::error::{ErrorCode, OAuthError};
use crate::state::AppState;

/// Returns the claims the access token's scopes allow: `sub`, and `email`/`email_verified`
/// (scope `email`) and `preferred_username` (scope `profile`). The token must carry `openid`
/// (OIDC Core §5.3.1), belong to a live session and a user that is not disabled; failures are
/// RFC 6750 §3.1 errors with a `WWW-Authenticate: Bearer` challenge. A `POST` may carry the
/// token as the form parameter `access_token` instead of the header (RFC 6750 §2.2).
pub async fn userinfo(
    state: web::Data<AppState>,
    FormBearer(bearer): FormBearer,
) -> Result<HttpResponse, OAuthError> {
    // The scope is checked before the session: a token without `openid` costs no store call.
    if !bearer.has_scope("openid") {
        return Err(OAuthError::new(
            ErrorCode::InsufficientScope,
            "the access token lacks the openid scope",
        ));
    }
    let SessionUser(user) = SessionUser::of(&state, &bearer.0).await?;
    let mut body = json!({"sub": user.sub});
    if bearer.has_scope("email") {
        if let Some(email) = user.email {
            body["email"] = email.into();
            body["email_verified"] = false.into();
        }
    }
    if bearer.has_scope("profile") {
        body["preferred_username"] = user.username.into();
    }
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(body))
}
