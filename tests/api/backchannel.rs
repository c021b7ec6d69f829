//! OpenID Connect Back-Channel Logout 1.0: every session end reaches the client's
//! `backchannel_logout_uri` as a logout token (a real receiver in the test process), retries,
//! the drop after the retry window, and delivery by another instance when the one that
//! claimed the notice dies.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    access_token, claims, refresh_token, Answer, Backend, NewClient, Receiver, TestApp,
    AFTER_LOGOUT, ORIGIN, REDIRECT,
};

fn sid_of(tokens: &Value) -> String {
    claims(&access_token(tokens))["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// One user logged in twice at a back-channel client: (client, username, password, sub).
async fn backchannel_user(app: &TestApp, receiver: &Receiver) -> (String, String, String, String) {
    let client = app.backchannel_client(&receiver.uri).await;
    let (username, password, sub) = app.user().await;
    (client, username, password, sub)
}

/// Checks the logout token for `sid` arrived and verifies as §2.6 asks.
async fn assert_notified(app: &TestApp, receiver: &Receiver, client: &str, sid: &str, sub: &str) {
    let token = receiver.wait_for_sid(sid).await;
    let claims = app.verify_logout_token(&token, client).await;
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["sub"], sub);
}

#[tokio::test]
async fn every_session_ending_cause_sends_a_logout_token() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]);
    let (client, username, password, sub) = backchannel_user(&app, &receiver).await;

    // Logout everywhere.
    let login = app.login(&client, &username, &password).await;
    let res = app
        .post_logout_all(Some(&format!("Bearer {}", access_token(&login))))
        .await;
    assert_eq!(res.status(), 204);
    assert_notified(&app, &receiver, &client, &sid_of(&login), &sub).await;

    // Refresh-token reuse (RFC 9700 §4.14.2) revokes the family.
    let login = app.login(&client, &username, &password).await;
    app.refresh_ok(&client, &refresh_token(&login)).await;
    app.assert_refresh_dead(&client, &refresh_token(&login))
        .await;
    assert_notified(&app, &receiver, &client, &sid_of(&login), &sub).await;

    // The account's session list.
    let login = app.login(&client, &username, &password).await;
    let other = app.login(&client, &username, &password).await;
    let res = app
        .delete_account_session(&access_token(&login), &sid_of(&other))
        .await;
    assert_eq!(res.status(), 204);
    assert_notified(&app, &receiver, &client, &sid_of(&other), &sub).await;

    // The admin API's session list.
    let (_, admin) = app.admin_token().await;
    let path = format!("/users/{sub}/sessions/{}", sid_of(&login));
    let res = app.admin(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(res.status(), 204);
    assert_notified(&app, &receiver, &client, &sid_of(&login), &sub).await;

    // A password change.
    let login = app.login(&client, &username, &password).await;
    let password = "a new password, long enough 1".to_owned();
    app.change_password(&username, &password).await;
    assert_notified(&app, &receiver, &client, &sid_of(&login), &sub).await;

    // Disabling the user (through the admin API).
    let login = app.login(&client, &username, &password).await;
    let path = format!("/users/{sub}");
    let body = json!({"disabled": true});
    let res = app
        .admin(Method::PATCH, &path, Some(&admin), Some(&body))
        .await;
    assert_eq!(res.status(), 200);
    assert_notified(&app, &receiver, &client, &sid_of(&login), &sub).await;
}

#[tokio::test]
async fn rp_initiated_logout_sends_a_logout_token() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]);
    let spa = NewClient::public(
        &["authorization_code", "refresh_token"],
        &["openid", "profile", "email"],
    )
    .browser(REDIRECT, ORIGIN, AFTER_LOGOUT)
    .backchannel(&receiver.uri);
    let (client, _) = app.register(spa).await;
    let mut f = app.spa_flow(false).await;
    f.url = app.authorize_url(&client, &f.pkce.challenge, &[]);
    let done = f.sign_in().await;
    let tokens = app.tokens_from(&client, &done, &f.pkce.verifier).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let sid = claims(id_token)["sid"].as_str().unwrap().to_owned();

    let page = f.browser.get_logout(&[("id_token_hint", id_token)]).await;
    assert!(page.status < 400, "{}", page.status);
    assert_notified(&app, &receiver, &client, &sid, &f.sub).await;
}

#[tokio::test]
async fn a_receiver_answering_500_twice_gets_the_notice_on_the_third_try() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[Answer::Status(500), Answer::Status(500)]);
    let (client, username, password, sub) = backchannel_user(&app, &receiver).await;
    let login = app.login(&client, &username, &password).await;
    let res = app
        .post_logout_all(Some(&format!("Bearer {}", access_token(&login))))
        .await;
    assert_eq!(res.status(), 204, "the request does not wait for delivery");

    let tokens = receiver.wait_for(3).await;
    for token in &tokens {
        let claims = app.verify_logout_token(token, &client).await;
        assert_eq!(claims["sid"], sid_of(&login).as_str());
        assert_eq!(claims["sub"], sub.as_str());
    }
    let sent = r#"tessera_backchannel_logout_notices_total{outcome="sent"}"#;
    crate::helpers::eventually(std::time::Duration::from_secs(10), "sent", || async {
        app.metric(sent) == 1.0
    })
    .await;
    let retried = r#"tessera_backchannel_logout_notices_total{outcome="retried"}"#;
    assert_eq!(app.metric(retried), 2.0);
    // Delivered: no fourth attempt follows (the next one would come a few seconds later).
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(receiver.tokens().len(), 3);
}

#[tokio::test]
async fn a_receiver_down_for_the_whole_window_leads_to_the_drop_event() {
    let app = TestApp::spawn_with(Backend::Redis, |raw| {
        raw.backchannel_logout_retry_for = 3;
        raw.backchannel_logout_timeout = 1;
    })
    .await;
    let client = app.backchannel_client(&Receiver::down()).await;
    let (username, password, _) = app.user().await;
    let login = app.login(&client, &username, &password).await;
    let sid = sid_of(&login);
    app.post_logout_all(Some(&format!("Bearer {}", access_token(&login))))
        .await;

    let dropped = r#"tessera_backchannel_logout_notices_total{outcome="dropped"}"#;
    crate::helpers::eventually(std::time::Duration::from_secs(30), "the drop", || async {
        app.metric(dropped) == 1.0
    })
    .await;
    let retried = r#"tessera_backchannel_logout_notices_total{outcome="retried"}"#;
    assert!(app.metric(retried) >= 1.0, "retried before the drop");
    let event = crate::helpers::captured_logs()
        .lines()
        .any(|l| l.contains("backchannel_logout_dropped") && l.contains(&sid));
    assert!(event, "the audit event names the session");
}

#[tokio::test]
async fn a_notice_claimed_by_a_killed_instance_is_delivered_by_another() {
    let first = TestApp::spawn_with(Backend::Redis, |raw| raw.backchannel_logout_timeout = 1).await;
    let receiver = Receiver::start(&[Answer::Hang]);
    let (client, username, password, sub) = backchannel_user(&first, &receiver).await;
    let login = first.login(&client, &username, &password).await;
    first
        .post_logout_all(Some(&format!("Bearer {}", access_token(&login))))
        .await;
    // The first instance has claimed the notice and is sending it when it dies.
    receiver.wait_for(1).await;
    first.kill().await;

    let second = first.sibling().await;
    let tokens = receiver.wait_for(2).await;
    let claims = second.verify_logout_token(&tokens[1], &client).await;
    assert_eq!(claims["sid"], sid_of(&login).as_str());
    assert_eq!(claims["sub"], sub.as_str());
    // The second instance took the abandoned notice over; the dead one never retried it.
    let sent = r#"tessera_backchannel_logout_notices_total{outcome="sent"}"#;
    crate::helpers::eventually(std::time::Duration::from_secs(10), "sent", || async {
        second.metric(sent) == 1.0
    })
    .await;
    let retried = r#"tessera_backchannel_logout_notices_total{outcome="retried"}"#;
    assert_eq!(first.metric(retried) + first.metric(sent), 0.0);
}

#[tokio::test]
async fn the_dev_server_delivers_from_its_in_memory_queue() {
    let app = TestApp::spawn_with(Backend::Memory, |_| {}).await;
    let receiver = Receiver::start(&[Answer::Status(503)]);
    let (client, username, password, sub) = backchannel_user(&app, &receiver).await;
    let login = app.login(&client, &username, &password).await;
    app.post_logout_all(Some(&format!("Bearer {}", access_token(&login))))
        .await;
    let tokens = receiver.wait_for(2).await;
    let claims = app.verify_logout_token(&tokens[1], &client).await;
    assert_eq!(claims["sid"], sid_of(&login).as_str());
    assert_eq!(claims["sub"], sub.as_str());
}

#[tokio::test]
async fn clients_without_a_backchannel_uri_are_told_nothing_and_bad_uris_are_refused() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.admin_token().await;
    for uri in [
        "http://rp.example.test/logout",
        "https://rp.example.test/l#f",
        "/logout",
    ] {
        let body = json!({"client_id": crate::helpers::random_token()[..20], "public": true,
            "grant_types": ["password"], "backchannel_logout_uri": uri});
        let res = app
            .admin(Method::POST, "/clients", Some(&admin), Some(&body))
            .await;
        assert_eq!(res.status(), 400, "{uri}");
        let text = res.text().await.unwrap();
        assert!(text.contains("backchannel_logout_uri"), "{text}");
    }
    let body = json!({"client_id": crate::helpers::random_token()[..20], "public": true,
        "grant_types": ["password"], "backchannel_logout_uri": "https://rp.example.test/bcl",
        "backchannel_logout_session_required": true});
    let res = app
        .admin(Method::POST, "/clients", Some(&admin), Some(&body))
        .await;
    assert_eq!(res.status(), 201);
    let id = body["client_id"].as_str().unwrap();
    let shown = app.admin_client_view(&admin, id).await;
    assert_eq!(
        shown["backchannel_logout_uri"],
        "https://rp.example.test/bcl"
    );
    assert_eq!(shown["backchannel_logout_session_required"], true);

    let metadata: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["backchannel_logout_supported"], true);
    assert_eq!(metadata["backchannel_logout_session_supported"], true);
}
