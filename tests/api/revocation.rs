//! Revocation (RFC 7009), logout everywhere, password change and disabled users.

use crate::helpers::{
    access_token, assert_bearer_challenge, claims, expect_error, header, refresh_token, unique,
    TestApp,
};

#[tokio::test]
async fn revoking_a_refresh_token_kills_its_family() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let login = app.login(&client, &username, &password).await;
    let rt0 = refresh_token(&login);
    let rt1 = refresh_token(&app.refresh_ok(&client, &rt0).await);
    let sid = claims(&access_token(&login))["sid"]
        .as_str()
        .unwrap()
        .to_owned();

    // Revoke the rotated-away token: the family (with its current token rt1) dies (RFC 7009 §2.1:
    // the server may revoke all tokens of the same grant).
    let res = app
        .post_revoke(&[
            ("token", &rt0),
            ("token_type_hint", "refresh_token"),
            ("client_id", &client),
        ])
        .await;
    // RFC 7009 §2.2: 200, content of the body ignored by the client.
    assert_eq!(res.status(), 200);
    assert!(!header(&res, "x-request-id").is_empty());
    assert!(!app.family_alive(&sid).await);
    app.assert_refresh_dead(&client, &rt1).await;

    // A second family, revoked through its current token without a hint.
    let login = app.login(&client, &username, &password).await;
    let rt = refresh_token(&login);
    let res = app
        .post_revoke(&[("token", &rt), ("client_id", &client)])
        .await;
    assert_eq!(res.status(), 200);
    app.assert_refresh_dead(&client, &rt).await;
}

#[tokio::test]
async fn revoking_an_access_token_ends_its_session() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let login = app.login(&client, &username, &password).await;
    let res = app
        .post_revoke(&[
            ("token", &access_token(&login)),
            ("token_type_hint", "access_token"),
            ("client_id", &client),
        ])
        .await;
    assert_eq!(res.status(), 200);
    app.assert_refresh_dead(&client, &refresh_token(&login))
        .await;
}

#[tokio::test]
async fn unknown_and_already_revoked_tokens_get_200() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let well_formed_unknown = format!("{}.{}", "A".repeat(22), "B".repeat(43));
    // RFC 7009 §2.2: invalid tokens do not cause an error response.
    for token in ["not-a-token", well_formed_unknown.as_str(), "a.b.c"] {
        let res = app
            .post_revoke(&[("token", token), ("client_id", &client)])
            .await;
        assert_eq!(res.status(), 200, "unknown token {token}");
    }
    let rt = refresh_token(&app.login(&client, &username, &password).await);
    for _ in 0..2 {
        let res = app
            .post_revoke(&[("token", &rt), ("client_id", &client)])
            .await;
        assert_eq!(res.status(), 200, "revoked and already revoked");
    }
    app.assert_refresh_dead(&client, &rt).await;
}

#[tokio::test]
async fn revocation_without_a_token_is_invalid_request() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    // RFC 7009 §2.1: `token` is REQUIRED; RFC 6749 §5.2 invalid_request.
    let res = app.post_revoke(&[("client_id", &client)]).await;
    expect_error(res, 400, "invalid_request").await;
    let res = app
        .post_revoke(&[("client_id", &client), ("token", "")])
        .await;
    expect_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn revocation_requires_client_authentication() {
    let app = TestApp::spawn().await;
    // RFC 7009 §2.1: the client authenticates; an unknown client is invalid_client (401).
    let res = app
        .post_revoke(&[("token", "x"), ("client_id", &unique("nobody"))])
        .await;
    expect_error(res, 401, "invalid_client").await;
    let res = app.post_revoke(&[("token", "x")]).await;
    expect_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn revoking_another_clients_token_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.public_client().await;
    let other = app.public_client().await;
    let (username, password, _) = app.user().await;
    let login = app.login(&owner, &username, &password).await;
    let rt = refresh_token(&login);

    // RFC 7009 §2.1: the server verifies the token was issued to the requesting client and
    // refuses otherwise; tessera answers 400 unauthorized_client (src/http/revoke.rs).
    let res = app
        .post_revoke(&[("token", &rt), ("client_id", &other)])
        .await;
    expect_error(res, 400, "unauthorized_client").await;
    let res = app
        .post_revoke(&[("token", &access_token(&login)), ("client_id", &other)])
        .await;
    expect_error(res, 400, "unauthorized_client").await;

    // Nothing was revoked.
    app.refresh_ok(&owner, &rt).await;
}

#[tokio::test]
async fn logout_all_revokes_every_session_of_the_user_only() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (alice, alice_pw, _) = app.user().await;
    let (bob, bob_pw, _) = app.user().await;
    let first = app.login(&client, &alice, &alice_pw).await;
    let second = app.login(&client, &alice, &alice_pw).await;
    let bobs = app.login(&client, &bob, &bob_pw).await;
    assert_ne!(
        claims(&access_token(&first))["sid"],
        claims(&access_token(&second))["sid"],
        "two logins are two sessions"
    );

    let res = app
        .post_logout_all(Some(&format!("Bearer {}", access_token(&second))))
        .await;
    assert_eq!(res.status(), 204);
    assert!(!header(&res, "x-request-id").is_empty());

    app.assert_refresh_dead(&client, &refresh_token(&first))
        .await;
    app.assert_refresh_dead(&client, &refresh_token(&second))
        .await;
    app.refresh_ok(&client, &refresh_token(&bobs)).await;
}

#[tokio::test]
async fn logout_all_needs_a_valid_bearer_token() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let login = app.login(&client, &username, &password).await;
    let at = access_token(&login);

    // RFC 6750 §3: 401 with a Bearer challenge. §3.1: without any credentials the server
    // SHOULD NOT add an error code, so only the scheme is checked here.
    let res = app.post_logout_all(None).await;
    assert_bearer_challenge(&res, 401, None);

    // A tampered signature, a refresh token, garbage, and the wrong scheme: invalid_token.
    let (signed, signature) = at.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{signed}.{flipped}{}", &signature[1..]);
    let refresh = refresh_token(&login);
    for bad in [
        format!("Bearer {tampered}"),
        format!("Bearer {refresh}"),
        "Bearer garbage".to_owned(),
        format!("Bearer {signed}."),
    ] {
        let res = app.post_logout_all(Some(&bad)).await;
        assert_eq!(res.status(), 401, "{bad}");
        // RFC 6750 §3.1: invalid_token for a malformed, expired or invalid token.
        assert_bearer_challenge(&res, 401, Some("invalid_token"));
    }
    // Nothing was revoked by the refused calls.
    app.refresh_ok(&client, &refresh).await;
}

#[tokio::test]
async fn changing_the_password_revokes_sessions_and_the_old_password() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, old_password, sub) = app.user().await;
    let first = app.login(&client, &username, &old_password).await;
    let second = app.login(&client, &username, &old_password).await;

    let new_password = format!("new-{}", uuid::Uuid::new_v4());
    assert_eq!(app.change_password(&username, &new_password).await, sub);

    app.assert_refresh_dead(&client, &refresh_token(&first))
        .await;
    app.assert_refresh_dead(&client, &refresh_token(&second))
        .await;
    let res = app
        .password_grant(&client, &username, &old_password, None)
        .await;
    expect_error(res, 400, "invalid_grant").await;
    let fresh = app.login(&client, &username, &new_password).await;
    assert_eq!(claims(&access_token(&fresh))["sub"], sub.as_str());
}

#[tokio::test]
async fn a_disabled_user_looks_like_a_wrong_password_and_cannot_refresh() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let login = app.login(&client, &username, &password).await;
    let attempt = |password: String| {
        let (app, client, username) = (&app, &client, &username);
        async move { app.password_grant(client, username, &password, None).await }
    };
    let wrong = expect_error(
        attempt("not-the-password".into()).await,
        400,
        "invalid_grant",
    )
    .await;

    app.disable_user(&username).await;

    // The right password of a disabled user is indistinguishable from a wrong one.
    let disabled = expect_error(attempt(password.clone()).await, 400, "invalid_grant").await;
    assert_eq!(disabled, wrong, "byte-identical bodies");
    app.assert_refresh_dead(&client, &refresh_token(&login))
        .await;
}

#[tokio::test]
async fn the_bearer_scheme_name_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    // RFC 9110 §11.1 / RFC 6750 §2.1: the scheme is a case-insensitive token.
    for scheme in ["bearer", "BEARER"] {
        let login = app.login(&client, &username, &password).await;
        let res = app
            .post_logout_all(Some(&format!("{scheme} {}", access_token(&login))))
            .await;
        assert_eq!(res.status(), 204, "scheme `{scheme}`");
        app.assert_refresh_dead(&client, &refresh_token(&login))
            .await;
    }
}
