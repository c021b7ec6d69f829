//! Bearer access tokens (RFC 6750 §2.1) and the users behind them.

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{FromRequest, HttpRequest};

use super::dpop::ProofRequest;
use super::{app_state, authorization, Extracting, Params};
use crate::error::OAuthError;
use crate::state::AppState;
use crate::store::{Backend, User};
use crate::tokens::AccessClaims;

/// The verified claims of the request's access token (RFC 9068 JWT: signature, `typ`, `iss`,
/// expiry), sent as `Authorization: Bearer` (RFC 6750 §2.1) or, for a DPoP-bound token, as
/// `Authorization: DPoP` with a proof whose `ath` is the token's hash and whose key is the
/// token's `cnf.jkt` (RFC 9449 §7). The token check is local; a proof costs one store call
/// (its `jti`).
///
/// # Errors
/// `invalid_token` (401 with a `WWW-Authenticate: Bearer` challenge, RFC 6750 §3.1) when the
/// token is missing or invalid; a DPoP-bound token sent as `Bearer` is refused (§7.1); with
/// the `DPoP` scheme, errors challenge with `DPoP` (`invalid_dpop_proof`, `use_dpop_nonce`).
#[derive(Debug)]
pub struct Bearer(pub AccessClaims);

/// The token and, for the `DPoP` scheme, its proof, read off the request.
struct Presented {
    token: String,
    proof: Option<ProofRequest>,
}

impl Bearer {
    /// Whether the token's space-separated `scope` grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scope.split(' ').any(|s| s == scope)
    }

    /// The access token of `req`, verified: what the extractor yields, for extractors built
    /// on it.
    ///
    /// # Errors
    /// As [`Bearer`].
    pub fn verified(req: &HttpRequest) -> Extracting<Self> {
        let parsed = app_state(req).and_then(|state| Ok((state.clone(), presented(state, req)?)));
        Box::pin(async move {
            let (state, presented) = parsed?;
            Self::verify(&state, presented).await
        })
    }

    async fn verify(state: &AppState, presented: Presented) -> Result<Self, OAuthError> {
        let dpop = presented.proof.is_some();
        let at = |e: OAuthError| if dpop { e.at_dpop_resource() } else { e };
        let claims = state
            .tokens
            .verify_access_token(&presented.token)
            .map_err(|e| at(OAuthError::invalid_token(e.to_string())))?;
        match (&claims.cnf, presented.proof) {
            (None, None) => Ok(Self(claims)),
            // RFC 9449 §7.1: a DPoP-bound token is not a bearer token.
            (Some(_), None) => Err(OAuthError::invalid_token(
                "the access token is DPoP-bound: send it with the DPoP scheme and a proof",
            )
            .at_dpop_resource()),
            (None, Some(_)) => Err(at(OAuthError::invalid_token(
                "the access token is not DPoP-bound: send it with the Bearer scheme",
            ))),
            (Some(cnf), Some(proof)) => {
                let jkt = proof
                    .verify(state, Some(&presented.token))
                    .await
                    .map_err(at)?;
                if jkt == cnf.jkt {
                    Ok(Self(claims))
                } else {
                    Err(at(OAuthError::invalid_dpop_proof(
                        "the DPoP proof's key is not the one the token is bound to",
                    )))
                }
            }
        }
    }
}

/// The access token of `req` and, with the `DPoP` scheme, its proof.
fn presented(state: &AppState, req: &HttpRequest) -> Result<Presented, OAuthError> {
    if let Some(token) = authorization::credentials(req, "DPoP") {
        let proof = ProofRequest::of(state, req)
            .map_err(OAuthError::at_dpop_resource)?
            .ok_or_else(|| {
                OAuthError::invalid_dpop_proof("a DPoP proof is required").at_dpop_resource()
            })?;
        return Ok(Presented {
            token: token.to_owned(),
            proof: Some(proof),
        });
    }
    let token = authorization::credentials(req, "Bearer").ok_or_else(|| {
        if req.headers().contains_key(header::AUTHORIZATION) {
            OAuthError::invalid_token("a bearer access token is required")
        } else {
            OAuthError::no_credentials()
        }
    })?;
    Ok(Presented {
        token: token.to_owned(),
        proof: None,
    })
}

impl FromRequest for Bearer {
    type Error = OAuthError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Self::verified(req)
    }
}

/// A [`Bearer`] token sent in the `Authorization` header or, RFC 6750 §2.2, as the
/// `access_token` parameter of an `application/x-www-form-urlencoded` body of a request other
/// than `GET` (the UserInfo endpoint, where relying-party libraries do this).
///
/// # Errors
/// As [`Bearer`]; `invalid_request` (400, RFC 6750 §3.1) when the token is sent both ways
/// (§2: "MUST NOT use more than one method") or the body cannot be read.
#[derive(Debug)]
pub struct FormBearer(pub Bearer);

impl FromRequest for FormBearer {
    type Error = OAuthError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = req.method() != Method::GET
            && req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| {
                    v.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                });
        if !form {
            return Box::pin(futures_util::FutureExt::map(Bearer::verified(req), |b| {
                b.map(Self)
            }));
        }
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let params = Params::read(&req, &mut payload).await?;
            let Some(token) = params.get("access_token") else {
                return Bearer::verified(&req).await.map(Self);
            };
            if req.headers().contains_key(header::AUTHORIZATION) {
                return Err(OAuthError::invalid_request(
                    "the access token is sent both in the Authorization header and in the body",
                ));
            }
            let state = app_state(&req)?.clone();
            let presented = Presented {
                token: token.to_owned(),
                proof: None,
            };
            Bearer::verify(&state, presented).await.map(Self)
        })
    }
}

/// The user of a verified [`Bearer`] token, for endpoints acting on the user's own account: the
/// token must have been issued to the current registration of its client (removing a client
/// ends its tokens, and registering the id again does not revive them), belong to a live
/// session (`sid`, a refresh-token family) and to a user that exists and is not disabled. Two
/// store calls (family, user); the client comes from the registry's cache.
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
        if !issued_to_current_client(state, claims).await? {
            return Err(ended());
        }
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

/// Whether `claims` were issued to the client's current registration: the client exists and
/// its `registered_at` is the token's `client_registered_at`. From the registry's cache.
///
/// # Errors
/// 503 when the store is down (on a cache miss).
pub async fn issued_to_current_client(
    state: &AppState,
    claims: &AccessClaims,
) -> Result<bool, OAuthError> {
    Ok(state
        .clients
        .of_grant(&claims.client_id, claims.client_registered_at)
        .await?
        .is_some())
}

impl FromRequest for SessionUser {
    type Error = OAuthError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = app_state(req).cloned();
        let bearer = Bearer::verified(req);
        Box::pin(async move {
            let (state, Bearer(claims)) = (state?, bearer.await?);
            Self::of(&state, &claims).await
        })
    }
}
