//! Second factors that cannot be guessed or swapped (issue #18): second-factor failures count
//! per account, across `mfa_token`s, sign-ins and addresses, shared by the `mfa-otp` grant and
//! the hosted page, with the password back-off; a token's budget is spent before a code is
//! looked at, so parallel guesses get no more evaluations; and a bare bearer token cannot add,
//! replace or remove a factor.

use serde_json::{json, Value};

use crate::helpers::{
    assert_rate_limited, captured_logs, expect_error, fresh_ip, pyotp, test_redis, wrong_code,
    Authenticator, Backend, RawSettings, TestApp, Totp,
};

/// Behind a trusted proxy (so `X-Forwarded-For` names the client), with `failures` second
/// factor (and password) failures before a back-off long enough to outlast the test.
fn limits(failures: u32) -> impl FnOnce(&mut RawSettings) {
    move |raw: &mut RawSettings| {
        raw.trusted_proxies = "127.0.0.1/32".into();
        raw.login_account_failure_limit = failures;
        raw.login_backoff_base_ms = 600_000;
        raw.login_backoff_max = 900;
    }
}

/// A user with TOTP, a password client, the enrollment and its (recent) bearer token.
struct Enrolled {
    client: String,
    bearer: String,
    username: String,
    password: String,
    sub: String,
    totp: Totp,
}

async fn enrolled(app: &TestApp) -> Enrolled {
    let client = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let bearer = app.bearer_login(&client, &username, &password).await;
    let totp = app.enroll_totp(&bearer).await;
    Enrolled {
        client,
        bearer,
        username,
        password,
        sub,
        totp,
    }
}

impl Enrolled {
    /// The code of the step after the enrollment's (right, not yet used).
    fn right(&self) -> String {
        pyotp(&self.totp.secret, self.totp.t0 + 30)
    }

    fn wrong(&self) -> String {
        wrong_code(&self.totp.secret, self.totp.t0 + 30)
    }

    /// A fresh `mfa_token`: the right password, from `ip`.
    async fn mfa_token(&self, app: &TestApp, ip: &str) -> String {
        let res = app
            .password_grant_from(&self.client, &self.username, &self.password, Some(ip))
            .await;
        assert_eq!(res.status(), 403);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "mfa_required");
        body["mfa_token"].as_str().unwrap().to_owned()
    }

    /// One code on a fresh `mfa_token` from a fresh address.
    async fn guess(&self, app: &TestApp, code: &str) -> reqwest::Response {
        let ip = fresh_ip();
        let token = self.mfa_token(app, &ip).await;
        app.post_mfa_step_from(Some(&ip), &self.client, &token, "otp", code)
            .await
    }
}

#[tokio::test]
async fn guesses_across_fresh_tokens_and_addresses_end_in_the_account_back_off() {
    let app = TestApp::spawn_with(Backend::Redis, limits(3)).await;
    let e = enrolled(&app).await;
    for _ in 0..3 {
        expect_error(e.guess(&app, &e.wrong()).await, 400, "invalid_grant").await;
    }
    // Each token and address is fresh, and each password was right: still the account's
    // back-off, for a wrong code and for the right one alike.
    assert!(assert_rate_limited(e.guess(&app, &e.wrong()).await).await > 60);
    assert_rate_limited(e.guess(&app, &e.right()).await).await;

    // The operator's reset forgets the failures with the factors: the owner enrolls again (on
    // the next step: the first enrollment's is used up) and signs in with a code at once.
    let (_, admin) = app.admin_token().await;
    let res = app.admin_users_delete_factors(&admin, &e.sub).await;
    assert_eq!(res.status(), 204);
    let bearer = app.bearer_login(&e.client, &e.username, &e.password).await;
    let again = app.enroll_totp_at(&bearer, e.totp.t0 + 30).await;
    let ip = fresh_ip();
    let token = e.mfa_token(&app, &ip).await;
    let res = app
        .post_mfa_step_from(
            Some(&ip),
            &e.client,
            &token,
            "recovery_code",
            &again.recovery[0],
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn parallel_guesses_on_one_token_get_at_most_its_budget_of_evaluations() {
    let app = TestApp::spawn_with(Backend::Redis, limits(1000)).await;
    let e = enrolled(&app).await;
    let ip = fresh_ip();
    let token = e.mfa_token(&app, &ip).await;
    let wrong = e.wrong();
    let guesses =
        (0..40).map(|_| app.post_mfa_step_from(Some(&ip), &e.client, &token, "otp", &wrong));
    for res in futures_util::future::join_all(guesses).await {
        expect_error(res, 400, "invalid_grant").await;
    }
    // Every evaluated code is an `mfa_failure` audit event: at most MFA_TOKEN_ATTEMPTS (5).
    let evaluated = captured_logs()
        .lines()
        .filter(|line| line.contains("\"mfa_failure\"") && line.contains(&e.sub))
        .count();
    assert!((1..=5).contains(&evaluated), "{evaluated} codes evaluated");
    // The budget is spent: even the right code is refused on this token, not on a new one.
    let res = app
        .post_mfa_step_from(Some(&ip), &e.client, &token, "otp", &e.right())
        .await;
    expect_error(res, 400, "invalid_grant").await;
    assert_eq!(e.guess(&app, &e.right()).await.status(), 200);
}

#[tokio::test]
async fn the_hosted_page_and_the_grant_share_the_counter() {
    let app = TestApp::spawn_with(Backend::Redis, limits(3)).await;
    let mut f = app.spa_flow(false).await;
    let client = app.public_client().await;
    let bearer = app.bearer_login(&client, &f.username, &f.password).await;
    let e = Enrolled {
        client,
        totp: app.enroll_totp(&bearer).await,
        bearer,
        username: f.username.clone(),
        password: f.password.clone(),
        sub: f.sub.clone(),
    };
    // Two wrong codes on the page, each on a new sign-in (a new pending request).
    for _ in 0..2 {
        let page = f.sign_in().await;
        assert!(page.body.contains("name=\"otp\""), "{}", page.body);
        let again = f.browser.submit_second_factor(&page, &e.wrong()).await;
        assert!(!again.body.contains("Too many attempts"), "{}", again.body);
        // The error is tied to both code fields (WCAG 2.2 SC 3.3.1).
        for id in ["otp", "recovery_code"] {
            let field = again.input(id);
            assert!(
                field.contains("aria-invalid=\"true\" aria-describedby=\"error\""),
                "{field}"
            );
        }
    }
    // The third through the grant reaches the limit: the page is in the back-off too.
    expect_error(e.guess(&app, &e.wrong()).await, 400, "invalid_grant").await;
    let page = f.sign_in().await;
    let limited = f.browser.submit_second_factor(&page, &e.right()).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(
        limited.body.contains("Too many attempts"),
        "{}",
        limited.body
    );
    // A back-off is no fault of the code typed: no field is marked.
    assert!(!limited.input("otp").contains("aria-invalid"));
    assert_rate_limited(e.guess(&app, &e.right()).await).await;
}

#[tokio::test]
async fn a_bare_bearer_token_cannot_add_or_replace_a_factor() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let bearer = app.bearer_login(&client, &username, &password).await;
    let old = app.aged_token(&bearer, 3600);
    // No factor yet: the old sign-in alone cannot enroll one (RFC 9470 §3), the password can.
    let res = app.post_totp(Some(&old)).await;
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("max_age=300"), "{challenge}");
    expect_error(res, 401, "insufficient_user_authentication").await;
    let res = app
        .post_totp_with(&old, &json!({"password": "wrong"}))
        .await;
    expect_error(res, 400, "invalid_grant").await;
    let res = app
        .post_totp_with(&old, &json!({"password": password}))
        .await;
    assert_eq!(res.status(), 200);

    // Over an active factor: the old sign-in, or the password alone, cannot replace it.
    let totp = app.enroll_totp(&bearer).await;
    let res = app.post_totp(Some(&old)).await;
    expect_error(res, 401, "insufficient_user_authentication").await;
    let res = app
        .post_totp_with(&old, &json!({"password": password}))
        .await;
    expect_error(res, 400, "invalid_grant").await;
    let wrong = wrong_code(&totp.secret, totp.t0 + 30);
    let res = app
        .post_totp_with(&old, &json!({"password": password, "code": wrong}))
        .await;
    expect_error(res, 400, "invalid_grant").await;
    let right = pyotp(&totp.secret, totp.t0 + 30);
    let res = app
        .post_totp_with(&old, &json!({"password": password, "code": right}))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn removal_checks_the_password_before_it_spends_the_code() {
    let app = TestApp::spawn().await;
    let e = enrolled(&app).await;
    let access = &e.bearer;
    let code = &e.totp.recovery[0];
    let res = app
        .delete_totp(access, &json!({"password": "wrong", "recovery_code": code}))
        .await;
    expect_error(res, 400, "invalid_grant").await;
    let res = app
        .delete_totp(
            access,
            &json!({"password": e.password, "recovery_code": code}),
        )
        .await;
    assert_eq!(res.status(), 204, "the recovery code was not spent");
}

#[tokio::test]
async fn removal_goes_through_the_login_limiter() {
    let app = TestApp::spawn_with(Backend::Redis, limits(2)).await;
    let e = enrolled(&app).await;
    let access = &e.bearer;
    let code = &e.totp.recovery[0];
    for _ in 0..2 {
        let res = app
            .delete_totp(access, &json!({"password": "wrong", "recovery_code": code}))
            .await;
        expect_error(res, 400, "invalid_grant").await;
    }
    let res = app
        .delete_totp(
            access,
            &json!({"password": e.password, "recovery_code": code}),
        )
        .await;
    assert_rate_limited(res).await;
}

#[tokio::test]
async fn the_account_page_removes_totp_only_after_a_recent_sign_in_or_password_and_code() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let mut browser = app.browser();
    browser.account_sign_in(&username, &password).await;
    let bearer = app.bearer_login(&client, &username, &password).await;
    let totp = app.enroll_totp(&bearer).await;
    app.age_login_session(browser.cookie("session"), 3600).await;
    let page = browser.get(&app.url("/account")).await;
    assert!(page.body.contains("name=\"password\""), "{}", page.body);
    let csrf = page.field("csrf");
    let code = pyotp(&totp.secret, totp.t0 + 30);
    let remove = |fields: Vec<(&'static str, String)>| {
        let mut form = fields;
        form.push(("csrf", csrf.clone()));
        app.http.post(app.url("/account/totp/remove")).form(&form)
    };
    // A code alone from an old sign-in is not enough; a wrong password spends no code.
    let alone = browser.send(remove(vec![("code", code.clone())])).await;
    assert_eq!(alone.status, 400, "{}", alone.body);
    let wrong = vec![("password", "wrong".to_owned()), ("code", code.clone())];
    assert_eq!(browser.send(remove(wrong)).await.status, 400);
    let right = vec![("password", password.clone()), ("code", code)];
    // A store failure is not the user's mistake: the account's login-limit record made a
    // string, the limiter's script fails in Redis (WRONGTYPE) while the page's own reads
    // succeed; 503, and nothing is spent.
    let limits = format!("tessera:rl:{{acct:{username}}}");
    test_redis(&["SET", &limits, "broken"]).await;
    let failed = browser.send(remove(right.clone())).await;
    assert_eq!(failed.status, 503, "{}", failed.body);
    assert!(failed.body.contains("Please try again shortly."));
    test_redis(&["DEL", &limits]).await;
    let removed = browser.send(remove(right)).await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert!(app.login(&client, &username, &password).await["access_token"].is_string());
}

#[tokio::test]
async fn refused_passkeys_at_the_second_step_count_against_the_account() {
    let app = TestApp::spawn_passkeys_with(limits(2)).await;
    let mut f = app.spa_flow(false).await;
    let client = app.public_client().await;
    let bearer = app.bearer_login(&client, &f.username, &f.password).await;
    let mut key = Authenticator::default();
    app.register_passkey(&bearer, &mut key, "Laptop").await;
    let port = url::Url::parse(app.issuer()).unwrap().port().unwrap();
    let (evil, origin) = (
        format!("https://evil.localhost:{port}"),
        app.issuer().to_owned(),
    );
    // Two refused assertions (a foreign origin), each on a new sign-in; then even the right
    // passkey meets the account's back-off.
    for (answer_origin, status) in [(&evil, 400), (&evil, 400), (&origin, 429)] {
        let page = f.browser.get(&f.url).await;
        let second = f
            .browser
            .submit_login(&page, &f.username, &f.password)
            .await;
        assert!(second.body.contains("Use a passkey"), "{}", second.body);
        let options = f.browser.passkey_options(&second).await;
        let answer = key.get(answer_origin, options, 0, &f.sub);
        let done = f.browser.passkey_answer(&second, &answer).await;
        assert_eq!(done.status, status, "{}", done.body);
    }
}
