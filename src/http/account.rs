//! Endpoints a user calls with their own access token: logout everywhere, and TOTP
//! enrollment (start, confirm, disable). Adding, replacing or removing a second factor needs
//! more than the token: a recent sign-in, or the current password plus the current factor.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::extract::{read_body, Bearer, ClientIp, SessionUser};
use super::passkeys::recent;
use crate::error::OAuthError;
use crate::mfa;
use crate::state::AppState;
use crate::users::logout_all as revoke_all_sessions;

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

fn json_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, OAuthError> {
    serde_json::from_slice(body)
        .map_err(|_| OAuthError::invalid_request("the body must be the JSON object documented"))
}

/// The owner's proof in a JSON body: `{"password", "code"}` or `{"password", "recovery_code"}`
/// (the code only when an authenticator app is set up).
#[derive(Deserialize)]
struct Proof {
    password: String,
    code: Option<String>,
    recovery_code: Option<String>,
}

impl Proof {
    fn as_owner_proof(&self) -> mfa::OwnerProof<'_> {
        mfa::OwnerProof {
            password: &self.password,
            otp: self.code.as_deref(),
            recovery_code: self.recovery_code.as_deref(),
        }
    }
}

/// `POST /account/mfa/totp`: starts (or restarts) TOTP enrollment. 200 with `otpauth_uri`,
/// `qr_png` (base64 PNG) and `qr_svg`; the secret stays pending until confirmed. A bearer token
/// alone cannot add or replace a second factor: the token's sign-in (`auth_time`) must be at
/// most `passkey_reauth_max_age` seconds old, or the JSON body proves the owner: the current
/// `password`, and a current `code` or `recovery_code` when TOTP is active (checked by
/// [`mfa::prove_owner`]). Otherwise 401 `insufficient_user_authentication` (RFC 9470 §3).
pub async fn start_totp(
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    Bearer(claims): Bearer,
    mut payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let SessionUser(user) = SessionUser::of(&state, &claims).await?;
    let body = read_body(&mut payload).await?;
    if let Err(not_recent) = recent(&claims, state.settings.passkey_reauth_max_age) {
        if body.is_empty() {
            return Err(not_recent);
        }
        let proof: Proof = json_body(&body)?;
        mfa::prove_owner(&state, &user, ip, proof.as_owner_proof()).await?;
    }
    let enrollment = mfa::start_enrollment(
        &state.store,
        &state.data_key,
        &state.settings.totp_issuer,
        user,
    )
    .await?;
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
/// (started with the proof [`start_totp`] asks for) and returns `{"recovery_codes": [...]}` (10
/// single-use codes, shown once). The code's time step is consumed, so it cannot be replayed
/// for login.
pub async fn confirm_totp(
    state: web::Data<AppState>,
    SessionUser(user): SessionUser,
    mut payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let Confirm { code } = json_body(&read_body(&mut payload).await?)?;
    let codes = mfa::confirm_enrollment(&state.store, &state.data_key, user, &code).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"recovery_codes": codes})))
}

/// `DELETE /account/mfa/totp` with `{"password", "code"}` or `{"password", "recovery_code"}`:
/// turns MFA off. 204; `invalid_grant` when either part is wrong (without saying which). The
/// password is checked first, through the login limiter, so a wrong one spends no code; the
/// code goes through the account's second-factor limit ([`mfa::prove_owner`]).
pub async fn disable_totp(
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    SessionUser(user): SessionUser,
    mut payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let proof: Proof = json_body(&read_body(&mut payload).await?)?;
    if user.totp.is_none() {
        return Err(mfa::MfaError::Invalid.into());
    }
    mfa::prove_owner(&state, &user, ip, proof.as_owner_proof()).await?;
    mfa::disable(&state.store, user).await?;
    Ok(HttpResponse::NoContent().finish())
}
