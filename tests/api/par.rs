//! Pushed authorization requests (RFC 9126): pushed, checked as `/oauth2/authorize` checks,
//! used once, by their own client only; required server-wide or per client.

use serde_json::Value;

use crate::helpers::{
    expect_error, pkce, Backend, NewClient, TestApp, AFTER_LOGOUT, ORIGIN, REDIRECT,
};

fn pushed_form<'a>(client: &'a str, challenge: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", client),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "st-par"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

async fn push(app: &TestApp, form: &[(&str, &str)]) -> String {
    let res = app.post_par(form).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["expires_in"], 60);
    let uri = body["request_uri"].as_str().unwrap().to_owned();
    assert!(
        uri.starts_with("urn:ietf:params:oauth:request_uri:"),
        "{uri}"
    );
    uri
}

fn authorize_with(app: &TestApp, client: &str, request_uri: &str, extra: &str) -> String {
    let mut url = url::Url::parse(&app.url("/oauth2/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", client)
        .append_pair("request_uri", request_uri);
    format!("{url}{extra}")
}

/// A plain (not pushed) authorization request of `client` ends in `invalid_request`.
async fn assert_plain_request_refused(app: &TestApp, client: &str, challenge: &str) {
    let url = app.authorize_url(client, challenge, &[]);
    let page = app.browser().get(&url).await;
    assert_eq!(page.query()["error"], "invalid_request");
}

#[tokio::test]
async fn a_pushed_request_signs_in_once_and_only_for_its_client() {
    let app = TestApp::spawn().await;
    let mut flow = app.spa_flow(false).await;
    let uri = push(&app, &pushed_form(&flow.client, &flow.pkce.challenge)).await;
    // §4: the URL's other parameters are ignored; the pushed ones rule.
    flow.url = authorize_with(&app, &flow.client, &uri, "&state=tampered");
    let page = flow.sign_in().await;
    let query = page.query();
    assert_eq!(query["state"], "st-par");
    let tokens = app
        .tokens_from(&flow.client, &page, &flow.pkce.verifier)
        .await;
    assert!(tokens["access_token"].is_string());
    // Single use.
    let again = app
        .browser()
        .get(&authorize_with(&app, &flow.client, &uri, ""))
        .await;
    assert_eq!(again.status, 400);
    // Another client's request_uri is refused.
    let other = app.spa_client(false).await;
    let uri = push(&app, &pushed_form(&flow.client, &flow.pkce.challenge)).await;
    let page = app
        .browser()
        .get(&authorize_with(&app, &other, &uri, ""))
        .await;
    assert_eq!(page.status, 400);
    let page = app
        .browser()
        .get(&authorize_with(&app, &other, "urn:x", ""))
        .await;
    assert_eq!(page.status, 400);
}

#[tokio::test]
async fn pushed_requests_are_checked_like_authorization_requests() {
    let app = TestApp::spawn().await;
    let client = app.spa_client(false).await;
    let pkce = pkce();
    let mut form = pushed_form(&client, &pkce.challenge);
    form[2] = ("redirect_uri", "https://evil.example/cb");
    expect_error(app.post_par(&form).await, 400, "invalid_request").await;
    let mut form = pushed_form(&client, &pkce.challenge);
    form.retain(|(k, _)| *k != "code_challenge");
    expect_error(app.post_par(&form).await, 400, "invalid_request").await;
    let mut form = pushed_form(&client, &pkce.challenge);
    form[3] = ("scope", "openid admin");
    expect_error(app.post_par(&form).await, 400, "invalid_scope").await;
    let mut form = pushed_form(&client, &pkce.challenge);
    form.push(("request_uri", "urn:ietf:params:oauth:request_uri:x"));
    expect_error(app.post_par(&form).await, 400, "invalid_request").await;
    let mut form = pushed_form(&client, &pkce.challenge);
    form.push(("dpop_jkt", "short"));
    expect_error(app.post_par(&form).await, 400, "invalid_request").await;
    let form = pushed_form("nobody", &pkce.challenge);
    expect_error(app.post_par(&form).await, 401, "invalid_client").await;
}

#[tokio::test]
async fn clients_required_to_push_get_an_error_for_plain_requests() {
    let app = TestApp::spawn().await;
    let (client, _) = app
        .register(
            NewClient::public(&["authorization_code"], &["openid", "email"])
                .browser(REDIRECT, ORIGIN, AFTER_LOGOUT)
                .require(false, true),
        )
        .await;
    let pkce = pkce();
    assert_plain_request_refused(&app, &client, &pkce.challenge).await;
    // Not yet trusted redirect URI: shown on the page.
    let url = format!(
        "{}/oauth2/authorize?client_id={client}&response_type=code&redirect_uri=https://evil.example/",
        app.base
    );
    assert_eq!(app.browser().get(&url).await.status, 400);
    // Pushed, it works.
    let uri = push(&app, &pushed_form(&client, &pkce.challenge)).await;
    let page = app
        .browser()
        .get(&authorize_with(&app, &client, &uri, ""))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
}

#[tokio::test]
async fn the_server_can_require_pushed_requests_for_every_client() {
    let app = TestApp::spawn_with(Backend::Redis, |raw| {
        raw.require_pushed_authorization_requests = true;
    })
    .await;
    let client = app.spa_client(false).await;
    let pkce = pkce();
    assert_plain_request_refused(&app, &client, &pkce.challenge).await;
    let doc = app.metadata().await;
    assert_eq!(doc["require_pushed_authorization_requests"], true);
}
