//! Protocol edges that relying-party libraries use: the authorization request as a form post
//! (OIDC Core §3.1.2.1), the UserInfo token in a form body (RFC 6750 §2.2), the bare challenge
//! (RFC 6750 §3.1), request objects (OIDC Core §6), `response_mode`, `prompt=consent` and
//! `select_account`, `HEAD` (RFC 9110 §9.3.2) and the issuer's root.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{expect_error, TestApp, REDIRECT};

#[tokio::test]
async fn authorization_request_as_a_form_post_works_like_get() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(false).await;
    let url = url::Url::parse(&f.url).unwrap();
    let form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let post = app.http.post(app.url("/oauth2/authorize")).form(&form);
    let login = f.browser.send(post).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(login.body.contains("name=\"username\""), "the sign-in form");
    let done = f
        .browser
        .submit_login(&login, &f.username, &f.password)
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.query()["state"], "st-123");
    let tokens = app.tokens_from(&f.client, &done, &f.pkce.verifier).await;
    assert!(tokens["id_token"].is_string());
    // A form post for an unknown client is refused like the same GET (no redirect).
    let res = app
        .http
        .post(app.url("/oauth2/authorize"))
        .form(&[("client_id", "nobody"), ("response_type", "code")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn userinfo_takes_the_token_from_a_form_body_but_not_twice() {
    let app = TestApp::spawn().await;
    let public = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let res = app
        .password_grant(&public, &username, &password, Some("openid"))
        .await;
    let body: Value = res.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    let userinfo = app.url("/oauth2/userinfo");
    let res = app
        .http
        .post(&userinfo)
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["sub"], sub.as_str());
    // RFC 6750 §2: one method per request; both at once is invalid_request (400).
    let res = app
        .http
        .post(&userinfo)
        .bearer_auth(access)
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "invalid_request").await;
    // A bad token in the body is an invalid_token like in the header.
    let res = app
        .http
        .post(&userinfo)
        .form(&[("access_token", "not-a-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));
    // §2.2 is for bodies, not the query of a GET.
    let res = app
        .http
        .get(format!("{userinfo}?access_token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn no_credentials_get_a_bare_bearer_challenge() {
    let app = TestApp::spawn().await;
    for method in [Method::GET, Method::POST] {
        let res = app
            .http
            .request(method.clone(), app.url("/oauth2/userinfo"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{method}");
        // RFC 6750 §3.1: no error code when the request has no authentication at all.
        assert_eq!(
            res.headers()["www-authenticate"],
            "Bearer realm=\"tessera\""
        );
    }
    let res = app.get("/admin/clients").await;
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"tessera\""
    );
    // Another scheme is a credential: the challenge says what is wrong.
    let res = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    let challenge = res.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

#[tokio::test]
async fn request_objects_are_refused_on_the_redirect_and_discovery_says_so() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(false).await;
    let cases = [
        (
            "request",
            "eyJhbGciOiJub25lIn0.e30.",
            "request_not_supported",
        ),
        (
            "request_uri",
            "https://rp.example/request.jwt",
            "request_uri_not_supported",
        ),
        ("response_mode", "fragment", "invalid_request"),
        ("response_mode", "form_post", "invalid_request"),
    ];
    for (name, value, error) in cases {
        let page = f
            .browser
            .get_authorize(&f.client, &f.pkce.challenge, &[(name, value)])
            .await;
        assert_eq!(page.status, 302, "{name}={value}: {}", page.body);
        assert!(page.headers["location"]
            .to_str()
            .unwrap()
            .starts_with(REDIRECT));
        let query = page.query();
        assert_eq!(query["error"], error, "{name}={value}");
        assert_eq!(query["state"], "st-123");
    }
    // response_mode=query is what is done anyway.
    let page = f
        .browser
        .get_authorize(&f.client, &f.pkce.challenge, &[("response_mode", "query")])
        .await;
    assert_eq!(page.status, 200);
    // An unregistered redirect URI is never redirected to, even for these errors.
    let url = f.url.replace("callback", "elsewhere") + "&request_uri=https%3A%2F%2Frp.example%2Fr";
    assert_eq!(f.browser.get(&url).await.status, 400);
    let metadata: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    // OIDC Discovery §3: omitted means true, so both are stated.
    assert_eq!(metadata["request_parameter_supported"], false);
    assert_eq!(metadata["request_uri_parameter_supported"], false);
    assert_eq!(
        metadata["prompt_values_supported"],
        serde_json::json!(["none", "login", "consent", "select_account"])
    );
}

#[tokio::test]
async fn prompt_consent_forces_the_consent_page_and_select_account_the_sign_in() {
    let app = TestApp::spawn().await;
    // A first-party client: no consent page without prompt=consent.
    let mut f = app.spa_flow(false).await;
    let first = f.sign_in().await;
    assert_eq!(first.status, 303);
    let again = f.browser.get(&f.url).await;
    assert_eq!(again.status, 302, "signed in: straight back with a code");
    let page = f
        .browser
        .get_authorize(&f.client, &f.pkce.challenge, &[("prompt", "consent")])
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"decision\""), "{}", page.body);
    let done = f.browser.submit_consent(&page, "allow").await;
    assert_eq!(done.status, 303);
    let tokens = app.tokens_from(&f.client, &done, &f.pkce.verifier).await;
    assert!(tokens["access_token"].is_string());
    // Denying the forced consent is access_denied.
    let page = f
        .browser
        .get_authorize(&f.client, &f.pkce.challenge, &[("prompt", "consent")])
        .await;
    let denied = f.browser.submit_consent(&page, "deny").await;
    assert_eq!(denied.query()["error"], "access_denied");
    // prompt=consent before signing in: the sign-in, then the consent page.
    let mut fresh = app.spa_flow(false).await;
    let url = app.authorize_url(
        &fresh.client,
        &fresh.pkce.challenge,
        &[("prompt", "consent")],
    );
    let after_login = fresh
        .browser
        .sign_in(&url, &fresh.username, &fresh.password)
        .await;
    assert_eq!(after_login.status, 200);
    assert!(after_login.body.contains("name=\"decision\""));
    // select_account: a signed-in browser is shown the sign-in form to choose the account.
    let page = f
        .browser
        .get_authorize(
            &f.client,
            &f.pkce.challenge,
            &[("prompt", "select_account")],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"username\""));
    // prompt=none cannot be combined with consent (OIDC Core §3.1.2.1).
    let page = f
        .browser
        .get_authorize(&f.client, &f.pkce.challenge, &[("prompt", "none consent")])
        .await;
    assert_eq!(page.query()["error"], "invalid_request");
}

#[tokio::test]
async fn head_is_answered_wherever_get_is() {
    let app = TestApp::spawn().await;
    let f = app.spa_flow(false).await;
    let paths = [
        "/".to_owned(),
        "/.well-known/openid-configuration".to_owned(),
        "/.well-known/oauth-authorization-server".to_owned(),
        "/.well-known/jwks.json".to_owned(),
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        "/assets/tessera.css".to_owned(),
        "/device".to_owned(),
        f.url.trim_start_matches(&app.base).to_owned(),
    ];
    for path in &paths {
        let get = app.get(path).await;
        let head = app.http.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "HEAD {path}"
        );
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path}: no body"
        );
    }
}

#[tokio::test]
async fn the_root_points_to_the_discovery_document() {
    let app = TestApp::spawn().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["issuer"], app.issuer());
    let discovery = body["openid_configuration"].as_str().unwrap();
    assert_eq!(
        discovery,
        format!("{}/.well-known/openid-configuration", app.issuer())
    );
    let metadata: Value = app
        .http
        .get(discovery)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["jwks_uri"], body["jwks_uri"]);
}
