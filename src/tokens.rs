//! Tokens: JWT access tokens (RFC 9068) and ID tokens signed with RS256, ES256 or EdDSA (the
//! client's choice, else the server default), their verification for our own endpoints, and
//! opaque refresh tokens.

use std::sync::Arc;

use arc_swap::ArcSwap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Validation;
use serde::{Deserialize, Serialize};

use crate::acr::Level;
use crate::clock::now;
use crate::keys::{jwt_algorithm, KeyError, KeySet, SigningAlg, SigningKey, TokenType};
use crate::secret::{random_token, SecretHash};
use crate::store::Family;

/// RFC 9068 §2.2 access-token claims (with the §2.2.1 authentication claims `auth_time`, `acr`
/// and `amr` for a user's token), plus `sid` (the refresh-token family / session).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer, byte-identical to discovery.
    pub iss: String,
    /// The user's stable id, or the client id for client credentials.
    pub sub: String,
    /// Audience (resource server).
    pub aud: String,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// Not before, unix seconds.
    pub nbf: u64,
    /// Unique token id.
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The registration of that client it was issued under ([`crate::store::Client`]'s
    /// `registered_at`, unix ms; absent in tokens issued before it existed: 0). Our endpoints
    /// accept the token only while the client's registration is this one.
    #[serde(default)]
    pub client_registered_at: u64,
    /// Granted scope, space-separated.
    pub scope: String,
    /// Time the user authenticated, unix seconds (absent for client credentials).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_time: Option<u64>,
    /// Session: the refresh-token family id (absent for client credentials).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
    /// Authentication context class reached (RFC 9068 §2.2.1, [`crate::acr`]); absent for
    /// client credentials.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub acr: Option<String>,
    /// Authentication methods (RFC 9068 §2.2.1, RFC 8176 values); absent for client
    /// credentials.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub amr: Option<Vec<String>>,
    /// RFC 9449 §6.1 / RFC 7800: the DPoP key the token is bound to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cnf: Option<Confirmation>,
}

/// RFC 7800 §3.1 confirmation claim, with RFC 9449 §6.1's `jkt` member.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Confirmation {
    /// The RFC 7638 thumbprint of the DPoP key.
    pub jkt: String,
}

/// OpenID Connect Core §2 ID-token claims, with the §5.4 standard claims the scopes allow.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdClaims {
    /// Issuer.
    pub iss: String,
    /// The user's stable id.
    pub sub: String,
    /// The client id (OIDC Core §2: the audience of an ID token is the client).
    pub aud: String,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// Time the user authenticated, unix seconds.
    pub auth_time: u64,
    /// Authentication methods (RFC 8176), e.g. `["pwd"]`.
    pub amr: Vec<String>,
    /// Authentication context class reached (OIDC Core §2, [`crate::acr`]).
    pub acr: String,
    /// The session (refresh-token family) id.
    pub sid: String,
    /// Email, with the `email` scope.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    /// Whether the email was verified (tessera does not verify emails: always `false`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email_verified: Option<bool>,
    /// The username, with the `profile` scope.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub preferred_username: Option<String>,
    /// The authorization request's `nonce` (OIDC Core §2), for the authorization code flow.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nonce: Option<String>,
}

/// OpenID Connect Back-Channel Logout 1.0 §2.4 logout-token claims (`typ: logout+jwt`): no
/// `nonce`, and the back-channel logout event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogoutClaims {
    /// Issuer.
    pub iss: String,
    /// The session's user.
    pub sub: String,
    /// The client (§2.4: the RP's client id).
    pub aud: String,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// Expiry, unix seconds: [`LOGOUT_TOKEN_TTL`] after `iat`.
    pub exp: u64,
    /// Unique token id.
    pub jti: String,
    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    pub events: serde_json::Value,
    /// The session that ended.
    pub sid: String,
}

/// Lifetime of a logout token, seconds (short: it is sent at once, and again on retry).
pub const LOGOUT_TOKEN_TTL: u64 = 120;

/// What an `id_token_hint` names (RP-Initiated Logout 1.0 §2).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct IdTokenHint {
    /// The client the ID token was issued to.
    pub aud: String,
    /// The user it was issued for.
    pub sub: String,
}

/// Why a bearer access token was refused. The text is safe to show to the client.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not a JWT, bad signature, unknown `kid`, wrong `alg`/`typ`/`iss`, expired or not yet
    /// valid (`nbf`).
    #[error("the access token is invalid or expired")]
    Invalid,
}

/// Clock-skew allowance of our verifiers, seconds, for `exp` and `nbf` alike (RFC 7519
/// §4.1.4, §4.1.5: "some small leeway").
const LEEWAY: u64 = 5;

/// The server's default signing algorithms (`access_token_signing_alg`,
/// `id_token_signing_alg`), used for clients that registered none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DefaultAlgs {
    /// Access tokens.
    pub access: SigningAlg,
    /// ID tokens.
    pub id: SigningAlg,
}

/// Signs tokens with the current key of the wanted algorithm and verifies ours. The key set is
/// swapped in place when keys rotate (lock-free reads on the hot path).
pub struct TokenIssuer {
    keys: Arc<ArcSwap<KeySet>>,
    issuer: String,
    ttl: u64,
    defaults: DefaultAlgs,
    /// Access-token validation per algorithm, indexed by [`SigningAlg::index`] (no per-request
    /// allocation).
    validation: [Validation; 3],
}

impl TokenIssuer {
    /// An issuer for `issuer` signing with `keys`, access tokens living `ttl` seconds, with the
    /// `defaults` algorithms for clients that chose none.
    pub fn new(
        keys: Arc<ArcSwap<KeySet>>,
        issuer: String,
        ttl: u64,
        defaults: DefaultAlgs,
    ) -> Self {
        let validation = SigningAlg::ALL.map(|alg| {
            let mut validation = Validation::new(jwt_algorithm(alg));
            validation.set_issuer(&[&issuer]);
            // Our own endpoints accept tokens for any audience we issued; presence is required.
            validation.validate_aud = false;
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "iat"]);
            // RFC 7519 §4.1.5: not accepted before `nbf`.
            validation.validate_nbf = true;
            validation.leeway = LEEWAY;
            validation
        });
        Self {
            keys,
            issuer,
            ttl,
            defaults,
            validation,
        }
    }

    /// The server's default algorithms.
    pub fn defaults(&self) -> DefaultAlgs {
        self.defaults
    }

    /// The current key set.
    pub fn keys(&self) -> arc_swap::Guard<Arc<KeySet>> {
        self.keys.load()
    }

    /// Access- and ID-token lifetime, seconds.
    pub fn ttl(&self) -> u64 {
        self.ttl
    }

    /// Claims for a new access token issued now to `client_id` under its registration
    /// `client_registered_at`.
    pub fn access_claims(
        &self,
        sub: &str,
        (client_id, client_registered_at): (&str, u64),
        aud: &str,
        scope: &str,
        auth_time: Option<u64>,
        sid: Option<&str>,
    ) -> AccessClaims {
        let now = now();
        AccessClaims {
            iss: self.issuer.clone(),
            sub: sub.to_owned(),
            aud: aud.to_owned(),
            exp: now + self.ttl,
            iat: now,
            nbf: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            client_id: client_id.to_owned(),
            client_registered_at,
            scope: scope.to_owned(),
            auth_time,
            sid: sid.map(str::to_owned),
            acr: None,
            amr: None,
            cnf: None,
        }
    }

    /// Claims for a new access token of the user session `family` (sid `family_id`), with its
    /// `auth_time`, `acr` and `amr` (RFC 9068 §2.2.1; also for refreshed tokens, which carry
    /// the family's original authentication).
    pub fn session_access_claims(
        &self,
        family_id: &str,
        family: &Family,
        aud: &str,
        scope: &str,
    ) -> AccessClaims {
        let mut claims = self.access_claims(
            &family.sub,
            (&family.client_id, family.client_registered_at),
            aud,
            scope,
            Some(family.auth_time),
            Some(family_id),
        );
        claims.acr = Some(Level::of_amr(&family.amr).as_str().to_owned());
        claims.amr = Some(family.amr.split_whitespace().map(str::to_owned).collect());
        claims
    }

    /// Signs `claims` as an `at+jwt` (RFC 9068 §2.1) with `alg` (the client's
    /// `access_token_signed_response_alg`), else the server default.
    ///
    /// # Errors
    /// [`KeyError::Missing`] without a key of the algorithm, [`KeyError::Sign`] if signing
    /// fails.
    pub fn sign_access_token(
        &self,
        claims: &AccessClaims,
        alg: Option<SigningAlg>,
    ) -> Result<String, KeyError> {
        self.keys
            .load()
            .require(alg.unwrap_or(self.defaults.access))?
            .sign(TokenType::Access, claims)
    }

    /// Signs an ID token (`typ: JWT`) for `family` issued to its client with `alg` (the
    /// client's `id_token_signed_response_alg`, OIDC Registration §2) else the server default,
    /// living as long as an access token, with the standard claims `scope` allows (OIDC Core
    /// §5.4) and `nonce`.
    ///
    /// # Errors
    /// [`KeyError::Missing`] without a key of the algorithm, [`KeyError::Sign`] if signing
    /// fails.
    pub fn sign_id_token(
        &self,
        family_id: &str,
        family: &Family,
        scope: &str,
        nonce: Option<&str>,
        alg: Option<SigningAlg>,
    ) -> Result<String, KeyError> {
        let now = now();
        let has = |s: &str| scope.split(' ').any(|x| x == s);
        let email = has("email").then(|| family.email.clone()).flatten();
        let claims = IdClaims {
            iss: self.issuer.clone(),
            sub: family.sub.clone(),
            aud: family.client_id.clone(),
            exp: now + self.ttl,
            iat: now,
            auth_time: family.auth_time,
            amr: family.amr.split(' ').map(str::to_owned).collect(),
            acr: Level::of_amr(&family.amr).as_str().to_owned(),
            sid: family_id.to_owned(),
            email_verified: email.as_ref().map(|_| false),
            email,
            preferred_username: has("profile").then(|| family.username.clone()),
            nonce: nonce.map(str::to_owned),
        };
        self.keys
            .load()
            .require(alg.unwrap_or(self.defaults.id))?
            .sign(TokenType::Id, &claims)
    }

    /// Signs a logout token (OIDC Back-Channel Logout 1.0 §2.4) telling `client_id` that
    /// session `sid` of `sub` ended, with `alg` (the client's `id_token_signed_response_alg`:
    /// §2.6 has the RP verify it as an ID token) else the server's ID-token default.
    ///
    /// # Errors
    /// [`KeyError::Missing`] without a key of the algorithm, [`KeyError::Sign`] if signing
    /// fails.
    pub fn sign_logout_token(
        &self,
        client_id: &str,
        sid: &str,
        sub: &str,
        alg: Option<SigningAlg>,
    ) -> Result<String, KeyError> {
        let now = now();
        let claims = LogoutClaims {
            iss: self.issuer.clone(),
            sub: sub.to_owned(),
            aud: client_id.to_owned(),
            iat: now,
            exp: now + LOGOUT_TOKEN_TTL,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            events: serde_json::json!({"http://schemas.openid.net/event/backchannel-logout": {}}),
            sid: sid.to_owned(),
        };
        self.keys
            .load()
            .require(alg.unwrap_or(self.defaults.id))?
            .sign(TokenType::Logout, &claims)
    }

    /// The audience (client id) and subject of one of our ID tokens, used as an
    /// `id_token_hint` (RP-Initiated Logout 1.0 §2): a published `kid` and the algorithm of that
    /// key, `typ: JWT`, our `iss`, not before its `nbf` if it has one (RFC 7519 §4.1.5, with
    /// [`LEEWAY`]); an expired hint is accepted, as the specification allows.
    pub fn id_token_hint(&self, token: &str) -> Option<IdTokenHint> {
        let keys = self.keys.load();
        let (header, key) = our_key(&keys, token)?;
        if header.typ.as_deref() != Some("JWT") {
            return None;
        }
        let mut validation = Validation::new(key.jwt_algorithm());
        validation.set_issuer(&[&self.issuer]);
        validation.validate_aud = false;
        validation.validate_exp = false;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY;
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        jsonwebtoken::decode::<IdTokenHint>(token, key.decoding_key(), &validation)
            .ok()
            .map(|data| data.claims)
    }

    /// Verifies one of our access tokens (RFC 9068 §4): a published `kid`, the algorithm of
    /// that key and no other, `typ: at+jwt`, our `iss`, `aud` present, not expired and not
    /// before its `nbf` (RFC 7519 §4.1.4, §4.1.5, both with [`LEEWAY`]). An ID token
    /// or a refresh token is refused.
    ///
    /// # Errors
    /// [`TokenError::Invalid`] for any failure.
    pub fn verify_access_token(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let keys = self.keys.load();
        let (header, key) = our_key(&keys, token).ok_or(TokenError::Invalid)?;
        if !header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
        {
            return Err(TokenError::Invalid);
        }
        let validation = &self.validation[key.alg.index()];
        jsonwebtoken::decode::<AccessClaims>(token, key.decoding_key(), validation)
            .map(|data| data.claims)
            .map_err(|_| TokenError::Invalid)
    }
}

/// The JOSE header of `token` and our published key its `kid` names, provided the header's
/// `alg` is that key's algorithm: the algorithm comes from our key, never from the token (RFC
/// 8725 §2.1/§3.1 against algorithm confusion).
fn our_key<'k>(keys: &'k KeySet, token: &str) -> Option<(jsonwebtoken::Header, &'k SigningKey)> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let key = keys.by_kid(header.kid.as_deref()?)?;
    (header.alg == key.jwt_algorithm()).then_some((header, key))
}

/// A refresh token: `<family id>.<secret>`, opaque to clients. The family id (128 bits) names
/// the session and its Redis hash slot; the secret carries 256 bits from the OS CSPRNG. Only the
/// SHA-256 of the whole string is stored. `Debug` never shows the value.
pub struct RefreshToken {
    value: String,
    family_len: usize,
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(..)")
    }
}

impl RefreshToken {
    /// A token opening a new family.
    pub fn new_family() -> Self {
        let mut id = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
        Self::in_family(&URL_SAFE_NO_PAD.encode(id))
    }

    /// The next token of `family_id`.
    pub fn in_family(family_id: &str) -> Self {
        Self {
            value: format!("{family_id}.{}", random_token()),
            family_len: family_id.len(),
        }
    }

    /// Parses a presented token; `None` when it cannot be one of ours.
    pub fn parse(presented: &str) -> Option<Self> {
        let (family, secret) = presented.split_once('.')?;
        let b64url = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        (family.len() == 22 && secret.len() == 43 && b64url(family) && b64url(secret)).then(|| {
            Self {
                value: presented.to_owned(),
                family_len: family.len(),
            }
        })
    }

    /// The family (session) id, used as `sid`.
    pub fn family_id(&self) -> &str {
        &self.value[..self.family_len]
    }

    /// The stored form: SHA-256 of the whole token.
    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.value)
    }

    /// The token to hand to the client.
    pub fn expose(&self) -> &str {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_round_trip_and_reject_garbage() {
        let t = RefreshToken::new_family();
        let parsed = RefreshToken::parse(t.expose()).unwrap();
        assert_eq!(parsed.family_id(), t.family_id());
        assert_eq!(parsed.hash(), t.hash());
        let next = RefreshToken::in_family(t.family_id());
        assert_eq!(next.family_id(), t.family_id());
        assert_ne!(next.hash(), t.hash());
        assert!(RefreshToken::parse("nope").is_none());
        assert!(RefreshToken::parse(&format!("{}.x", t.family_id())).is_none());
        assert_eq!(format!("{t:?}"), "RefreshToken(..)");
    }
}
