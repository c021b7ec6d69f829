//! Step-up authentication (`acr_values`, OIDC Core §3.1.2.1; `acr`/`amr` in access tokens,
//! RFC 9068 §2.2.1), `prompt=none` errors (OIDC Core §3.1.2.6) and the logout confirmation
//! (RP-Initiated Logout 1.0 §2).

use serde_json::Value;

use crate::helpers::{claims, pyotp, TestApp, AFTER_LOGOUT};

const TWO_FACTOR: &str = "urn:tessera:acr:2fa";
const SINGLE_FACTOR: &str = "urn:tessera:acr:1fa";

/// Enrolls TOTP for `username` through the account API; returns the secret and the
/// enrollment's time.
async fn enroll(app: &TestApp, username: &str, password: &str) -> (String, u64) {
    let client = app.public_client().await;
    let access = app.bearer_login(&client, username, password).await;
    let totp = app.enroll_totp(&access).await;
    (totp.secret, totp.t0)
}

#[tokio::test]
async fn step_up_turns_a_password_session_into_a_two_factor_one() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(false).await;
    let done = f.sign_in().await;
    let tokens = app.tokens_from(&f.client, &done, &f.pkce.verifier).await;
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["acr"], SINGLE_FACTOR);
    assert_eq!(access["amr"], serde_json::json!(["pwd"]));
    assert!(access["auth_time"].is_u64());
    // Refreshed tokens carry the family's authentication.
    let first = app
        .refresh_ok(&f.client, tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(
        claims(first["access_token"].as_str().unwrap())["acr"],
        SINGLE_FACTOR
    );

    let (secret, t0) = enroll(&app, &f.username, &f.password).await;
    // Without acr_values the password session is reused.
    assert_eq!(f.browser.get(&f.url).await.status, 302);
    let url = app.authorize_url(&f.client, &f.pkce.challenge, &[("acr_values", TWO_FACTOR)]);
    // prompt=none cannot ask for the factor: interaction_required to the redirect URI.
    let silent = app.authorize_url(
        &f.client,
        &f.pkce.challenge,
        &[("acr_values", TWO_FACTOR), ("prompt", "none")],
    );
    let page = f.browser.get(&silent).await;
    assert_eq!(page.status, 302);
    assert_eq!(page.query()["error"], "interaction_required");
    // The session is password-only: only the second factor is asked for.
    let page = f.browser.get(&url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"otp\""), "the second-factor step");
    assert!(
        !page.body.contains("name=\"password\""),
        "not the password again"
    );
    let done = f
        .browser
        .submit_second_factor(&page, &pyotp(&secret, t0 + 30))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        !done.set_cookies.iter().any(|c| c.contains("session")),
        "the login session is upgraded in place"
    );
    let tokens = app.tokens_from(&f.client, &done, &f.pkce.verifier).await;
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["acr"], TWO_FACTOR);
    assert_eq!(access["amr"], serde_json::json!(["pwd", "otp"]));
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap())["acr"],
        TWO_FACTOR
    );
    let refreshed = app
        .refresh_ok(&f.client, tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(
        claims(refreshed["access_token"].as_str().unwrap())["acr"],
        TWO_FACTOR
    );
    // The two-factor session now satisfies the request silently.
    let page = f.browser.get(&silent).await;
    assert_eq!(page.status, 302);
    assert!(page.query().contains_key("code"), "{:?}", page.query());
    // Logging out of the upgraded session ends what it opened before and after the step-up.
    let hint = tokens["id_token"].as_str().unwrap();
    assert_eq!(
        f.browser
            .get_logout(&[("id_token_hint", hint)])
            .await
            .status,
        200
    );
    for refresh in [&first, &refreshed] {
        let token = refresh["refresh_token"].as_str().unwrap();
        app.assert_refresh_dead(&f.client, token).await;
    }
}

#[tokio::test]
async fn prompt_none_answers_errors_to_the_redirect_uri() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(true).await;
    let silent = app.authorize_url(&f.client, &f.pkce.challenge, &[("prompt", "none")]);
    let page = f.browser.get(&silent).await;
    assert_eq!(page.status, 302);
    assert_eq!(page.query()["error"], "login_required");
    assert_eq!(page.query()["state"], "st-123");
    let both = app.authorize_url(&f.client, &f.pkce.challenge, &[("prompt", "none login")]);
    assert_eq!(
        f.browser.get(&both).await.query()["error"],
        "invalid_request"
    );

    // Signed in, but the third-party client has no consent yet.
    let consent = f.sign_in().await;
    assert_eq!(consent.status, 200);
    let page = f.browser.get(&silent).await;
    assert_eq!(page.status, 302, "never a page");
    assert_eq!(page.query()["error"], "consent_required");
    let allowed = f.browser.submit_consent(&consent, "allow").await;
    assert_eq!(allowed.status, 303);
    assert!(f.browser.get(&silent).await.query().contains_key("code"));

    // A session older than max_age cannot be renewed silently.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let stale = app.authorize_url(
        &f.client,
        &f.pkce.challenge,
        &[("prompt", "none"), ("max_age", "0")],
    );
    assert_eq!(
        f.browser.get(&stale).await.query()["error"],
        "login_required"
    );
}

#[tokio::test]
async fn logout_without_a_hint_for_the_session_asks_first() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(false).await;
    let done = f.sign_in().await;
    let tokens = app.tokens_from(&f.client, &done, &f.pkce.verifier).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let params = [
        ("client_id", f.client.as_str()),
        ("post_logout_redirect_uri", AFTER_LOGOUT),
        ("state", "bye-2"),
    ];
    // A cross-site link: a confirmation page, the session untouched.
    let page = f.browser.get_logout(&params).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Sign out?"));
    assert!(page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("http://127.0.0.1:9"));
    let token = page.field("confirm");
    assert_eq!(page.field("post_logout_redirect_uri"), AFTER_LOGOUT);
    // Another user's ID token is no hint for this session.
    let mut other = app.spa_flow(false).await;
    other.client = f.client.clone();
    other.url = f.url.clone();
    let code = other.sign_in().await.query()["code"].clone();
    let theirs: Value = app
        .exchange(&f.client, &code, &f.pkce.verifier)
        .await
        .json()
        .await
        .unwrap();
    let hint = theirs["id_token"].as_str().unwrap();
    let page = f.browser.get_logout(&[("id_token_hint", hint)]).await;
    assert_eq!(page.status, 200, "confirmation again");
    // A forged confirmation is not accepted either.
    let mut forged = params.to_vec();
    forged.push(("confirm", "forged"));
    assert_eq!(f.browser.post_logout(&forged).await.status, 200);
    let refreshed = app.refresh_ok(&f.client, &refresh).await;

    let mut confirmed = params.to_vec();
    confirmed.push(("confirm", &token));
    let page = f.browser.post_logout(&confirmed).await;
    assert_eq!(page.status, 303);
    assert!(page.headers["location"]
        .to_str()
        .unwrap()
        .starts_with(AFTER_LOGOUT));
    assert_eq!(page.query()["state"], "bye-2");
    app.assert_refresh_dead(&f.client, refreshed["refresh_token"].as_str().unwrap())
        .await;
    // Signed out: no session, so a logout link has nothing to confirm.
    let page = f.browser.get_logout(&[]).await;
    assert!(page.body.contains("You are signed out."));
}
