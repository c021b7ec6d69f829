//! Session lists over HTTP: `GET /account/sessions` and `DELETE /account/sessions/{sid}` for
//! the bearer's own user (a token of a live session), `GET /admin/users/{sub}/sessions` and
//! `DELETE /admin/users/{sub}/sessions/{sid}` for admins ([`Admin`]). Ending a session sends
//! its back-channel logout notices. An unknown session is 404 `not_found` (JSON, as the admin
//! API's errors).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde_json::json;

use super::admin::{admin_error, Admin};
use super::admin_users::Answer;
use super::extract::{Bearer, SessionUser};
use crate::error::OAuthError;
use crate::session_list::{self, SessionView};
use crate::state::AppState;
use crate::users::{self, UserError};

fn listing(sessions: Vec<SessionView>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "sessions": sessions }))
}

fn ended(found: bool) -> HttpResponse {
    if found {
        HttpResponse::NoContent().finish()
    } else {
        admin_error(StatusCode::NOT_FOUND, "not_found", "no such session")
    }
}

/// `GET /account/sessions`: `{"sessions": [{sid, client_id, created_at, last_refreshed_at,
/// amr, current}]}`, the live sessions of the bearer's user, oldest first; `current` marks the
/// token's own.
pub async fn account_list(
    state: web::Data<AppState>,
    Bearer(claims): Bearer,
) -> Result<HttpResponse, OAuthError> {
    let SessionUser(user) = SessionUser::of(&state, &claims).await?;
    let sessions = session_list::list(&state.store, &user.sub, claims.sid.as_deref()).await?;
    Ok(listing(sessions))
}

/// `DELETE /account/sessions/{sid}`: ends one of the bearer's user's sessions (204), or 404.
pub async fn account_end(
    state: web::Data<AppState>,
    Bearer(claims): Bearer,
    sid: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let SessionUser(user) = SessionUser::of(&state, &claims).await?;
    let found = session_list::end(&state.store, &user.sub, &sid, &claims.client_id).await?;
    Ok(ended(found))
}

/// `GET /admin/users/{sub}/sessions`: the user's live sessions (`current` is always
/// `false`), or 404 for an unknown user.
pub async fn admin_list(
    state: web::Data<AppState>,
    _admin: Admin,
    sub: web::Path<String>,
) -> Answer {
    let user = users::by_sub(&state.store, &sub).await?;
    let sessions = session_list::list(&state.store, &user.sub, None)
        .await
        .map_err(UserError::from)?;
    Ok(listing(sessions))
}

/// `DELETE /admin/users/{sub}/sessions/{sid}`: ends one session of the user (204), or 404.
pub async fn admin_end(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<(String, String)>,
) -> Answer {
    let (sub, sid) = path.into_inner();
    let user = users::by_sub(&state.store, &sub).await?;
    let found = session_list::end(&state.store, &user.sub, &sid, &admin.client_id)
        .await
        .map_err(UserError::from)?;
    Ok(ended(found))
}
