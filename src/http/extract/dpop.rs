//! The `DPoP` request header (RFC 9449 §4.1): the proof of the request, verified by
//! [`crate::dpop::verify`] against this request's method and URL.

use actix_web::HttpRequest;

use crate::dpop::{verify, ProofTarget};
use crate::error::OAuthError;
use crate::state::AppState;

/// What a proof of `req` must match, read before any `await` (the request is not `Send`).
pub struct ProofRequest {
    /// The `DPoP` header's value.
    proof: String,
    /// The method.
    htm: String,
    /// The issuer's URL of the path (RFC 9449 §4.3: without query and fragment; the issuer,
    /// not the `Host` header, since the server may be behind a proxy).
    htu: String,
}

impl ProofRequest {
    /// The proof `req` carries, if any.
    ///
    /// # Errors
    /// `invalid_dpop_proof` for more than one `DPoP` header or one that is not visible ASCII
    /// (§4.3 point 1).
    pub fn of(state: &AppState, req: &HttpRequest) -> Result<Option<Self>, OAuthError> {
        let mut values = req.headers().get_all("DPoP");
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(OAuthError::invalid_dpop_proof(
                "exactly one DPoP header is allowed",
            ));
        }
        let proof = value
            .to_str()
            .map_err(|_| OAuthError::invalid_dpop_proof("the DPoP header is not a JWT"))?;
        Ok(Some(Self {
            proof: proof.trim().to_owned(),
            htm: req.method().as_str().to_owned(),
            htu: state.settings.endpoint(req.path()),
        }))
    }

    /// Verifies the proof (at a resource, for `access_token`) and returns its key's `jkt`.
    ///
    /// # Errors
    /// As [`crate::dpop::verify`].
    pub async fn verify(
        &self,
        state: &AppState,
        access_token: Option<&str>,
    ) -> Result<String, OAuthError> {
        let target = ProofTarget {
            htm: &self.htm,
            htu: &self.htu,
            access_token,
        };
        verify(state, &self.proof, target).await
    }
}

/// The `jkt` of the proof `req` carries, verified; `None` without a `DPoP` header (no store
/// call then).
///
/// # Errors
/// As [`ProofRequest::of`] and [`crate::dpop::verify`].
pub async fn proof_jkt(
    state: &AppState,
    proof: Result<Option<ProofRequest>, OAuthError>,
) -> Result<Option<String>, OAuthError> {
    match proof? {
        Some(proof) => proof.verify(state, None).await.map(Some),
        None => Ok(None),
    }
}
