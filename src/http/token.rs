//! `POST /oauth2/token` (RFC 6749 §3.2).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{authenticated_client, client_ip, Params};
use crate::error::{ErrorCode, OAuthError};
use crate::grants::{client_credentials_grant, password_grant, refresh_token_grant};
use crate::state::AppState;

/// Dispatches on `grant_type`; every response carries `Cache-Control: no-store` (RFC 6749 §5.1).
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let params = Params::parse(&req, &body)?;
    let grant_type = params.require("grant_type")?;
    if !matches!(
        grant_type,
        "password" | "refresh_token" | "client_credentials"
    ) {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "supported grant types: password, refresh_token, client_credentials",
        ));
    }
    let client = authenticated_client(&state, &req, &params).await?;
    let response = match grant_type {
        "password" => {
            password_grant(
                &state,
                &client,
                client_ip(&state, &req),
                params.require("username")?,
                params.require("password")?,
                params.get("scope"),
            )
            .await?
        }
        "client_credentials" => {
            client_credentials_grant(&state, &client, params.get("scope"), params.get("resource"))?
        }
        _ => {
            refresh_token_grant(
                &state,
                &client,
                params.require("refresh_token")?,
                params.get("scope"),
            )
            .await?
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(response))
}
