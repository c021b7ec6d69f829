//! The hosted account page: its sign-in through tessera's own client, the same page headers
//! as the login pages, CSRF, and its passkey, TOTP and password forms.

use crate::helpers::{now, pyotp, test_redis, wrong_code, Authenticator, TestApp};

/// The TOTP key the account page shows as text (`#totp-secret`).
fn totp_secret(body: &str) -> String {
    let after = body
        .split("id=\"totp-secret\">")
        .nth(1)
        .expect("no TOTP key on the page");
    after.split('<').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_account_page_signs_in_through_the_normal_flow_and_manages_factors() {
    let app = TestApp::spawn_passkeys().await;
    let (username, password, sub) = app.user().await;
    let mut browser = app.browser();
    let page = browser.account_sign_in(&username, &password).await;
    assert!(page.body.contains(&username));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.headers["cache-control"], "no-store");
    let csrf = page.field("csrf");

    // A forged form changes nothing.
    let forged = browser
        .send(
            app.http
                .post(format!("{}/account/totp/start", app.base))
                .form(&[("csrf", "x")]),
        )
        .await;
    assert_eq!(forged.status, 403);

    // Add a passkey the way the page's script does.
    let options = browser
        .send(
            app.http
                .post(format!("{}/account/passkey/options", app.base))
                .form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(options.status, 200, "{}", options.body);
    let mut key = Authenticator::default();
    let credential = key.create(app.issuer(), serde_json::from_str(&options.body).unwrap());
    let form = [
        ("csrf", csrf.clone()),
        ("name", "Desk key".into()),
        ("credential", credential.to_string()),
    ];
    let added = browser
        .send(
            app.http
                .post(format!("{}/account/passkey/add", app.base))
                .form(&form),
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let page = browser.follow(&added).await;
    assert!(page.body.contains("The passkey was added.") && page.body.contains("Desk key"));

    // TOTP: the QR image and the key as text.
    let started = browser
        .send(
            app.http
                .post(format!("{}/account/totp/start", app.base))
                .form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(started.status, 200);
    assert!(started.body.contains("data:image/png;base64,"));
    let secret = totp_secret(&started.body);
    // A wrong code keeps the same pending key on the page (no new scan: WCAG 2.2 SC 3.3.7),
    // with the error tied to the code field (SC 3.3.1).
    let wrong_code = wrong_code(&secret, now());
    let mistyped = browser
        .send(
            app.http
                .post(format!("{}/account/totp/confirm", app.base))
                .form(&[("csrf", csrf.as_str()), ("code", wrong_code.as_str())]),
        )
        .await;
    assert_eq!(mistyped.status, 400);
    assert!(mistyped
        .body
        .contains("Enter the current code from your authenticator app."));
    assert!(mistyped
        .body
        .contains(&format!("id=\"totp-secret\">{secret}<")));
    let field = mistyped.input("totp-code");
    assert!(
        field.contains("aria-invalid=\"true\" aria-describedby=\"error\""),
        "{field}"
    );
    let code = pyotp(&secret, now());
    let confirmed = browser
        .send(
            app.http
                .post(format!("{}/account/totp/confirm", app.base))
                .form(&[("csrf", &csrf), ("code", &code)]),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert!(confirmed.body.contains("id=\"recovery-codes\""));
    assert!(confirmed
        .body
        .contains("id=\"recovery-left\" data-count=\"10\""));

    // Password: the current one is required; afterwards this session stays.
    let wrong = browser
        .send(
            app.http
                .post(format!("{}/account/password", app.base))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("current_password", "nope"),
                    ("new_password", "a new password"),
                ]),
        )
        .await;
    assert_eq!(wrong.status, 400);
    let field = wrong.input("current-password");
    assert!(field.contains("aria-describedby=\"error\""), "{field}");
    assert!(!wrong.input("new-password").contains("aria-invalid"));
    let changed = browser
        .send(
            app.http
                .post(format!("{}/account/password", app.base))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("current_password", password.as_str()),
                    ("new_password", "a new password"),
                ]),
        )
        .await;
    assert_eq!(changed.status, 303);
    let page = browser.follow(&changed).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Your password was changed"));
    let logs = crate::helpers::captured_logs();
    assert!(logs.contains("\"event\":\"passkey_registered\"") && logs.contains(&sub));

    // Sign out: the page asks to sign in again.
    let out = browser
        .send(
            app.http
                .post(format!("{}/account/sign-out", app.base))
                .form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(out.status, 200);
    assert_eq!(
        browser.get(&format!("{}/account", app.base)).await.status,
        302
    );
}

#[tokio::test]
async fn a_callback_without_the_flow_is_refused() {
    let app = TestApp::spawn().await;
    let mut browser = app.browser();
    let page = browser
        .get(&format!("{}/account/callback?code=x&state=y", app.base))
        .await;
    assert_eq!(page.status, 400);
}

#[tokio::test]
async fn the_account_page_lists_sessions_and_ends_one_or_all() {
    let app = TestApp::spawn_passkeys().await;
    let (username, password, _) = app.user().await;
    let client = app.public_client().await;
    let first = app.login(&client, &username, &password).await;
    let second = app.login(&client, &username, &password).await;
    let refresh = |v: &serde_json::Value| v["refresh_token"].as_str().unwrap().to_owned();
    let sid = |v: &serde_json::Value| {
        crate::helpers::claims(&crate::helpers::access_token(v))["sid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut browser = app.browser();
    let page = browser.account_sign_in(&username, &password).await;
    let csrf = page.field("csrf");
    // Both sessions are listed, each with its own sign-out form.
    for tokens in [&first, &second] {
        assert!(
            page.body
                .contains(&format!("name=\"sid\" value=\"{}\"", sid(tokens))),
            "{}",
            page.body
        );
    }
    assert!(page.body.contains(&client) && page.body.contains("signed in with pwd"));

    // An unknown sid changes nothing.
    let unknown = browser
        .send(
            app.http
                .post(format!("{}/account/session/end", app.base))
                .form(&[("csrf", csrf.as_str()), ("sid", "not-a-session")]),
        )
        .await;
    assert_eq!(unknown.status, 303);
    let page = browser.follow(&unknown).await;
    assert!(page.body.contains("That session had already ended."));

    // Ending the second session revokes its refresh token; the first lives on.
    let ended = browser
        .send(
            app.http
                .post(format!("{}/account/session/end", app.base))
                .form(&[("csrf", csrf.clone()), ("sid", sid(&second))]),
        )
        .await;
    assert_eq!(ended.status, 303, "{}", ended.body);
    let page = browser.follow(&ended).await;
    assert!(page.body.contains("The session was signed out."));
    assert!(!page.body.contains(&sid(&second)));
    app.assert_refresh_dead(&client, &refresh(&second)).await;
    let rotated = app.refresh_ok(&client, &refresh(&first)).await;

    // Sign out everywhere: every session, and this browser.
    let out = browser
        .send(
            app.http
                .post(format!("{}/account/sign-out-everywhere", app.base))
                .form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(out.status, 200);
    app.assert_refresh_dead(&client, &refresh(&rotated)).await;
    assert_eq!(
        browser.get(&format!("{}/account", app.base)).await.status,
        302
    );
}

#[tokio::test]
async fn the_account_pages_password_change_checks_the_current_password_under_the_login_limits() {
    let app = TestApp::spawn_with(crate::helpers::Backend::Redis, |raw| {
        raw.trusted_proxies = "127.0.0.1/32".into();
        raw.login_account_failure_limit = 2;
        raw.login_backoff_base_ms = 600_000;
        raw.login_backoff_max = 900;
    })
    .await;
    let (username, password, _) = app.user().await;
    let mut browser = app.browser();
    let page = browser.account_sign_in(&username, &password).await;
    let csrf = page.field("csrf");
    let change = |current: &str| {
        let form = [
            ("csrf", csrf.clone()),
            ("current_password", current.to_owned()),
            ("new_password", "a new password".to_owned()),
        ];
        app.http
            .post(format!("{}/account/password", app.base))
            .form(&form)
    };
    for _ in 0..2 {
        let wrong = browser.send(change("nope")).await;
        assert_eq!(wrong.status, 400);
    }
    // The account is in its back-off for this address: even the right password is refused
    // before hashing, and nothing changes.
    let refused = browser.send(change(&password)).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("Too many attempts"),
        "{}",
        refused.body
    );
    // From an address without failures the old password still signs in: nothing changed.
    let client = app.public_client().await;
    let other = crate::helpers::fresh_ip();
    let res = app
        .password_grant_from(&client, &username, &password, Some(&other))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_store_failure_while_confirming_totp_answers_503_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (username, password, sub) = app.user().await;
    let mut browser = app.browser();
    let page = browser.account_sign_in(&username, &password).await;
    let csrf = page.field("csrf");
    let post = |path: &str, form: &[(&str, &str)]| app.http.post(app.url(path)).form(form);
    let started = browser
        .send(post("/account/totp/start", &[("csrf", &csrf)]))
        .await;
    assert_eq!(started.status, 200);
    let secret = totp_secret(&started.body);
    // This user's last-step record made a hash: the step check fails in Redis (WRONGTYPE)
    // after the page's own reads succeeded.
    let step_key = format!("tessera:totp-step:{sub}");
    test_redis(&["HSET", &step_key, "broken", "1"]).await;
    let code = pyotp(&secret, now());
    let confirm = [("csrf", csrf.as_str()), ("code", code.as_str())];
    let failed = browser.send(post("/account/totp/confirm", &confirm)).await;
    // Not "wrong code": the store failed, not the user.
    assert_eq!(failed.status, 503, "{}", failed.body);
    assert!(failed.body.contains("Please try again shortly."));
    assert_eq!(failed.headers["retry-after"], "1");
    test_redis(&["DEL", &step_key]).await;
    // Nothing changed: the same key is pending and the same code confirms it.
    let confirmed = browser.send(post("/account/totp/confirm", &confirm)).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert!(confirmed.body.contains("id=\"recovery-codes\""));
}
