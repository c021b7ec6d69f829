//! Endpoints a user calls with their own access token: logout everywhere, and TOTP
//! enrollment (start, confirm, disable).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::extract::{read_body, Bearer, SessionUser};
use crate::error::OAuthError;
use crate::mfa;
use crate::state::AppState;
use crate::users::{authenticate, logout_all as revoke_all_sessions, normalize_password};

/// `POST /account/logout-all`: revokes every refresh-token family of the bearer's user. 204.
/// A client-credentials token (no session) is refused with `invalid_token`.
pub async fn logout_all(
    state: web::Data<AppState>,
    Bearer(claims): Bearer,
) -> Result<HttpResponse, OAuthError> {
    if claims.sid.is_none() {
        return Err(OAuthError::invalid_token(
            "the access token does not belong to a user",
        ));
    }
    revoke_all_sessions(&state.store, &claims.sub).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn invalid_code() -> OAuthError {
    OAuthError::invalid_grant("the credentials or the code are invalid")
}

fn json_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, OAuthError> {
    serde_json::from_slice(body)
        .map_err(|_| OAuthError::invalid_request("the body must be the JSON object documented"))
}

/// `POST /account/mfa/totp`: starts (or restarts) TOTP enrollment. 200 with `otpauth_uri`,
/// `qr_png` (base64 PNG) and `qr_svg`; the secret stays pending until confirmed.
pub async fn start_totp(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
) -> Result<HttpResponse, OAuthError> {
    let enrollment = mfa::start_enrollment(
        &state.store,
        &state.data_key,
        &state.settings.totp_issuer,
        user,
    )
    .await
    .map_err(mfa_error)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "otpauth_uri": enrollment.otpauth_uri,
            "qr_png": enrollment.qr_png,
            "qr_svg": enrollment.qr_svg,
        })))
}

#[derive(Deserialize)]
struct Confirm {
    code: String,
}

/// `POST /account/mfa/totp/confirm` with `{"code": "123456"}`: activates the pending secret
/// and returns `{"recovery_codes": [...]}` (10 single-use codes, shown once). The code's time
/// step is consumed, so it cannot be replayed for login.
pub async fn confirm_totp(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    mut payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let Confirm { code } = json_body(&read_body(&mut payload).await?)?;
    let codes = mfa::confirm_enrollment(&state.store, &state.data_key, user, &code)
        .await
        .map_err(mfa_error)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"recovery_codes": codes})))
}

#[derive(Deserialize)]
struct Disable {
    password: String,
    code: Option<String>,
    recovery_code: Option<String>,
}

/// `DELETE /account/mfa/totp` with `{"password", "code"}` or `{"password", "recovery_code"}`:
/// turns MFA off. 204; `invalid_grant` when either part is wrong (without saying which).
pub async fn disable_totp(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    mut payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let request: Disable = json_body(&read_body(&mut payload).await?)?;
    let password = normalize_password(&request.password)?;
    let password_ok = authenticate(&state.store, &state.hasher, &user.username, password)
        .await?
        .is_some();
    let factor_ok = mfa::verify_second_factor(
        &state.store,
        &state.data_key,
        &user,
        request.code.as_deref(),
        request.recovery_code.as_deref(),
    )
    .await
    .is_ok();
    if !(password_ok && factor_ok) {
        return Err(invalid_code());
    }
    mfa::disable(&state.store, user).await.map_err(mfa_error)?;
    Ok(HttpResponse::NoContent().finish())
}

fn mfa_error(e: mfa::MfaError) -> OAuthError {
    match e {
        mfa::MfaError::Invalid => invalid_code(),
        mfa::MfaError::Store(e) => e.into(),
        mfa::MfaError::DataKey(e) => crate::error::StoreError(e.to_string()).into(),
    }
}
