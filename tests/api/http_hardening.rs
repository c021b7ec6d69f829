//! HTTP hardening: admin answers are never cached, a second sign-in tab does not break the
//! first, slow request bodies are cut off, connections per client address are bounded.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{header, Backend, TestApp};

#[tokio::test]
async fn admin_api_answers_carry_no_store() {
    let app = TestApp::spawn_with(Backend::Memory, |_| {}).await;
    let (admin, token) = app.admin_token().await;
    let res = app
        .admin_users_create(&token, &json!({"username": "cached"}))
        .await;
    assert_eq!(res.status(), 201);
    let sub = res.json::<Value>().await.unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let gets = [
        "/clients".to_owned(),
        format!("/clients/{admin}"),
        "/clients/no-such-client".to_owned(),
        "/users".to_owned(),
        format!("/users/{sub}"),
        format!("/users/{sub}/sessions"),
    ];
    for path in &gets {
        let res = app.admin(Method::GET, path, Some(&token), None).await;
        assert!(res.status().as_u16() < 500, "{path}: {}", res.status());
        // RFC 9111 §5.2.2.5.
        assert_eq!(
            header(&res, "cache-control"),
            "no-store",
            "GET /admin{path}"
        );
    }
    let res = app.admin(Method::GET, "/clients", None, None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(header(&res, "cache-control"), "no-store", "an error too");
}

#[tokio::test]
async fn a_second_sign_in_tab_does_not_break_the_first() {
    let app = TestApp::spawn_with(Backend::Memory, |_| {}).await;
    let mut flow = app.spa_flow(false).await;
    let other = crate::helpers::pkce();
    let second_url = app.authorize_url(&flow.client, &other.challenge, &[]);
    // One browser (one cookie jar), two tabs: each opened its own sign-in page.
    let first = flow.browser.get(&flow.url).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = flow.browser.get(&second_url).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_ne!(first.field("request_id"), second.field("request_id"));

    // The double submit still holds: a wrong token is refused.
    let forged = flow
        .browser
        .post_login(&[
            ("request_id", &first.field("request_id")),
            ("csrf", "x".repeat(43).as_str()),
            ("username", &flow.username),
            ("password", &flow.password),
        ])
        .await;
    assert!((400..500).contains(&forged.status), "{}", forged.status);

    let done = flow
        .browser
        .submit_login(&first, &flow.username, &flow.password)
        .await;
    assert_eq!(done.status, 303, "the first tab: {}", done.body);
    let code = done.query()["code"].clone();
    let done = flow
        .browser
        .submit_login(&second, &flow.username, &flow.password)
        .await;
    assert_eq!(done.status, 303, "the second tab: {}", done.body);
    assert_ne!(done.query()["code"], code);
}
