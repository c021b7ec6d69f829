//! One signing key: RSA (RS256, RFC 7518 §3.3), EC P-256 (ES256, §3.4) or Ed25519 (EdDSA,
//! RFC 8037), parsed once from PKCS#8 into an aws-lc-rs key pair, with its RFC 7638 `kid`, its
//! public JWK and pre-encoded JWS headers (RFC 7515).

use std::path::PathBuf;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Serialize;

use super::jwk::PublicJwk;
use super::KeyError;
use crate::store::SigningAlg;

/// The aws-lc-rs key pair of one key.
enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// One published key.
pub struct SigningKey {
    /// RFC 7638 JWK thumbprint (SHA-256, base64url).
    pub kid: String,
    /// The one algorithm this key signs and verifies with (RFC 8725 §3.1: never the header's).
    pub alg: SigningAlg,
    /// Key size in bits: the RSA modulus, 256 for P-256 and Ed25519.
    pub bits: usize,
    /// Creation time from the file name, unix seconds.
    pub created: u64,
    /// The file it was loaded from.
    pub path: PathBuf,
    public: PublicJwk,
    signer: Signer,
    decoding: DecodingKey,
    /// base64url of the JWS header for access tokens (`typ: at+jwt`), ID tokens (`typ: JWT`)
    /// and logout tokens (`typ: logout+jwt`).
    at_header: String,
    id_header: String,
    logout_header: String,
}

/// The JOSE `typ` of a token we sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    /// RFC 9068 §2.1: `at+jwt`.
    Access,
    /// OIDC Core §2: `JWT`.
    Id,
    /// OIDC Back-Channel Logout 1.0 §2.4: `logout+jwt`.
    Logout,
}

#[derive(Serialize)]
struct JwsHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// The `jsonwebtoken` algorithm of `alg`.
pub fn jwt_algorithm(alg: SigningAlg) -> Algorithm {
    match alg {
        SigningAlg::Rs256 => Algorithm::RS256,
        SigningAlg::Es256 => Algorithm::ES256,
        SigningAlg::EdDsa => Algorithm::EdDSA,
    }
}

impl SigningKey {
    /// Parses a PKCS#8 private key (DER): RSA, EC P-256 or Ed25519 (v1 or v2, RFC 5958).
    pub(super) fn from_pkcs8_der(
        der: &[u8],
        path: PathBuf,
        created: u64,
    ) -> Result<Self, KeyError> {
        let invalid = || KeyError::Invalid { path: path.clone() };
        let (alg, bits, public, signer) = if let Ok(rsa) = RsaPrivateKey::from_pkcs8_der(der) {
            // RFC 7518 §6.3.1: unsigned big-endian, minimal octets.
            let public = PublicJwk::Rsa {
                n: URL_SAFE_NO_PAD.encode(rsa.n().to_bytes_be()),
                e: URL_SAFE_NO_PAD.encode(rsa.e().to_bytes_be()),
            };
            let pair = RsaKeyPair::from_pkcs8(der).map_err(|_| invalid())?;
            (SigningAlg::Rs256, rsa.size() * 8, public, Signer::Rsa(pair))
        } else if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der) {
            // The uncompressed point 0x04 || X || Y, each coordinate exactly 32 octets: the
            // fixed lengths RFC 7518 §6.2.1.2/§6.2.1.3 require.
            let point = pair.public_key().as_ref();
            if point.len() != 65 || point[0] != 4 {
                return Err(invalid());
            }
            let public = PublicJwk::Ec {
                x: URL_SAFE_NO_PAD.encode(&point[1..33]),
                y: URL_SAFE_NO_PAD.encode(&point[33..]),
            };
            (SigningAlg::Es256, 256, public, Signer::Ec(pair))
        } else if let Ok(pair) = Ed25519KeyPair::from_pkcs8(der) {
            // RFC 8037 §2: `x` is the 32-octet public key.
            let public = PublicJwk::Okp {
                x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            };
            (SigningAlg::EdDsa, 256, public, Signer::Ed(pair))
        } else {
            return Err(invalid());
        };
        Self::assemble(alg, bits, public, signer, path, created)
    }

    fn assemble(
        alg: SigningAlg,
        bits: usize,
        public: PublicJwk,
        signer: Signer,
        path: PathBuf,
        created: u64,
    ) -> Result<Self, KeyError> {
        let decoding = match &public {
            PublicJwk::Rsa { n, e } => DecodingKey::from_rsa_components(n, e),
            PublicJwk::Ec { x, y } => DecodingKey::from_ec_components(x, y),
            PublicJwk::Okp { x } => DecodingKey::from_ed_components(x),
        }
        .map_err(|_| KeyError::Invalid { path: path.clone() })?;
        let kid = public.thumbprint();
        let header = |typ| {
            let json = serde_json::to_vec(&JwsHeader {
                alg: alg.as_str(),
                typ,
                kid: &kid,
            })
            .unwrap_or_default();
            URL_SAFE_NO_PAD.encode(json)
        };
        Ok(Self {
            at_header: header("at+jwt"),
            id_header: header("JWT"),
            logout_header: header("logout+jwt"),
            kid,
            alg,
            bits,
            created,
            path,
            public,
            signer,
            decoding,
        })
    }

    /// The public members, as published in the JWKS.
    pub fn public(&self) -> &PublicJwk {
        &self.public
    }

    /// The verification key for `jsonwebtoken::decode`, to be used with [`SigningKey::alg`] only.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The `jsonwebtoken` algorithm this key verifies with.
    pub fn jwt_algorithm(&self) -> Algorithm {
        jwt_algorithm(self.alg)
    }

    /// Signs `claims` as a compact JWS (RFC 7515 §7.1) with this key's algorithm and `kid`.
    ///
    /// # Errors
    /// [`KeyError::Sign`] if serialisation or the signature operation fails.
    pub fn sign<T: Serialize>(&self, typ: TokenType, claims: &T) -> Result<String, KeyError> {
        let header = match typ {
            TokenType::Access => &self.at_header,
            TokenType::Id => &self.id_header,
            TokenType::Logout => &self.logout_header,
        };
        let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Sign)?;
        let sig_len = match &self.signer {
            Signer::Rsa(pair) => pair.public_modulus_len(),
            // RFC 7518 §3.4 (r || s, 2 × 32 octets) and RFC 8032 §5.1.6: 64 octets.
            Signer::Ec(_) | Signer::Ed(_) => 64,
        };
        let mut token = String::with_capacity(
            header.len() + 2 + payload.len() * 4 / 3 + 4 + sig_len * 4 / 3 + 4,
        );
        token.push_str(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        self.append_signature(&mut token)?;
        Ok(token)
    }

    /// Appends `.` and the base64url signature of `token` (the JWS signing input).
    fn append_signature(&self, token: &mut String) -> Result<(), KeyError> {
        match &self.signer {
            Signer::Rsa(pair) => {
                // Up to 4096-bit keys: the signature fits on the stack.
                let mut buf = [0u8; 512];
                let signature = buf
                    .get_mut(..pair.public_modulus_len())
                    .ok_or(KeyError::Sign)?;
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    token.as_bytes(),
                    signature,
                )
                .map_err(|_| KeyError::Sign)?;
                token.push('.');
                URL_SAFE_NO_PAD.encode_string(signature, token);
            }
            Signer::Ec(pair) => {
                // The FIXED signing algorithm gives the JWS form r || s (RFC 7518 §3.4), not DER.
                let signature = pair
                    .sign(&SystemRandom::new(), token.as_bytes())
                    .map_err(|_| KeyError::Sign)?;
                token.push('.');
                URL_SAFE_NO_PAD.encode_string(signature.as_ref(), token);
            }
            Signer::Ed(pair) => {
                let signature = pair.sign(token.as_bytes());
                token.push('.');
                URL_SAFE_NO_PAD.encode_string(signature.as_ref(), token);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8037 Appendix A.1/A.2: the Ed25519 private seed `d` and public key `x`.
    const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    /// RFC 8037 Appendix A.4: the JWS of "Example of Ed25519 signing" with `{"alg":"EdDSA"}`.
    const JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    fn rfc8037_key() -> SigningKey {
        let seed = URL_SAFE_NO_PAD.decode(D).unwrap();
        let public = URL_SAFE_NO_PAD.decode(X).unwrap();
        let pair = Ed25519KeyPair::from_seed_and_public_key(&seed, &public).unwrap();
        SigningKey::assemble(
            SigningAlg::EdDsa,
            256,
            PublicJwk::Okp { x: X.into() },
            Signer::Ed(pair),
            PathBuf::new(),
            0,
        )
        .unwrap()
    }

    #[test]
    fn rfc8037_a4_ed25519_signing() {
        let key = rfc8037_key();
        let (input, _) = JWS.rsplit_once('.').unwrap();
        let mut token = input.to_owned();
        key.append_signature(&mut token).unwrap();
        assert_eq!(
            token, JWS,
            "Ed25519 is deterministic: the exact A.4 signature"
        );
    }

    #[test]
    fn rfc8037_a5_ed25519_verification() {
        let key = rfc8037_key();
        let (input, signature) = JWS.rsplit_once('.').unwrap();
        assert!(jsonwebtoken::crypto::verify(
            signature,
            input.as_bytes(),
            key.decoding_key(),
            key.jwt_algorithm()
        )
        .unwrap());
        let mut forged = input.to_owned();
        forged.push('x');
        assert!(!jsonwebtoken::crypto::verify(
            signature,
            forged.as_bytes(),
            key.decoding_key(),
            key.jwt_algorithm()
        )
        .unwrap_or(false));
    }
}
