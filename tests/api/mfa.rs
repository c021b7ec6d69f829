//! Second factor (RFC 6238 TOTP): enrollment, the mfa-otp grant, replay protection, recovery
//! codes. Codes come from Python's pyotp (`TESSERA_TEST_PYTHON`, set up by .ci/run), an
//! implementation independent of ours, so a shared bug cannot hide.

use base64::Engine;
use serde_json::{json, Value};

use crate::helpers::{assert_bearer_challenge, claims, now, pyotp, Backend, StartupError, TestApp};

struct Enrolled {
    client: String,
    username: String,
    password: String,
    secret: String,
    recovery: Vec<String>,
    /// The time whose step confirmed the enrollment.
    t0: u64,
}

/// Enrolls a fresh user and confirms with the code of the current step.
async fn enrolled(app: &TestApp) -> Enrolled {
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let access = app.bearer_login(&client, &username, &password).await;
    let res = app.post_totp(Some(&access)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let uri = url::Url::parse(body["otpauth_uri"].as_str().unwrap()).unwrap();
    assert_eq!(uri.scheme(), "otpauth");
    assert_eq!(uri.host_str(), Some("totp"));
    let query: std::collections::HashMap<_, _> = uri.query_pairs().into_owned().collect();
    assert_eq!(query.get("issuer").map(String::as_str), Some("tessera"));
    assert!(uri.path().contains(&username));
    let secret = query["secret"].clone();
    // 160-bit secret: 32 base32 characters.
    assert_eq!(secret.trim_end_matches('=').len(), 32);
    let png = base64::engine::general_purpose::STANDARD
        .decode(body["qr_png"].as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(body["qr_svg"].as_str().unwrap().starts_with("<svg"));

    // Pending until confirmed: the password alone still logs in.
    assert!(app.login(&client, &username, &password).await["access_token"].is_string());

    let t0 = now();
    let res = app.post_totp_confirm(&access, &pyotp(&secret, t0)).await;
    assert_eq!(res.status(), 200);
    let recovery: Vec<String> =
        serde_json::from_value(res.json::<Value>().await.unwrap()["recovery_codes"].clone())
            .unwrap();
    assert_eq!(recovery.len(), 10);
    Enrolled {
        client,
        username,
        password,
        secret,
        recovery,
        t0,
    }
}

/// The password step for an MFA user: 403 `mfa_required` with a token.
async fn mfa_token(app: &TestApp, e: &Enrolled) -> String {
    let res = app
        .password_grant(&e.client, &e.username, &e.password, Some("openid"))
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "mfa_required");
    assert_eq!(body["mfa_methods"], json!(["otp", "recovery_code"]));
    assert!(body.get("access_token").is_none());
    body["mfa_token"].as_str().unwrap().to_owned()
}

async fn assert_refused(res: reqwest::Response) {
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        body["error_description"],
        "the mfa_token or the code is invalid"
    );
}

#[tokio::test]
async fn otp_login_with_replay_protection() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app).await;

    // The enrollment code (step of t0) cannot be replayed for login.
    let token = mfa_token(&app, &e).await;
    assert_refused(
        app.post_mfa_step(&e.client, &token, "otp", &pyotp(&e.secret, e.t0))
            .await,
    )
    .await;

    // The next step's code (within the ±1 window) logs in, with amr pwd + otp (RFC 8176).
    let next = pyotp(&e.secret, e.t0 + 30);
    let res = app.post_mfa_step(&e.client, &token, "otp", &next).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        claims(body["id_token"].as_str().unwrap())["amr"],
        json!(["pwd", "otp"])
    );
    assert!(body["refresh_token"].is_string());

    // The mfa_token was single use.
    assert_refused(app.post_mfa_step(&e.client, &token, "otp", &next).await).await;
    // The same code on a new token: replay, refused.
    let token = mfa_token(&app, &e).await;
    assert_refused(app.post_mfa_step(&e.client, &token, "otp", &next).await).await;
    // An earlier step's code after a later one: refused.
    assert_refused(
        app.post_mfa_step(&e.client, &token, "otp", &pyotp(&e.secret, e.t0 - 30))
            .await,
    )
    .await;
}

#[tokio::test]
async fn recovery_codes_work_once_and_tokens_are_bound_to_the_client() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app).await;
    let token = mfa_token(&app, &e).await;
    // Another client cannot complete this login.
    let other = app.public_client().await;
    assert_refused(
        app.post_mfa_step(&other, &token, "recovery_code", &e.recovery[0])
            .await,
    )
    .await;
    // Recovery codes are compared without case or dashes.
    let loose = e.recovery[0].to_uppercase().replace('-', "");
    let res = app
        .post_mfa_step(&e.client, &token, "recovery_code", &loose)
        .await;
    assert_eq!(res.status(), 200);
    let token = mfa_token(&app, &e).await;
    assert_refused(
        app.post_mfa_step(&e.client, &token, "recovery_code", &e.recovery[0])
            .await,
    )
    .await;
    assert_eq!(
        app.post_mfa_step(&e.client, &token, "recovery_code", &e.recovery[1])
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn five_wrong_codes_kill_the_mfa_token() {
    // The account's second-factor back-off (after 5 failures by default) is not the point here.
    let app = TestApp::spawn_with(Backend::Redis, |raw| raw.login_account_failure_limit = 10).await;
    let e = enrolled(&app).await;
    let token = mfa_token(&app, &e).await;
    for wrong in ["000000", "111111", "222222", "333333", "444444"] {
        assert_refused(app.post_mfa_step(&e.client, &token, "otp", wrong).await).await;
    }
    let right = pyotp(&e.secret, e.t0 + 30);
    assert_refused(app.post_mfa_step(&e.client, &token, "otp", &right).await).await;
    // The code itself was right: a new token accepts it.
    let token = mfa_token(&app, &e).await;
    assert_eq!(
        app.post_mfa_step(&e.client, &token, "otp", &right)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn disabling_needs_password_and_second_factor() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app).await;
    let token = mfa_token(&app, &e).await;
    let res = app
        .post_mfa_step(&e.client, &token, "recovery_code", &e.recovery[0])
        .await;
    let access = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let disable = |body: Value| {
        let (app, access) = (&app, access.clone());
        async move { app.delete_totp(&access, &body).await }
    };
    let res = disable(json!({"password": "wrong", "recovery_code": e.recovery[1]})).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let res = disable(json!({"password": e.password, "code": "000000"})).await;
    assert_eq!(res.status(), 400);
    let res = disable(json!({"password": e.password, "recovery_code": e.recovery[2]})).await;
    assert_eq!(res.status(), 204);
    // Password alone logs in again.
    assert!(app.login(&e.client, &e.username, &e.password).await["access_token"].is_string());
}

#[tokio::test]
async fn enrollment_needs_a_valid_access_token() {
    let app = TestApp::spawn().await;
    for auth in [None, Some("not-a-token")] {
        let res = app.post_totp(auth).await;
        assert_bearer_challenge(&res, 401, None);
    }
    // A confirmation without a pending enrollment, or with a wrong code, is refused.
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let access = app.bearer_login(&client, &username, &password).await;
    let res = app.post_totp_confirm(&access, "123456").await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_wrong_data_key_is_refused_at_start_up() {
    let app = TestApp::spawn().await;
    let result = app.start_with_another_data_key().await;
    assert!(matches!(result, Err(StartupError::DataKey(_))));
}
