//! Public JWKs (RFC 7517) of our keys per type, their RFC 7638 thumbprints and the JWK Set.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::SigningKey;

/// The public members of one key, base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicJwk {
    /// RFC 7518 §6.3.1: modulus and exponent, unsigned big-endian, minimal octets.
    Rsa {
        /// Modulus.
        n: String,
        /// Public exponent.
        e: String,
    },
    /// RFC 7518 §6.2.1: P-256 coordinates, each exactly 32 octets (§6.2.1.2/§6.2.1.3: the full
    /// coordinate size even with leading zeros), so 43 base64url characters.
    Ec {
        /// X coordinate.
        x: String,
        /// Y coordinate.
        y: String,
    },
    /// RFC 8037 §2: the 32-octet Ed25519 public key.
    Okp {
        /// The public key.
        x: String,
    },
}

impl PublicJwk {
    /// The RFC 7638 §3.2 thumbprint: SHA-256 of the required members only, in lexicographic
    /// order, without whitespace (RSA: e, kty, n; EC: crv, kty, x, y; OKP per RFC 8037 §2:
    /// crv, kty, x), base64url without padding.
    pub fn thumbprint(&self) -> String {
        let canonical = match self {
            PublicJwk::Rsa { n, e } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            PublicJwk::Ec { x, y } => {
                format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#)
            }
            PublicJwk::Okp { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
        };
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// RFC 7638 §3.1 thumbprint of an RSA public key given its base64url `n` and `e`.
pub fn rsa_thumbprint(n: &str, e: &str) -> String {
    PublicJwk::Rsa {
        n: n.to_owned(),
        e: e.to_owned(),
    }
    .thumbprint()
}

/// One published key as serialised in the JWKS.
#[derive(Serialize)]
struct Jwk<'a> {
    kty: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    alg: &'static str,
    kid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<&'a str>,
}

fn jwk(key: &SigningKey) -> Jwk<'_> {
    let mut jwk = Jwk {
        kty: "RSA",
        use_: "sig",
        alg: key.alg.as_str(),
        kid: &key.kid,
        crv: None,
        n: None,
        e: None,
        x: None,
        y: None,
    };
    match key.public() {
        PublicJwk::Rsa { n, e } => (jwk.n, jwk.e) = (Some(n.as_str()), Some(e.as_str())),
        PublicJwk::Ec { x, y } => {
            (jwk.kty, jwk.crv) = ("EC", Some("P-256"));
            (jwk.x, jwk.y) = (Some(x.as_str()), Some(y.as_str()));
        }
        PublicJwk::Okp { x } => {
            (jwk.kty, jwk.crv, jwk.x) = ("OKP", Some("Ed25519"), Some(x.as_str()));
        }
    }
    jwk
}

/// The RFC 7517 §5 JWK Set of `keys`, serialised.
pub(super) fn jwks_document(keys: &[SigningKey]) -> Vec<u8> {
    #[derive(Serialize)]
    struct Jwks<'a> {
        keys: Vec<Jwk<'a>>,
    }
    let doc = Jwks {
        keys: keys.iter().map(jwk).collect(),
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

    #[test]
    fn rfc8037_a3_okp_thumbprint() {
        // RFC 8037 Appendix A.3: the thumbprint of the A.2 Ed25519 public key.
        let jwk = PublicJwk::Okp {
            x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into(),
        };
        assert_eq!(
            jwk.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn rfc9449_ec_thumbprint() {
        // RFC 9449 (DPoP) §6.1: the P-256 key of the §4.1 proof and its RFC 7638 `jkt`.
        let jwk = PublicJwk::Ec {
            x: "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs".into(),
            y: "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA".into(),
        };
        assert_eq!(
            jwk.thumbprint(),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
    }
}
