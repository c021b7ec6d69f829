//! DPoP proofs (RFC 9449): verification of a proof JWT for one request, its key's RFC 7638
//! thumbprint (`jkt`), the replay cache and the server nonces of §8. HTTP-free: the caller
//! names the method, the URL and the access token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::now;
use crate::error::{ErrorCode, OAuthError};
use crate::keys::PublicJwk;
use crate::secret::SecretHash;
use crate::state::AppState;
use crate::store::Backend;

/// Seconds a server nonce stays current (§8); the previous window's nonce is accepted too.
const NONCE_WINDOW: u64 = 300;
/// A proof larger than this is refused before any parsing.
const MAX_PROOF_BYTES: usize = 8 * 1024;

/// The request a proof must match (RFC 9449 §4.3).
pub struct ProofTarget<'a> {
    /// The HTTP method (`htm`).
    pub htm: &'a str,
    /// The request URL without query and fragment (`htu`), as the issuer names it.
    pub htu: &'a str,
    /// At a protected resource: the access token (`ath` must be its hash, §7).
    pub access_token: Option<&'a str>,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: u64,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// The RFC 7638 thumbprint of a public JWK of an allowed type (RSA, EC P-256, Ed25519).
fn thumbprint(jwk: &Jwk) -> Option<String> {
    let public = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => PublicJwk::Rsa {
            n: rsa.n.clone(),
            e: rsa.e.clone(),
        },
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            PublicJwk::Ec {
                x: ec.x.clone(),
                y: ec.y.clone(),
            }
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            PublicJwk::Okp { x: okp.x.clone() }
        }
        _ => return None,
    };
    Some(public.thumbprint())
}

/// RFC 9449 §4.2: the `jwk` header must not contain a private key. jsonwebtoken ignores
/// unknown members, so the raw header is checked for every private JWK member (RFC 7518 §6).
fn has_private_member(proof: &str) -> bool {
    let Some(header) = proof.split('.').next() else {
        return true;
    };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(header) else {
        return true;
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return true;
    };
    let Some(jwk) = value.get("jwk").and_then(|j| j.as_object()) else {
        return true;
    };
    ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
        .iter()
        .any(|m| jwk.contains_key(*m))
}

/// The URL without its query and fragment (RFC 9449 §4.3 point 9).
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// RFC 9449 §6.1 / §7: `ath`, base64url of the SHA-256 of the access token.
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The current server nonce (§8): base64url of the window number and a MAC over it.
pub fn current_nonce(state: &AppState) -> String {
    nonce_for(state, now() / NONCE_WINDOW)
}

fn nonce_for(state: &AppState, window: u64) -> String {
    let tag = state.data_key.mac("dpop-nonce", &window.to_be_bytes());
    let mut bytes = window.to_be_bytes().to_vec();
    bytes.extend_from_slice(&tag.as_ref()[..16]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `nonce` is the current or the previous window's nonce (constant-time compare).
fn nonce_is_current(state: &AppState, nonce: &str) -> bool {
    let window = now() / NONCE_WINDOW;
    [window, window.saturating_sub(1)]
        .iter()
        .any(|w| bool::from(nonce_for(state, *w).as_bytes().ct_eq(nonce.as_bytes())))
}

/// Verifies the DPoP `proof` for `target` and returns its key's thumbprint (`jkt`): `typ`
/// `dpop+jwt`, an allowed asymmetric `alg`, a public `jwk` (no private member) whose
/// signature verifies, `htm`/`htu` of this request, `iat` within the configured window,
/// `ath` at a resource, the server nonce when required, and a `jti` not seen before (one
/// store round trip, made last, so an invalid proof costs none).
///
/// # Errors
/// `invalid_dpop_proof` (§5, §7.1); `use_dpop_nonce` with the nonce to use (§8); 503 when
/// the store is down.
pub async fn verify(
    state: &AppState,
    proof: &str,
    target: ProofTarget<'_>,
) -> Result<String, OAuthError> {
    let bad = OAuthError::invalid_dpop_proof;
    if proof.len() > MAX_PROOF_BYTES {
        return Err(bad("the DPoP proof is too large"));
    }
    let header =
        jsonwebtoken::decode_header(proof).map_err(|_| bad("the DPoP proof is not a JWS"))?;
    // §4.2: typ, an asymmetric algorithm we verify, a public key.
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(bad("the DPoP proof's typ must be dpop+jwt"));
    }
    if !matches!(
        header.alg,
        Algorithm::ES256 | Algorithm::RS256 | Algorithm::PS256 | Algorithm::EdDSA
    ) {
        return Err(bad("the DPoP proof's alg is not supported"));
    }
    let jwk = header
        .jwk
        .as_ref()
        .ok_or_else(|| bad("the DPoP proof has no jwk"))?;
    if has_private_member(proof) {
        return Err(bad("the DPoP proof's jwk must not contain a private key"));
    }
    let jkt = thumbprint(jwk).ok_or_else(|| bad("the DPoP proof's jwk is not supported"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| bad("the DPoP proof's jwk is invalid"))?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<ProofClaims>(proof, &key, &validation)
        .map_err(|_| bad("the DPoP proof's signature or claims are invalid"))?
        .claims;
    if claims.htm != target.htm {
        return Err(bad("the DPoP proof's htm does not match the request"));
    }
    if without_query(&claims.htu) != target.htu {
        return Err(bad("the DPoP proof's htu does not match the request"));
    }
    let window = state.settings.dpop_iat_window;
    if now().abs_diff(claims.iat) > window {
        return Err(bad("the DPoP proof's iat is outside the accepted window"));
    }
    if claims.jti.is_empty() || claims.jti.len() > 256 {
        return Err(bad("the DPoP proof's jti is missing or too long"));
    }
    if let Some(token) = target.access_token {
        let expected = access_token_hash(token);
        if !claims
            .ath
            .is_some_and(|ath| bool::from(ath.as_bytes().ct_eq(expected.as_bytes())))
        {
            return Err(bad("the DPoP proof's ath does not match the access token"));
        }
    }
    if state.settings.dpop_nonce_required
        && !claims
            .nonce
            .as_deref()
            .is_some_and(|n| nonce_is_current(state, n))
    {
        let mut e = OAuthError::new(
            ErrorCode::UseDpopNonce,
            "use the DPoP-Nonce of this response",
        );
        e.dpop_nonce = Some(current_nonce(state));
        return Err(e);
    }
    // §11.1: a proof is accepted once; remembered for as long as its iat could be accepted.
    let seen = SecretHash::of(&format!("{jkt}:{}", claims.jti));
    if !state
        .store
        .first_dpop_proof(&seen, window * 2 * 1000)
        .await?
    {
        return Err(bad("the DPoP proof was already used"));
    }
    Ok(jkt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_drops_query_and_fragment() {
        assert_eq!(without_query("https://a/b?c=d#e"), "https://a/b");
        assert_eq!(without_query("https://a/b#e"), "https://a/b");
        assert_eq!(without_query("https://a/b"), "https://a/b");
    }

    /// RFC 9449 §7.1 example: the ath of the example access token.
    #[test]
    fn ath_is_base64url_sha256() {
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
