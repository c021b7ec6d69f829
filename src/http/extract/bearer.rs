//! Bearer access tokens (RFC 6750 §2.1) and the users behind them.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::{app_state, authorization, Extracting};
use crate::error::OAuthError;
use crate::state::AppState;
use crate::store::{Backend, User};
use crate::tokens::AccessClaims;

/// The verified claims of the request's `Authorization: Bearer` access token (RFC 9068 JWT:
/// signature, `typ`, `iss`, expiry). Verification is local: no store call.
///
/// # Errors
/// `invalid_token` (401 with a `WWW-Authenticate: Bearer` challenge, RFC 6750 §3.1) when the
/// token is missing or invalid.
#[derive(Debug)]
pub struct Bearer(pub AccessClaims);

impl Bearer {
    /// Whether the token's space-separated `scope` grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scope.split(' ').any(|s| s == scope)
    }

    /// The bearer token of `req`, verified: what the extractor yields, for extractors built on
    /// it.
    ///
    /// # Errors
    /// As [`Bearer`].
    pub fn verified(req: &HttpRequest) -> Result<Self, OAuthError> {
        app_state(req).and_then(|state| Self::verify(state, req))
    }

    fn verify(state: &AppState, req: &HttpRequest) -> Result<Self, OAuthError> {
        let token = authorization::credentials(req, "Bearer")
            .ok_or_else(|| OAuthError::invalid_token("a bearer access token is required"))?;
        state
            .tokens
            .verify_access_token(token)
            .map(Self)
            .map_err(|e| OAuthError::invalid_token(e.to_string()))
    }
}

impl FromRequest for Bearer {
    type Error = OAuthError;
    type Future = Ready<Result<Self, OAuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::verified(req))
    }
}

/// The user of a verified [`Bearer`] token, for endpoints acting on the user's own account: the
/// token must belong to a live session (`sid`, a refresh-token family) of a user that exists
/// and is not disabled. Two store calls (family, user).
///
/// # Errors
/// As [`Bearer`]; `invalid_token` "the session has ended" otherwise; 503 when the store is
/// down.
#[derive(Debug)]
pub struct SessionUser(pub User);

impl SessionUser {
    /// The session user of already verified `claims`, for a handler that checks the token
    /// (e.g. its scope) before the session.
    ///
    /// # Errors
    /// As [`SessionUser`], after the bearer check.
    pub async fn of(state: &AppState, claims: &AccessClaims) -> Result<Self, OAuthError> {
        let ended = || OAuthError::invalid_token("the session has ended");
        let sid = claims.sid.as_deref().ok_or_else(ended)?;
        if !state.store.family_alive(sid).await? {
            return Err(ended());
        }
        state
            .store
            .user_by_sub(&claims.sub)
            .await?
            .filter(|u| !u.disabled)
            .map(Self)
            .ok_or_else(ended)
    }
}

impl FromRequest for SessionUser {
    type Error = OAuthError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = app_state(req).and_then(|state| {
            Bearer::verify(state, req).map(|Bearer(claims)| (state.clone(), claims))
        });
        Box::pin(async move {
            let (state, claims) = verified?;
            Self::of(&state, &claims).await
        })
    }
}
