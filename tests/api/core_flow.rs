//! The newcomer's path: password grant, verify with only the JWKS, refresh, reuse detection.

use serde_json::Value;

use crate::helpers::{access_token, Backend, TestApp};

#[tokio::test]
async fn password_grant_token_verifies_with_jwks_alone() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let body = app.login(&client, &username, &password).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let claims = app
        .verify_with_jwks(body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["client_id"], client.as_str());
    assert_eq!(claims["iss"], app.issuer());
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
    let app = TestApp::spawn_with(Backend::Cluster, |raw| {
        raw.login_ip_limit_per_minute = 100;
        raw.trusted_proxies = "127.0.0.1".into();
    })
    .await;
    let client = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let body = app.login(&client, &username, &password).await;
    let claims = app
        .verify_with_jwks(body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["sub"], sub.as_str());
    let first = body["refresh_token"].as_str().unwrap();
    let res = app.refresh(&client, first, None).await;
    assert_eq!(res.status(), 200);
    let refreshed: Value = res.json().await.unwrap();
    // Reuse of the rotated token revokes the family.
    let res = app.refresh(&client, first, None).await;
    assert_eq!(res.status(), 400);
    let res = app
        .refresh(&client, refreshed["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(res.status(), 400);
    // Wrong passwords meet the account limit; logout-everywhere and revocation work.
    for _ in 0..5 {
        assert_eq!(
            app.password_grant(&client, &username, "wrong", None)
                .await
                .status(),
            400
        );
    }
    assert_eq!(
        app.password_grant(&client, &username, &password, None)
            .await
            .status(),
        429
    );
    let (other, other_password, _) = app.user().await;
    let session = app.login(&client, &other, &other_password).await;
    let res = app
        .post_logout_all(Some(&format!("Bearer {}", access_token(&session))))
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .refresh(&client, session["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(res.status(), 400);
}
