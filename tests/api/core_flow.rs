//! The newcomer's path: password grant, verify with only the JWKS, refresh, reuse detection.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::helpers::TestApp;

/// Verifies an access token the way a backend would: fetch the JWKS, pick the key by `kid`.
pub async fn verify_with_jwks(app: &TestApp, token: &str) -> Value {
    let jwks: JwkSet = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid in JWKS");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&app.settings.issuer]);
    validation.set_audience(&[&app.settings.audience]);
    decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn password_grant_token_verifies_with_jwks_alone() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let body = app.login(&client, &username, &password).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let claims = verify_with_jwks(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["client_id"], client.as_str());
    assert_eq!(claims["iss"], app.settings.issuer.as_str());
    for claim in ["exp", "iat", "nbf", "auth_time"] {
        assert!(claims[claim].is_u64(), "{claim} must be integer seconds");
    }
    assert!(claims["jti"].is_string());
    assert!(claims["sid"].is_string());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
}
