//! Browser sign-in over HTTP (OIDC Core §3.1, RFC 6749 §4.1, RFC 7636, RP-Initiated Logout):
//! redirect URI rules, PKCE, code reuse and expiry, CSRF, `state`, cookie flags, CORS.

use serde_json::Value;

use crate::helpers::{claims, pkce, unique, Backend, TestApp, AFTER_LOGOUT, ORIGIN, REDIRECT};

#[tokio::test]
async fn code_flow_with_pkce_session_cookie_and_headers() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(false).await;
    let challenge = f.pkce.challenge.clone();

    let login = f.browser.get(&f.url).await;
    assert_eq!(login.status, 200);
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert_eq!(login.headers["referrer-policy"], "no-referrer");
    assert!(login
        .body
        .contains(r#"<label for="username">Username</label>"#));
    let csrf_cookie = login.set_cookie("tessera-csrf");
    assert!(
        csrf_cookie.starts_with("__Host-tessera-csrf="),
        "{csrf_cookie}"
    );
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("Secure"));

    let done = f
        .browser
        .submit_login(&login, &f.username, &f.password)
        .await;
    assert_eq!(done.status, 303);
    assert!(done.headers["location"]
        .to_str()
        .unwrap()
        .starts_with(REDIRECT));
    let query = done.query();
    assert_eq!(query["state"], "st-123");
    assert_eq!(query["iss"], app.issuer());
    // The brief's cookie flags: HttpOnly, Secure, SameSite=Lax, __Host- prefix.
    let session = done.set_cookie("tessera-session");
    assert!(session.starts_with("__Host-tessera-session="), "{session}");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(flag), "{flag} in {session}");
    }

    let res = app
        .exchange(&f.client, &query["code"], &f.pkce.verifier)
        .await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["sub"], f.sub.as_str());
    assert_eq!(id["aud"], f.client.as_str());
    assert!(
        tokens["refresh_token"].is_string(),
        "public clients get rotating refresh tokens"
    );

    // A second authorization skips the password thanks to the session.
    let again = f.browser.get(&f.url).await;
    assert_eq!(again.status, 302);
    assert!(again.query().contains_key("code"));
    // prompt=login forces the password again.
    let forced = f
        .browser
        .get_authorize(&f.client, &challenge, &[("prompt", "login")])
        .await;
    assert_eq!(forced.status, 200);
    assert!(forced.body.contains("name=\"password\""));
    // So does a max_age the session is older than.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let aged = f
        .browser
        .get_authorize(&f.client, &challenge, &[("max_age", "0")])
        .await;
    assert_eq!(aged.status, 200);
}

#[tokio::test]
async fn unknown_clients_and_unregistered_redirects_are_never_redirected() {
    let app = TestApp::spawn().await;
    let client = app.spa_client(false).await;
    let p = pkce();
    let mut browser = app.browser();
    let page = browser
        .get_authorize(&unique("nobody"), &p.challenge, &[])
        .await;
    assert_eq!(page.status, 400);
    assert!(!page.headers.contains_key("location"));
    let url = app
        .authorize_url(&client, &p.challenge, &[])
        .replace("%2Fcallback", "%2Fevil");
    let page = browser.get(&url).await;
    assert_eq!(page.status, 400);
    assert!(!page.headers.contains_key("location"));
}

#[tokio::test]
async fn pkce_is_required_with_s256_and_checked() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(false).await;
    let url = f.url.clone();
    // Missing challenge, and plain: errors go back to the client with state (RFC 6749 §4.1.2.1).
    let no_pkce = url.replace(&format!("code_challenge={}", f.pkce.challenge), "x=1");
    let page = f.browser.get(&no_pkce).await;
    assert_eq!(page.status, 302);
    assert_eq!(page.query()["error"], "invalid_request");
    assert_eq!(page.query()["state"], "st-123");
    let plain = url.replace("method=S256", "method=plain");
    let page = f.browser.get(&plain).await;
    assert_eq!(page.query()["error"], "invalid_request");
    let token_response = url.replace("response_type=code", "response_type=token");
    let page = f.browser.get(&token_response).await;
    assert_eq!(page.query()["error"], "unsupported_response_type");

    let done = f.sign_in().await;
    let code = done.query()["code"].clone();
    // A wrong verifier or redirect URI fails without burning the code.
    let wrong = pkce();
    let res = app.exchange(&f.client, &code, &wrong.verifier).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let other = "http://127.0.0.1:9/other";
    let res = app
        .authorization_code_grant(&f.client, &code, other, &f.pkce.verifier)
        .await;
    assert_eq!(res.status(), 400);
    let res = app.exchange(&f.client, &code, &f.pkce.verifier).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_reused_code_revokes_what_it_issued_and_codes_expire() {
    let app = TestApp::spawn_with(Backend::Redis, |raw| raw.authorization_code_ttl = 1).await;
    let mut f = app.spa_flow(false).await;
    let done = f.sign_in().await;
    let code = done.query()["code"].clone();
    let first: Value = app
        .exchange(&f.client, &code, &f.pkce.verifier)
        .await
        .json()
        .await
        .unwrap();
    let res = app.exchange(&f.client, &code, &f.pkce.verifier).await;
    assert_eq!(res.status(), 400);
    // RFC 6749 §4.1.2: the tokens of the first use are revoked.
    let res = app
        .refresh(&f.client, first["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(res.status(), 400);

    let again = f.browser.get(&f.url).await;
    let code = again.query()["code"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        app.exchange(&f.client, &code, &f.pkce.verifier)
            .await
            .status(),
        400,
        "expired code"
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(false).await;
    let login = f.browser.get(&f.url).await;
    let request_id = login.field("request_id");
    for csrf in ["", "forged"] {
        let page = f
            .browser
            .post_login(&[
                ("request_id", request_id.as_str()),
                ("csrf", csrf),
                ("username", &f.username),
                ("password", &f.password),
            ])
            .await;
        assert_eq!(page.status, 403);
        assert!(!page.headers.contains_key("location"));
    }
    // The right form token without the cookie (another browser) is refused too.
    let mut other = app.browser();
    let page = other.submit_login(&login, &f.username, &f.password).await;
    assert_eq!(page.status, 403);
}

#[tokio::test]
async fn third_party_clients_ask_for_consent() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(true).await;
    let consent = f.sign_in().await;
    assert_eq!(consent.status, 200);
    assert!(
        consent.body.contains("Allow access?")
            && consent
                .body
                .contains(r#"<li data-scope="email">Your email address</li>"#)
    );
    let denied = f.browser.submit_consent(&consent, "deny").await;
    assert_eq!(denied.status, 303);
    assert_eq!(denied.query()["error"], "access_denied");
    assert_eq!(denied.query()["state"], "st-123");

    let consent = f.browser.get(&f.url).await;
    let allowed = f.browser.submit_consent(&consent, "allow").await;
    assert_eq!(allowed.status, 303);
    assert!(allowed.query().contains_key("code"));
    // Remembered for the session.
    let again = f.browser.get(&f.url).await;
    assert_eq!(again.status, 302);
}

#[tokio::test]
async fn rp_initiated_logout_ends_the_session_and_revokes_its_tokens() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(false).await;
    let done = f.sign_in().await;
    let tokens: Value = app
        .exchange(&f.client, &done.query()["code"], &f.pkce.verifier)
        .await
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();

    // An unregistered post-logout URI is not followed.
    let page = f
        .browser
        .get_logout(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "http://127.0.0.1:9/elsewhere"),
        ])
        .await;
    assert_eq!(page.status, 400);
    assert!(!page.headers.contains_key("location"));

    let page = f
        .browser
        .get_logout(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "bye-1"),
        ])
        .await;
    assert_eq!(page.status, 302);
    assert!(page.headers["location"]
        .to_str()
        .unwrap()
        .starts_with(AFTER_LOGOUT));
    assert_eq!(page.query()["state"], "bye-1");
    // The session's refresh family is revoked and the next authorization asks for the password.
    let res = app
        .refresh(&f.client, tokens["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(res.status(), 400);
    let login = f.browser.get(&f.url).await;
    assert_eq!(login.status, 200);
}

#[tokio::test]
async fn cors_answers_registered_origins_only() {
    let app = TestApp::spawn().await;
    let _client = app.spa_client(false).await;
    for path in ["/oauth2/token", "/oauth2/revoke", "/oauth2/userinfo"] {
        let res = app.preflight(ORIGIN, path).await;
        assert_eq!(res.status(), 204, "{path}");
        assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
        assert!(res.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST"));
        let res = app.preflight("http://127.0.0.1:10", path).await;
        assert_eq!(res.status(), 403, "{path}");
        assert!(!res.headers().contains_key("access-control-allow-origin"));
    }
    let form = [("grant_type", "client_credentials")];
    let res = app.post_token_with_origin(ORIGIN, &form).await;
    assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
    let res = app
        .post_token_with_origin("http://127.0.0.1:10", &form)
        .await;
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}
