//! DPoP proofs (RFC 9449 §4) made the way a client makes them: a P-256 key generated with
//! aws-lc-rs, the proof signed with jsonwebtoken; and the endpoints called with them.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{unique, TestApp};

/// A client's DPoP key pair.
pub struct DpopKey {
    encoding: EncodingKey,
    x: String,
    y: String,
}

impl DpopKey {
    /// A fresh P-256 key.
    pub fn generate() -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref().to_vec(); // 0x04 || x || y
        Self {
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            x: URL_SAFE_NO_PAD.encode(&point[1..33]),
            y: URL_SAFE_NO_PAD.encode(&point[33..65]),
        }
    }

    /// The RFC 7638 thumbprint, computed here independently of the server.
    pub fn jkt(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.x, self.y
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    fn jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: self.x.clone(),
                y: self.y.clone(),
            }),
        }
    }

    /// A proof for `htm` `htu` with `extra` claims (overriding the defaults: a fresh `jti`,
    /// `iat` now).
    pub fn proof(&self, htm: &str, htu: &str, extra: Value) -> String {
        let mut claims = json!({"jti": unique("jti"), "htm": htm, "htu": htu, "iat": super::now()});
        if let (Some(map), Value::Object(extra)) = (claims.as_object_mut(), extra) {
            map.extend(extra);
        }
        self.sign(&claims, "dpop+jwt")
    }

    /// Signs `claims` with this key and `typ`.
    pub fn sign(&self, claims: &Value, typ: &str) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(typ.into());
        header.jwk = Some(self.jwk());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }

    /// A proof whose `jwk` header carries a private member `d`.
    pub fn proof_with_private_jwk(&self, htm: &str, htu: &str) -> String {
        let good = self.proof(htm, htu, json!({}));
        let mut parts = good.split('.');
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap())
                .unwrap();
        let mut header = header;
        header["jwk"]["d"] = json!("AAAA");
        let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        format!(
            "{header}.{}.{}",
            parts.next().unwrap(),
            parts.next().unwrap()
        )
    }

    /// A proof for a protected resource: `ath` of `token`.
    pub fn resource_proof(&self, htm: &str, htu: &str, token: &str) -> String {
        self.proof(htm, htu, json!({ "ath": ath(token) }))
    }
}

/// RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token, computed here
/// independently of the server.
pub fn ath(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A confidential `client_credentials` client (`api:read`).
pub struct Service {
    pub id: String,
    pub secret: String,
}

impl Service {
    /// Its client-credentials token request body.
    pub fn form(&self) -> [(&str, &str); 3] {
        [
            ("grant_type", "client_credentials"),
            ("client_id", &self.id),
            ("client_secret", &self.secret),
        ]
    }
}

impl TestApp {
    /// Registers a [`Service`].
    pub async fn dpop_service(&self) -> Service {
        let secret = super::random_token();
        let id = self.service_client_with(&secret, &["api:read"]).await;
        Service { id, secret }
    }

    /// The discovery document.
    pub async fn metadata(&self) -> Value {
        let res = self.get("/.well-known/openid-configuration").await;
        res.json().await.unwrap()
    }

    /// POSTs `form` to the token endpoint with `DPoP: <proof>` when given.
    pub async fn post_token_dpop(
        &self,
        form: &[(&str, &str)],
        proof: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url("/oauth2/token")).form(form);
        if let Some(proof) = proof {
            req = req.header("DPoP", proof);
        }
        req.send().await.unwrap()
    }

    /// A proof of `key` for the token endpoint.
    pub fn token_proof(&self, key: &DpopKey) -> String {
        key.proof("POST", &self.url("/oauth2/token"), json!({}))
    }

    /// `GET /oauth2/userinfo` with `Authorization: DPoP <token>` and `DPoP: <proof>`.
    pub async fn get_userinfo_dpop(&self, token: &str, proof: Option<&str>) -> reqwest::Response {
        self.dpop_call(reqwest::Method::GET, "/oauth2/userinfo", token, proof, None)
            .await
    }

    /// `<method> <path>` with `Authorization: DPoP <token>` (RFC 9449 §7.1), `DPoP: <proof>`
    /// and a JSON body when given.
    pub async fn dpop_call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        proof: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("authorization", format!("DPoP {token}"));
        if let Some(proof) = proof {
            req = req.header("DPoP", proof);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.unwrap()
    }

    /// `POST /oauth2/par` with `form`.
    pub async fn post_par(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_par_dpop(form, None).await
    }

    /// `POST /oauth2/par` with `form` and `DPoP: <proof>` when given (RFC 9449 §10.1).
    pub async fn post_par_dpop(
        &self,
        form: &[(&str, &str)],
        proof: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url("/oauth2/par")).form(form);
        if let Some(proof) = proof {
            req = req.header("DPoP", proof);
        }
        req.send().await.unwrap()
    }
}
