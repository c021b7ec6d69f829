//! The device authorization grant (RFC 8628): the device authorization endpoint (§3.1–3.2),
//! the verification page through the normal sign-in (§3.3, §5.4), and the polling token
//! request with its answers (§3.4–3.5): pending, slow down, denied, expired, redeemed once.

use serde_json::Value;

use crate::helpers::{
    assert_no_store, captured_logs, claims, expect_error, refresh_token, Backend, TestApp,
    DEVICE_GRANT,
};

/// §6.1: 8 characters of the 20 consonants, shown `XXXX-XXXX`.
fn is_user_code(code: &str) -> bool {
    let alphabet = "BCDFGHJKLMNPQRSTVWXZ";
    code.len() == 9
        && code.char_indices().all(|(i, c)| {
            if i == 4 {
                c == '-'
            } else {
                alphabet.contains(c)
            }
        })
}

#[tokio::test]
async fn the_whole_flow_through_the_hosted_page() {
    let app = TestApp::spawn().await;
    let client = app.device_client().await;
    let (username, password, sub) = app.user().await;

    let res = app
        .post_device_authorization(&[("client_id", &client), ("scope", "openid email")])
        .await;
    assert_eq!(res.status(), 200);
    assert_no_store(&res);
    let start: Value = res.json().await.unwrap();
    let device_code = start["device_code"].as_str().unwrap();
    assert_eq!(device_code.len(), 43, "256 bits, base64url");
    let user_code = start["user_code"].as_str().unwrap();
    assert!(is_user_code(user_code), "{user_code}");
    assert_eq!(start["verification_uri"], app.url("/device"));
    assert_eq!(
        start["verification_uri_complete"],
        app.url(&format!("/device?user_code={user_code}"))
    );
    assert_eq!(start["expires_in"], 600);
    assert_eq!(start["interval"], 5);

    let pending = app.poll_device(&client, device_code).await;
    expect_error(pending, 400, "authorization_pending").await;

    let mut browser = app.browser();
    let form = browser.get_device(None).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains(r#"<label for="user_code">"#));
    assert!(form.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    // Typed in lower case, without the dash: the same code (§6.1).
    let typed = user_code.replace('-', "").to_lowercase();
    let login = browser.enter_user_code(&typed).await;
    assert_eq!(login.status, 200);
    assert!(
        login.body.contains(r#"<label for="username">"#),
        "{}",
        login.body
    );
    let approval = browser.submit_login(&login, &username, &password).await;
    assert_eq!(approval.status, 200, "{}", approval.body);
    for shown in [
        client.as_str(),
        "openid",
        "email",
        user_code,
        "started this yourself",
    ] {
        assert!(
            approval.body.contains(shown),
            "{shown} on {}",
            approval.body
        );
    }
    let done = browser.submit_device_decision(&approval, "approve").await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("Device connected"), "{}", done.body);

    let res = app.poll_device(&client, device_code).await;
    assert_eq!(res.status(), 200);
    assert_no_store(&res);
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["scope"], "openid email");
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], sub.as_str());
    assert_eq!(access["client_id"], client.as_str());
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    assert_eq!(id["aud"], client.as_str());
    // The client has the refresh grant: the session refreshes like any other.
    app.refresh_ok(&client, &refresh_token(&tokens)).await;

    // Redeemed once: the next poll is refused, and the code cannot be entered again.
    let again = app.poll_device(&client, device_code).await;
    expect_error(again, 400, "invalid_grant").await;
    let stale = browser.enter_user_code(user_code).await;
    assert_eq!(stale.status, 400);
    assert!(stale.body.contains(r#"role="alert""#), "{}", stale.body);
    assert!(!captured_logs().contains(device_code), "device code logged");
}

#[tokio::test]
async fn a_signed_in_browser_goes_straight_to_approval_from_the_complete_uri() {
    let app = TestApp::spawn().await;
    let client = app.device_client().await;
    let (username, password, _) = app.user().await;
    let mut browser = app.browser();
    let first = app.start_device(&client).await;
    let code = first["user_code"].as_str().unwrap();
    browser
        .answer_device(code, &username, &password, "approve")
        .await;

    let second = app.start_device(&client).await;
    let complete = second["verification_uri_complete"].as_str().unwrap();
    let approval = browser.get(complete).await;
    assert_eq!(approval.status, 200);
    assert!(
        approval.body.contains("Allow this device?"),
        "{}",
        approval.body
    );
    browser.submit_device_decision(&approval, "approve").await;
    let res = app
        .poll_device(&client, second["device_code"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_slow_down() {
    let app = TestApp::spawn().await;
    let client = app.device_client().await;
    let start = app.start_device(&client).await;
    let device_code = start["device_code"].as_str().unwrap();
    let first = app.poll_device(&client, device_code).await;
    expect_error(first, 400, "authorization_pending").await;
    // §3.5: sooner than `interval` after the previous poll; the interval grows, so the next
    // immediate poll is too early as well.
    for _ in 0..2 {
        let fast = app.poll_device(&client, device_code).await;
        expect_error(fast, 400, "slow_down").await;
    }
}

#[tokio::test]
async fn a_denied_device_gets_access_denied() {
    let app = TestApp::spawn().await;
    let client = app.device_client().await;
    let (username, password, _) = app.user().await;
    let start = app.start_device(&client).await;
    let mut browser = app.browser();
    let code = start["user_code"].as_str().unwrap();
    let done = browser
        .answer_device(code, &username, &password, "deny")
        .await;
    assert!(done.body.contains("Device denied"), "{}", done.body);
    let device_code = start["device_code"].as_str().unwrap();
    let res = app.poll_device(&client, device_code).await;
    expect_error(res, 400, "access_denied").await;
}

#[tokio::test]
async fn expired_codes_are_refused_on_the_page_and_at_the_token_endpoint() {
    let app = TestApp::spawn_with(Backend::Redis, |raw| raw.device_code_ttl = 1).await;
    let client = app.device_client().await;
    let start = app.start_device(&client).await;
    assert_eq!(start["expires_in"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = app
        .poll_device(&client, start["device_code"].as_str().unwrap())
        .await;
    expect_error(res, 400, "expired_token").await;
    let page = app
        .browser()
        .enter_user_code(start["user_code"].as_str().unwrap())
        .await;
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("not valid or has expired"),
        "{}",
        page.body
    );
}

/// Approved once, polled by 50 requests at once: exactly one gets the tokens (§3.4, atomic in
/// the store like refresh rotation).
async fn single_redemption_under_concurrent_polls(backend: Backend) {
    let app = TestApp::spawn_with(backend, |_| {}).await;
    let client = app.device_client().await;
    let (username, password, _) = app.user().await;
    let start = app.start_device(&client).await;
    let code = start["user_code"].as_str().unwrap();
    app.browser()
        .answer_device(code, &username, &password, "approve")
        .await;
    let device_code = start["device_code"].as_str().unwrap();
    let polls = (0..50).map(|_| app.poll_device(&client, device_code));
    let answers = futures_util::future::join_all(polls).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses[0], 200);
    assert!(statuses[1..].iter().all(|s| *s == 400), "{statuses:?}");
    for res in answers.into_iter().filter(|r| r.status() == 400) {
        expect_error(res, 400, "invalid_grant").await;
    }
}

#[tokio::test]
async fn a_device_code_is_redeemed_once_under_50_concurrent_polls() {
    single_redemption_under_concurrent_polls(Backend::Redis).await;
}

#[tokio::test]
async fn a_device_code_is_redeemed_once_on_a_cluster_and_in_memory() {
    single_redemption_under_concurrent_polls(Backend::Cluster).await;
    single_redemption_under_concurrent_polls(Backend::Memory).await;
}

#[tokio::test]
async fn code_entries_count_in_the_per_ip_limit() {
    let app = TestApp::spawn_with(Backend::Redis, |raw| {
        raw.login_ip_limit_per_minute = 3;
        raw.trusted_proxies = "127.0.0.1".into();
    })
    .await;
    let client = app.device_client().await;
    let start = app.start_device(&client).await;
    let ip = format!("198.51.100.{}", rand_octet());
    let mut browser = app.browser();
    for wrong in ["BCDF-GHJK", "nonsense", ""] {
        let page = browser.enter_user_code_from(&ip, wrong).await;
        assert_eq!(page.status, 400, "{wrong}: {}", page.body);
    }
    // Over the limit even the right code is refused (§5.1), with the page's message.
    let right = start["user_code"].as_str().unwrap();
    let page = browser.enter_user_code_from(&ip, right).await;
    assert_eq!(page.status, 429);
    assert!(page.body.contains("Too many attempts"), "{}", page.body);
    // Another address is not affected.
    let other = format!("203.0.113.{}", rand_octet());
    let login = browser.enter_user_code_from(&other, right).await;
    assert_eq!(login.status, 200, "{}", login.body);
}

fn rand_octet() -> u8 {
    (uuid::Uuid::new_v4().as_u128() % 250) as u8 + 1
}

#[tokio::test]
async fn device_codes_are_bound_to_their_client_and_grant() {
    let app = TestApp::spawn().await;
    let client = app.device_client().await;
    let other = app.device_client().await;
    let start = app.start_device(&client).await;
    let device_code = start["device_code"].as_str().unwrap();

    // Another client's poll is refused and changes nothing: the owner's first poll is pending,
    // not slow_down.
    let stolen = app.poll_device(&other, device_code).await;
    expect_error(stolen, 400, "invalid_grant").await;
    let owner = app.poll_device(&client, device_code).await;
    expect_error(owner, 400, "authorization_pending").await;

    let unknown = app.poll_device(&client, "not-a-device-code").await;
    expect_error(unknown, 400, "invalid_grant").await;
    let missing = app
        .post_token(&[("grant_type", DEVICE_GRANT), ("client_id", &client)])
        .await;
    expect_error(missing, 400, "invalid_request").await;

    // A client without the grant can neither start nor poll.
    let password_client = app.public_client().await;
    let res = app
        .post_device_authorization(&[("client_id", &password_client)])
        .await;
    expect_error(res, 400, "unauthorized_client").await;
    let res = app.poll_device(&password_client, device_code).await;
    expect_error(res, 400, "unauthorized_client").await;
    let res = app
        .post_device_authorization(&[("client_id", &client), ("scope", "admin")])
        .await;
    expect_error(res, 400, "invalid_scope").await;
    let res = app
        .post_device_authorization(&[("client_id", "no-such-client")])
        .await;
    expect_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn the_approval_form_needs_its_csrf_token() {
    let app = TestApp::spawn().await;
    let client = app.device_client().await;
    let (username, password, _) = app.user().await;
    let start = app.start_device(&client).await;
    let mut browser = app.browser();
    let login = browser
        .enter_user_code(start["user_code"].as_str().unwrap())
        .await;
    let approval = browser.submit_login(&login, &username, &password).await;
    let forged = browser
        .post_device_decision(&approval.field("request_id"), "forged", "approve")
        .await;
    assert_eq!(forged.status, 403);
    let mut stranger = app.browser();
    let csrf = approval.field("csrf");
    let no_session = stranger
        .post_device_decision(&approval.field("request_id"), &csrf, "approve")
        .await;
    assert_eq!(no_session.status, 403, "no CSRF cookie either");
    let res = app
        .poll_device(&client, start["device_code"].as_str().unwrap())
        .await;
    expect_error(res, 400, "authorization_pending").await;
}

#[tokio::test]
async fn discovery_advertises_the_endpoint_and_the_grant() {
    let app = TestApp::spawn_with(Backend::Memory, |_| {}).await;
    let res = app.get("/.well-known/oauth-authorization-server").await;
    let doc: Value = res.json().await.unwrap();
    assert_eq!(
        doc["device_authorization_endpoint"],
        app.url("/oauth2/device_authorization")
    );
    let grants = doc["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == DEVICE_GRANT), "{grants:?}");
}
