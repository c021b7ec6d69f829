//! Pushed authorization requests (RFC 9126): pushed, checked as `/oauth2/authorize` checks,
//! used once, by their own client only; required server-wide or per client.

use serde_json::{json, Value};

use crate::helpers::{
    expect_error, pkce, Backend, DpopKey, NewClient, TestApp, AFTER_LOGOUT, ORIGIN, REDIRECT,
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
    push_with(app, form, None).await
}

/// Pushes `form` with `DPoP: <proof>` when given; the `request_uri`.
async fn push_with(app: &TestApp, form: &[(&str, &str)], proof: Option<&str>) -> String {
    let res = app.post_par_dpop(form, proof).await;
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

/// A proof of `key` for the PAR endpoint.
fn par_proof(app: &TestApp, key: &DpopKey) -> String {
    key.proof("POST", &app.url("/oauth2/par"), json!({}))
}

/// RFC 9449 §10.1: a DPoP proof on the pushed request binds the code to its key, as
/// `dpop_jkt` does: the exchange must prove that key.
#[tokio::test]
async fn a_proof_on_the_pushed_request_binds_the_code() {
    let app = TestApp::spawn().await;
    let key = DpopKey::generate();
    let mut flow = app.spa_flow(false).await;
    let (client, challenge) = (flow.client.clone(), flow.pkce.challenge.clone());
    let form = pushed_form(&client, &challenge);
    let uri = push_with(&app, &form, Some(&par_proof(&app, &key))).await;
    flow.url = authorize_with(&app, &flow.client, &uri, "");
    let page = flow.sign_in().await;
    let code = page.query()["code"].clone();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("client_id", flow.client.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", flow.pkce.verifier.as_str()),
    ];
    let other = DpopKey::generate();
    for proof in [None, Some(app.token_proof(&other))] {
        let res = app.post_token_dpop(&exchange, proof.as_deref()).await;
        expect_error(res, 400, "invalid_grant").await;
    }
    let res = app
        .post_token_dpop(&exchange, Some(&app.token_proof(&key)))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    // An invalid proof on the pushed request is refused, and nothing is pushed.
    let stale = key.proof("POST", &app.url("/oauth2/par"), json!({"iat": 1}));
    let res = app.post_par_dpop(&form, Some(&stale)).await;
    expect_error(res, 400, "invalid_dpop_proof").await;
}

/// RFC 9449 §10.1: with both a proof and `dpop_jkt`, they must name the same key.
#[tokio::test]
async fn a_proof_and_dpop_jkt_on_the_pushed_request_must_agree() {
    let app = TestApp::spawn().await;
    let key = DpopKey::generate();
    let client = app.spa_client(false).await;
    let pkce = pkce();
    let other = DpopKey::generate().jkt();
    let mut form = pushed_form(&client, &pkce.challenge);
    form.push(("dpop_jkt", &other));
    let res = app.post_par_dpop(&form, Some(&par_proof(&app, &key))).await;
    expect_error(res, 400, "invalid_dpop_proof").await;
    let jkt = key.jkt();
    let mut form = pushed_form(&client, &pkce.challenge);
    form.push(("dpop_jkt", &jkt));
    push_with(&app, &form, Some(&par_proof(&app, &key))).await;
}
