//! Operator JSON API under `/admin/users`: create, find, list, change and delete users. Needs
//! a `tessera:admin` bearer token ([`Admin`]); errors are the admin API's JSON shape
//! ([`admin_error`]): 400 `invalid_request` for bad input (nothing changed), 404 `not_found`,
//! 409 `conflict`, 503 when the store or the hashing pool is busy. Answers never carry a hash;
//! audit events name the admin client that acted.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::admin::{admin_error, Admin};
use super::extract::{read_body, Params};
use crate::error::OAuthError;
use crate::state::AppState;
use crate::store::UsersPage;
use crate::users::{self, UserError};

/// Page size when a listing names no `limit`.
const DEFAULT_LIMIT: usize = 50;

/// Why an admin call stopped, rendered in the admin API's JSON shape: bad input (400
/// `invalid_request`), a [`UserError`] (404 unknown, 409 taken, 400 invalid; store down or
/// hashing pool busy as the [`OAuthError`] 503 with `Retry-After`).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Input that does not parse; nothing changed.
    #[error("{0}")]
    BadInput(String),
    /// A user operation's refusal.
    #[error(transparent)]
    User(UserError),
    /// The store is down or the hashing pool full.
    #[error(transparent)]
    Unavailable(OAuthError),
}

impl From<UserError> for Failure {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Store(_) | UserError::Hash(_) => Failure::Unavailable(e.into()),
            e => Failure::User(e),
        }
    }
}

impl From<OAuthError> for Failure {
    fn from(e: OAuthError) -> Self {
        Failure::BadInput(e.description)
    }
}

impl actix_web::ResponseError for Failure {
    fn error_response(&self) -> HttpResponse {
        let (status, code) = match self {
            Failure::Unavailable(e) => return e.error_response(),
            Failure::User(UserError::NotFound) => (StatusCode::NOT_FOUND, "not_found"),
            Failure::User(UserError::Exists) => (StatusCode::CONFLICT, "conflict"),
            _ => (StatusCode::BAD_REQUEST, "invalid_request"),
        };
        admin_error(status, code, self)
    }
}

/// A handler's answer.
pub type Answer = Result<HttpResponse, Failure>;

/// Parses a JSON body of at most the usual body limit into `T` (unknown fields refused).
async fn json_body<T: for<'de> Deserialize<'de>>(payload: &mut web::Payload) -> Result<T, Failure> {
    let body = read_body(payload).await?;
    serde_json::from_slice(&body).map_err(|e| Failure::BadInput(format!("invalid body: {e}")))
}

/// The user's JSON view ([`users::UserView`]).
async fn view(state: &AppState, user: &crate::store::User) -> Result<serde_json::Value, Failure> {
    let view = users::describe(&state.store, user)
        .await
        .map_err(UserError::from)?;
    Ok(json!(view))
}

/// `POST /admin/users` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    username: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// `POST /admin/users` `{username, password?, email?}`: 201 with the user (its `sub`); 409
/// when the (normalised) username exists. Password rules as the CLI's.
pub async fn create(state: web::Data<AppState>, admin: Admin, mut payload: web::Payload) -> Answer {
    let new: NewUser = json_body(&mut payload).await?;
    let password = new.password.as_deref();
    let user = users::add_user(
        &state.store,
        &state.hasher,
        &new.username,
        new.email,
        password,
    )
    .await?;
    tracing::info!(target: "audit", event = "admin_user_created", sub = %user.sub, actor = %admin.client_id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/admin/users/{}", user.sub)))
        .json(view(&state, &user).await?))
}

/// `GET /admin/users?username=...` (exact, normalised; zero or one user) or
/// `GET /admin/users?cursor=...&limit=...` (1..=100, default 50): `{"users": [...],
/// "next_cursor"}`, `next_cursor` absent on the last page. Stable under inserts.
pub async fn list(state: web::Data<AppState>, _admin: Admin, req: HttpRequest) -> Answer {
    let params = Params::from_query(&req)?;
    let page = match params.get("username") {
        Some(username) => match users::by_username(&state.store, username).await {
            Ok(user) => UsersPage {
                users: vec![user],
                next: None,
            },
            Err(UserError::NotFound) => UsersPage {
                users: Vec::new(),
                next: None,
            },
            Err(e) => return Err(e.into()),
        },
        None => {
            let limit = match params.get("limit").map(str::parse::<usize>) {
                None => DEFAULT_LIMIT,
                Some(Ok(n)) if (1..=users::MAX_PAGE).contains(&n) => n,
                Some(_) => return Err(Failure::BadInput("limit must be from 1 to 100".into())),
            };
            users::list(&state.store, params.get("cursor"), limit).await?
        }
    };
    let mut listed = Vec::with_capacity(page.users.len());
    for user in &page.users {
        listed.push(view(&state, user).await?);
    }
    let mut body = json!({"users": listed});
    if let Some(next) = page.next {
        body["next_cursor"] = next.into();
    }
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /admin/users/{sub}`: the user, or 404.
pub async fn get(state: web::Data<AppState>, _admin: Admin, sub: web::Path<String>) -> Answer {
    let user = users::by_sub(&state.store, &sub).await?;
    Ok(HttpResponse::Ok().json(view(&state, &user).await?))
}

/// Deserializes a field that is present (even as `null`) into `Some`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `PATCH /admin/users/{sub}` body (JSON Merge Patch style, RFC 7396: `null` removes).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    #[serde(default)]
    disabled: Option<bool>,
}

/// `PATCH /admin/users/{sub}` `{email?, disabled?}`: the updated user. Disabling or changing
/// the email signs out every session.
pub async fn update(
    state: web::Data<AppState>,
    admin: Admin,
    sub: web::Path<String>,
    mut payload: web::Payload,
) -> Answer {
    let patch: UserPatch = json_body(&mut payload).await?;
    let user = users::by_sub(&state.store, &sub).await?;
    let email = patch.email.as_ref().map(Option::as_deref);
    let user = users::update(&state.store, user, email, patch.disabled, &admin.client_id).await?;
    Ok(HttpResponse::Ok().json(view(&state, &user).await?))
}

/// `PUT /admin/users/{sub}/password` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: String,
}

/// `PUT /admin/users/{sub}/password` `{password}`: 204; every session is signed out.
pub async fn set_password(
    state: web::Data<AppState>,
    admin: Admin,
    sub: web::Path<String>,
    mut payload: web::Payload,
) -> Answer {
    let body: NewPassword = json_body(&mut payload).await?;
    let user = users::by_sub(&state.store, &sub).await?;
    let actor = &admin.client_id;
    users::set_password(&state.store, &state.hasher, user, &body.password, actor).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /admin/users/{sub}/second-factors`: 204; TOTP, recovery codes (and passkeys) are
/// gone and every session is signed out.
pub async fn reset_factors(
    state: web::Data<AppState>,
    admin: Admin,
    sub: web::Path<String>,
) -> Answer {
    let user = users::by_sub(&state.store, &sub).await?;
    users::reset_factors(&state.store, user, &admin.client_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /admin/users/{sub}`: 204; the user and every session are gone, the username free.
pub async fn remove(state: web::Data<AppState>, admin: Admin, sub: web::Path<String>) -> Answer {
    let user = users::by_sub(&state.store, &sub).await?;
    users::remove(&state.store, &user, &admin.client_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
