//! One RSA signing key: its RFC 7638 `kid`, its public JWK, and RS256 JWS signing
//! (RFC 7515, RFC 7518 §3.3) with a pre-parsed aws-lc-rs key pair and a pre-encoded header.

use std::path::PathBuf;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::KeyError;

/// One published RSA key.
pub struct SigningKey {
    /// RFC 7638 JWK thumbprint (SHA-256, base64url).
    pub kid: String,
    /// Modulus size in bits.
    pub bits: usize,
    /// Creation time from the file name, unix seconds.
    pub created: u64,
    /// The file it was loaded from.
    pub path: PathBuf,
    n: String,
    e: String,
    key_pair: RsaKeyPair,
    decoding: DecodingKey,
    /// base64url of the JWS header for access tokens (`typ: at+jwt`) and ID tokens (`typ: JWT`).
    at_header: String,
    id_header: String,
}

/// The JOSE `typ` of a token we sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    /// RFC 9068 §2.1: `at+jwt`.
    Access,
    /// OIDC Core §2: `JWT`.
    Id,
}

#[derive(Serialize)]
struct Jwk<'a> {
    kty: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    alg: &'static str,
    kid: &'a str,
    n: &'a str,
    e: &'a str,
}

#[derive(Serialize)]
struct JwsHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// RFC 7638 §3.1 thumbprint of an RSA public key given its base64url `e` and `n`: the SHA-256 of
/// the JSON object with the required members in lexicographic order, base64url without padding.
pub fn rsa_thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

impl SigningKey {
    pub(super) fn from_private(
        key: &RsaPrivateKey,
        path: PathBuf,
        created: u64,
    ) -> Result<Self, KeyError> {
        let invalid = || KeyError::Invalid { path: path.clone() };
        // RFC 7518 §6.3.1: unsigned big-endian, minimal octets, base64url without padding.
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let kid = rsa_thumbprint(&n, &e);
        let der = key.to_pkcs8_der().map_err(|_| invalid())?;
        let key_pair = RsaKeyPair::from_pkcs8(der.as_bytes()).map_err(|_| invalid())?;
        let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|_| invalid())?;
        let header = |typ| {
            let json = serde_json::to_vec(&JwsHeader {
                alg: "RS256",
                typ,
                kid: &kid,
            })
            .unwrap_or_default();
            URL_SAFE_NO_PAD.encode(json)
        };
        Ok(Self {
            at_header: header("at+jwt"),
            id_header: header("JWT"),
            bits: key.size() * 8,
            kid,
            created,
            path,
            n,
            e,
            key_pair,
            decoding,
        })
    }

    /// The verification key for `jsonwebtoken::decode`.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Signs `claims` as a compact JWS (RFC 7515 §7.1) with RS256 and this key's `kid`.
    ///
    /// # Errors
    /// [`KeyError::Sign`] if serialisation or the RSA operation fails.
    pub fn sign<T: Serialize>(&self, typ: TokenType, claims: &T) -> Result<String, KeyError> {
        let header = match typ {
            TokenType::Access => &self.at_header,
            TokenType::Id => &self.id_header,
        };
        let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Sign)?;
        let sig_len = self.key_pair.public_modulus_len();
        let mut token = String::with_capacity(
            header.len() + 2 + payload.len() * 4 / 3 + 4 + sig_len * 4 / 3 + 4,
        );
        token.push_str(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let mut signature = vec![0u8; sig_len];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| KeyError::Sign)?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }
}

/// The RFC 7517 JWK Set of `keys`, serialised.
pub(super) fn jwks_document(keys: &[SigningKey]) -> Vec<u8> {
    #[derive(Serialize)]
    struct Jwks<'a> {
        keys: Vec<Jwk<'a>>,
    }
    let doc = Jwks {
        keys: keys
            .iter()
            .map(|k| Jwk {
                kty: "RSA",
                use_: "sig",
                alg: "RS256",
                kid: &k.kid,
                n: &k.n,
                e: &k.e,
            })
            .collect(),
    };
    serde_json::to_vec(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1 example key and its expected thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let e = "AQAB";
        assert_eq!(
            rsa_thumbprint(n, e),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
