//! `POST /oauth2/token` (RFC 6749 §3.2).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::extract::{client_ip, proof_jkt, GrantType, ProofRequest, TokenRequest};
use crate::error::OAuthError;
use crate::grants::{
    authorization_code_grant, client_credentials_grant, device_code_grant, mfa_otp_grant,
    password_grant, refresh_token_grant, require_dpop, PasswordOutcome,
};
use crate::state::AppState;

/// Runs the request's grant; every response carries `Cache-Control: no-store` (RFC 6749 §5.1).
/// The client IP (for the password and second-factor limits) is worked out for those grants
/// only.
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: TokenRequest,
) -> Result<HttpResponse, OAuthError> {
    let TokenRequest {
        grant_type,
        params,
        client,
    } = request;
    // RFC 9449 §5: a proof binds the tokens; without a DPoP header no store call is made.
    let jkt = proof_jkt(&state, ProofRequest::of(&state, &req)).await?;
    let dpop = jkt.as_deref();
    require_dpop(&client, dpop)?;
    let response = match grant_type {
        GrantType::Password => match password_grant(
            &state,
            &client,
            client_ip(&state, &req),
            params.require("username")?,
            params.require("password")?,
            params.get("scope"),
            dpop,
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
        GrantType::MfaOtp => {
            mfa_otp_grant(
                &state,
                &client,
                client_ip(&state, &req),
                params.require("mfa_token")?,
                params.get("otp"),
                params.get("recovery_code"),
                dpop,
            )
            .await?
        }
        GrantType::AuthorizationCode => {
            authorization_code_grant(
                &state,
                &client,
                params.require("code")?,
                params.get("redirect_uri"),
                params.get("code_verifier"),
                dpop,
            )
            .await?
        }
        GrantType::DeviceCode => {
            device_code_grant(&state, &client, params.require("device_code")?, dpop).await?
        }
        GrantType::ClientCredentials => client_credentials_grant(
            &state,
            &client,
            params.get("scope"),
            params.get("resource"),
            dpop,
        )?,
        GrantType::RefreshToken => {
            refresh_token_grant(
                &state,
                &client,
                params.require("refresh_token")?,
                params.get("scope"),
                dpop,
            )
            .await?
        }
    };
    state
        .metrics
        .tokens_issued
        .with_label_values(&[grant_type.as_str()])
        .inc();
    // RFC 9449 §8.2: the next DPoP-Nonce is added by `dpop_nonce::with_dpop_nonce`.
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(response))
}
