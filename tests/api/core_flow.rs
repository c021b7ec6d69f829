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

/// The end-to-end flow against the private Redis Cluster: every script and pipeline must stay
/// in one slot (hash tags), or Redis answers CROSSSLOT.
#[tokio::test]
async fn the_whole_flow_works_on_a_redis_cluster() {
    use crate::helpers::Backend;
    let app = TestApp::spawn_with(Backend::Cluster, |raw| {
        raw.login_ip_limit_per_minute = 100;
        raw.trusted_proxies = "127.0.0.1".into();
    })
    .await;
    let client = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let body = app.login(&client, &username, &password).await;
    let claims = verify_with_jwks(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], sub.as_str());
    let first = body["refresh_token"].as_str().unwrap();
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", first),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let refreshed: Value = res.json().await.unwrap();
    // Reuse of the rotated token revokes the family.
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", first),
        ])
        .await;
    assert_eq!(res.status(), 400);
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            (
                "refresh_token",
                refreshed["refresh_token"].as_str().unwrap(),
            ),
        ])
        .await;
    assert_eq!(res.status(), 400);
    // Wrong passwords meet the account limit; logout-everywhere and revocation work.
    for _ in 0..5 {
        assert_eq!(
            app.token(&[
                ("grant_type", "password"),
                ("client_id", &client),
                ("username", &username),
                ("password", "wrong")
            ])
            .await
            .status(),
            400
        );
    }
    assert_eq!(
        app.token(&[
            ("grant_type", "password"),
            ("client_id", &client),
            ("username", &username),
            ("password", &password)
        ])
        .await
        .status(),
        429
    );
    let (other, other_password, _) = app.user().await;
    let session = app.login(&client, &other, &other_password).await;
    let res = app
        .http
        .post(app.url("/account/logout-all"))
        .bearer_auth(session["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", session["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(res.status(), 400);
}
