//! `POST /oauth2/token` (RFC 6749 §3.2).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{authenticated_client, client_ip, Params};
use crate::error::{ErrorCode, OAuthError};
use crate::grants::{
    authorization_code_grant, client_credentials_grant, mfa_otp_grant, password_grant,
    refresh_token_grant, PasswordOutcome, MFA_OTP_GRANT,
};
use crate::state::AppState;

/// Dispatches on `grant_type`; every response carries `Cache-Control: no-store` (RFC 6749 §5.1).
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let params = Params::read(&req, payload).await?;
    let grant_type = params.require("grant_type")?;
    if !matches!(
        grant_type,
        "authorization_code" | "password" | "refresh_token" | "client_credentials" | MFA_OTP_GRANT
    ) {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "supported grant types: authorization_code, password, refresh_token, client_credentials, urn:tessera:params:oauth:grant-type:mfa-otp",
        ));
    }
    let client = authenticated_client(&state, &req, &params).await?;
    let response = match grant_type {
        "password" => match password_grant(
            &state,
            &client,
            client_ip(&state, &req),
            params.require("username")?,
            params.require("password")?,
            params.get("scope"),
        )
        .await?
        {
            PasswordOutcome::Tokens(tokens) => tokens,
            PasswordOutcome::MfaRequired(mfa_token) => {
                return Ok(HttpResponse::Forbidden()
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .insert_header((header::PRAGMA, "no-cache"))
                    .json(json!({
                        "error": "mfa_required",
                        "error_description": "a second factor is required",
                        "mfa_token": mfa_token,
                        "mfa_methods": ["otp", "recovery_code"],
                    })))
            }
        },
        MFA_OTP_GRANT => {
            mfa_otp_grant(
                &state,
                &client,
                client_ip(&state, &req),
                params.require("mfa_token")?,
                params.get("otp"),
                params.get("recovery_code"),
            )
            .await?
        }
        "authorization_code" => {
            authorization_code_grant(
                &state,
                &client,
                params.require("code")?,
                params.get("redirect_uri"),
                params.get("code_verifier"),
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
    state
        .metrics
        .tokens_issued
        .with_label_values(&[grant_type])
        .inc();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(response))
}
