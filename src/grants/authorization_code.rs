//! Authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636), for browser sign-in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{open_session, require_grant, Authentication, TokenResponse};
use crate::error::OAuthError;
use crate::sessions::{code_grant, redeem_code};
use crate::state::AppState;
use crate::store::{Backend, Client, Redemption};
use crate::tokens::RefreshToken;

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, in constant time.
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    if !valid_verifier(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// Exchanges an authorization code. The code is bound to the client, the redirect URI and the
/// PKCE challenge; it is single use, and a second use revokes the session the first opened
/// (RFC 6749 §4.1.2, RFC 9700 §4.5).
///
/// # Errors
/// `invalid_grant` for unknown, expired, reused or mismatched codes or a wrong verifier;
/// `unauthorized_client`; 503 when the store is down.
#[tracing::instrument(skip_all, fields(client_id = %client.client_id, grant_type = "authorization_code"))]
pub async fn authorization_code_grant(
    state: &AppState,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    dpop: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    require_grant(client, "authorization_code")?;
    let invalid =
        || OAuthError::invalid_grant("the authorization code is invalid, expired or used");
    let grant = code_grant(&state.store, code).await?.ok_or_else(invalid)?;
    if grant.client_id != client.client_id
        || redirect_uri != Some(grant.redirect_uri.as_str())
        || !code_verifier.is_some_and(|v| pkce_s256_matches(v, &grant.code_challenge))
    {
        return Err(invalid());
    }
    // RFC 9449 §10: a code bound with `dpop_jkt` is exchanged only with a proof of that key.
    if grant
        .dpop_jkt
        .as_deref()
        .is_some_and(|jkt| Some(jkt) != dpop)
    {
        return Err(OAuthError::invalid_grant(
            "the authorization code is bound to another DPoP key",
        ));
    }
    let refresh = RefreshToken::new_family();
    match redeem_code(&state.store, code, refresh.family_id()).await? {
        Redemption::Fresh(_) => {}
        Redemption::Reused(first) => {
            state.store.revoke_family(&first).await?;
            tracing::warn!(target: "audit", event = "code_reuse_detected",
                client_id = %client.client_id, sid = %first);
            return Err(invalid());
        }
        Redemption::Unknown => return Err(invalid()),
    }
    let user = state
        .store
        .user(&grant.username)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(invalid)?;
    state
        .store
        .add_session_family(
            &grant.session,
            refresh.family_id(),
            state.settings.refresh_token_ttl,
        )
        .await?;
    let auth = Authentication {
        user: &user,
        auth_time: grant.auth_time,
        amr: &grant.amr,
        nonce: grant.nonce.as_deref(),
        dpop,
    };
    open_session(state, client, auth, grant.scope, refresh).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_s256_matches(verifier, challenge));
        assert!(!pkce_s256_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(!pkce_s256_matches("short", challenge));
    }
}
