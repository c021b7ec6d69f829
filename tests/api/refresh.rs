//! Refresh token grant (RFC 6749 §6): rotation, reuse detection (RFC 9700 §4.14.2), races,
//! scope narrowing and client binding.

use crate::helpers::{access_token, claims, expect_error, refresh_token, Backend, TestApp};

#[tokio::test]
async fn every_refresh_rotates_and_the_old_token_dies() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let login = app.login(&client, &username, &password).await;
    let rt0 = refresh_token(&login);
    let sid = claims(&access_token(&login))["sid"].clone();

    let first = app.refresh_ok(&client, &rt0).await;
    let rt1 = refresh_token(&first);
    assert_ne!(
        rt1, rt0,
        "RFC 9700 §4.14.2: every use rotates the refresh token"
    );
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 900);
    assert_eq!(first["scope"], login["scope"]);
    let refreshed = app.verify_with_jwks(&access_token(&first)).await;
    assert_eq!(refreshed["sub"], sub.as_str());
    assert_eq!(refreshed["client_id"], client.as_str());
    assert_eq!(refreshed["sid"], sid, "the session (family) is kept");
    assert_ne!(access_token(&first), access_token(&login));

    // The new token works, and rotates again.
    let second = app.refresh_ok(&client, &rt1).await;
    let rt2 = refresh_token(&second);
    assert_ne!(rt2, rt1);
    assert_ne!(rt2, rt0);

    // The old one is dead.
    app.assert_refresh_dead(&client, &rt0).await;
}

#[tokio::test]
async fn reuse_of_a_rotated_token_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let login = app.login(&client, &username, &password).await;
    let rt0 = refresh_token(&login);
    let sid = claims(&access_token(&login))["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let rt1 = refresh_token(&app.refresh_ok(&client, &rt0).await);
    assert!(app.family_alive(&sid).await);

    // RFC 9700 §4.14.2: a rotated token presented again means it leaked; the family is revoked.
    app.assert_refresh_dead(&client, &rt0).await;
    assert!(!app.family_alive(&sid).await);
    // ...including its newest token, which the attacker or the victim may hold.
    app.assert_refresh_dead(&client, &rt1).await;
}

#[tokio::test]
async fn fifty_concurrent_refreshes_with_one_token_give_exactly_one_success() {
    refresh_race(Backend::Redis).await;
}

#[tokio::test]
async fn fifty_concurrent_refreshes_on_the_memory_store_give_exactly_one_success() {
    refresh_race(Backend::Memory).await;
}

async fn refresh_race(backend: Backend) {
    let app = TestApp::spawn_with(backend, |_| {}).await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let login = app.login(&client, &username, &password).await;
    let rt0 = refresh_token(&login);

    let answers = app.parallel_refreshes(&client, &rt0, 50).await;
    let mut winners = Vec::new();
    for (status, body) in answers {
        assert!(
            status < 500,
            "never 5xx under a refresh race: {status} {body}"
        );
        match status {
            200 => winners.push(body),
            400 => assert_eq!(body["error"], "invalid_grant", "{body}"),
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one refresh of one token may win");
    // Every loser presented the already rotated token after the winner rotated it: reuse
    // (RFC 9700 §4.14.2), so even the winner's new token is dead.
    app.assert_refresh_dead(&client, &refresh_token(&winners[0]))
        .await;
}

#[tokio::test]
async fn refresh_may_narrow_the_scope_but_not_widen_it() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let login = app
        .password_grant(&client, &username, &password, Some("openid profile email"))
        .await;
    assert_eq!(login.status(), 200);
    let login: serde_json::Value = login.json().await.unwrap();
    assert_eq!(login["scope"], "openid profile email");

    // RFC 6749 §6: the requested scope must not include any scope not originally granted.
    let narrowed = app
        .refresh(&client, &refresh_token(&login), Some("openid"))
        .await;
    assert_eq!(narrowed.status(), 200);
    let narrowed: serde_json::Value = narrowed.json().await.unwrap();
    assert_eq!(narrowed["scope"], "openid");
    assert_eq!(claims(&access_token(&narrowed))["scope"], "openid");
    let rt = refresh_token(&narrowed);

    // offline_access is registered for the client but was not granted: invalid_scope
    // (RFC 6749 §5.2), and the token is left untouched.
    let widened = app
        .refresh(&client, &rt, Some("openid offline_access"))
        .await;
    expect_error(widened, 400, "invalid_scope").await;
    let unknown = app.refresh(&client, &rt, Some("admin")).await;
    expect_error(unknown, 400, "invalid_scope").await;

    // Still alive; RFC 6749 §6: an omitted scope is the scope originally granted.
    let again = app.refresh_ok(&client, &rt).await;
    assert_eq!(again["scope"], "openid profile email");
    assert_eq!(
        claims(&access_token(&again))["scope"],
        "openid profile email"
    );
}

#[tokio::test]
async fn a_refresh_token_is_bound_to_its_client() {
    let app = TestApp::spawn().await;
    let owner = app.public_client().await;
    let other = app.public_client().await;
    let (username, password, _) = app.user().await;
    let login = app.login(&owner, &username, &password).await;
    let rt = refresh_token(&login);

    // RFC 6749 §6 / §10.4: the token must have been issued to the client presenting it.
    let stolen = app.refresh(&other, &rt, None).await;
    expect_error(stolen, 400, "invalid_grant").await;

    // The attempt did not rotate or revoke it: it still works for its own client.
    let own = app.refresh_ok(&owner, &rt).await;
    assert_eq!(claims(&access_token(&own))["client_id"], owner.as_str());
}

#[tokio::test]
async fn garbage_and_unknown_refresh_tokens_are_invalid_grant() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let well_formed_unknown = format!("{}.{}", "A".repeat(22), "B".repeat(43));
    for token in [
        "garbage",
        "a.b",
        "....",
        well_formed_unknown.as_str(),
        "eyJhbGciOiJSUzI1NiJ9.e30.sig",
    ] {
        let res = app.refresh(&client, token, None).await;
        expect_error(res, 400, "invalid_grant").await;
    }
    // RFC 6749 §5.2: a missing required parameter is invalid_request.
    let res = app
        .post_token(&[("grant_type", "refresh_token"), ("client_id", &client)])
        .await;
    expect_error(res, 400, "invalid_request").await;
}
