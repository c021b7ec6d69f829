//! Consent per client and per scope (OIDC Core §3.1.2.4), the RP-initiated logout hint check
//! (RP-Initiated Logout 1.0 §2), registration validation (RFC 6749 §3.3, RFC 8252 §7.1, RFC
//! 7591 §3.2.2) and `error_description` characters (RFC 6749 §5.2).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{expect_error, random_token, unique, TestApp, AFTER_LOGOUT};

/// `url` with its `scope` replaced by `scope`, plus `extra` parameters.
pub(crate) fn with_scope(url: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "scope" {
                (k, scope.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .extend_pairs(extra);
    url.to_string()
}

/// RFC 6749 §5.2: `%x20-21 / %x23-5B / %x5D-7E`, at most 256 characters.
fn assert_clean(description: &str) {
    assert!(description.chars().count() <= 256, "{description}");
    assert!(
        description
            .bytes()
            .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
        "{description:?}"
    );
}

#[tokio::test]
async fn a_scope_not_yet_granted_asks_for_consent_again_listing_what_is_new() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(true).await;
    let first = with_scope(&f.url, "openid", &[]);
    let consent = f.browser.sign_in(&first, &f.username, &f.password).await;
    assert_eq!(consent.status, 200);
    assert!(
        consent.body.contains(
            r#"<li data-scope="openid">Confirm who you are (your account identifier)</li>"#
        ),
        "{}",
        consent.body
    );
    assert_eq!(
        f.browser.submit_consent(&consent, "allow").await.status,
        303
    );
    // What was granted is remembered.
    assert_eq!(f.browser.get(&first).await.status, 302);

    // More scopes: silently, consent_required (OIDC Core §3.1.2.6).
    let more = with_scope(&f.url, "openid profile email", &[]);
    let silent = with_scope(&f.url, "openid profile email", &[("prompt", "none")]);
    let page = f.browser.get(&silent).await;
    assert_eq!(page.status, 302);
    assert_eq!(page.query()["error"], "consent_required");
    // Interactively, the consent page marks what is new and what was allowed.
    let consent = f.browser.get(&more).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(consent.body.contains(
        r#"<li class="new" data-scope="profile">Your username <strong>(new)</strong></li>"#
    ));
    assert!(consent.body.contains(
        r#"<li class="new" data-scope="email">Your email address <strong>(new)</strong></li>"#
    ));
    assert!(consent.body.contains(
        r#"<li class="granted" data-scope="openid">Confirm who you are (your account identifier) <span class="note">(already allowed)</span></li>"#
    ));
    let allowed = f.browser.submit_consent(&consent, "allow").await;
    assert_eq!(allowed.status, 303);
    let tokens = app.tokens_from(&f.client, &allowed, &f.pkce.verifier).await;
    assert_eq!(tokens["scope"], "openid profile email");
    // Now every one is granted: no page, with or without prompt=none.
    assert_eq!(f.browser.get(&more).await.status, 302);
    assert!(f.browser.get(&silent).await.query().contains_key("code"));
}

#[tokio::test]
async fn a_logout_whose_client_id_is_not_the_hints_audience_is_an_error_page() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(false).await;
    let done = f.sign_in().await;
    let tokens = app.tokens_from(&f.client, &done, &f.pkce.verifier).await;
    let hint = tokens["id_token"].as_str().unwrap();
    // Another client, registered with the same post-logout URI.
    let other = app.spa_client(false).await;
    let page = f
        .browser
        .get_logout(&[
            ("client_id", &other),
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "s"),
        ])
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.headers.get("location").is_none());
    assert!(
        page.body.contains("names one application (client_id)"),
        "{}",
        page.body
    );
    // Still signed in: a silent request gets a code.
    let silent = with_scope(&f.url, "openid email", &[("prompt", "none")]);
    assert!(f.browser.get(&silent).await.query().contains_key("code"));
    // The matching pair signs out and returns.
    let page = f
        .browser
        .get_logout(&[
            ("client_id", &f.client),
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
        ])
        .await;
    assert_eq!(page.status, 302);
}

/// `POST /admin/clients` with `body`: (status, error, error_description).
pub(crate) async fn register(app: &TestApp, admin: &str, body: Value) -> (u16, String, String) {
    let res = app
        .admin(Method::POST, "/clients", Some(admin), Some(&body))
        .await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or_default();
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
    (status, text("error"), text("error_description"))
}

#[tokio::test]
async fn registration_refuses_bad_scopes_grants_secrets_and_redirect_schemes() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.admin_token().await;
    let browser = |member: &str, uri: &str| {
        let mut body = json!({"client_id": unique("reg"), "public": true,
            "grant_types": ["authorization_code"], "redirect_uris": ["https://rp.example/cb"]});
        body[member] = json!([uri]);
        body
    };
    for uri in [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,hi",
        "myapp:/cb",
        "http://rp.example/cb",
    ] {
        for member in ["redirect_uris", "post_logout_redirect_uris"] {
            let (status, code, why) = register(&app, &admin, browser(member, uri)).await;
            assert_eq!(
                (status, code.as_str()),
                (400, "invalid_redirect_uri"),
                "{uri}"
            );
            assert!(why.starts_with(&format!("{member} `{uri}`")), "{why}");
        }
    }
    // RFC 8252 §7.1: a private-use scheme of reverse-domain form is a native app's.
    let native = browser("redirect_uris", "com.example.app:/oauth2redirect");
    assert_eq!(register(&app, &admin, native).await.0, 201);

    let service = |extra: Value| {
        let mut body = json!({"client_id": unique("reg"), "grant_types": ["client_credentials"],
            "scopes": ["read"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (extra, member) in [
        (json!({"scopes": [""]}), "scopes"),
        (json!({"scopes": ["read write"]}), "scopes"),
        (json!({"scopes": ["read\u{7}"]}), "scopes"),
        (
            json!({"grant_types": ["client_credentials", "client_credentials"]}),
            "grant_types",
        ),
        (json!({"client_secret": null}), "client_secret"),
    ] {
        let (status, code, why) = register(&app, &admin, service(extra.clone())).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "invalid_client_metadata"),
            "{extra}"
        );
        assert!(why.contains(member), "{why}");
        assert_clean(&why);
    }
    let secret = random_token();
    let good = service(json!({"client_secret": secret, "scopes": ["read", "a:b/c"]}));
    assert_eq!(register(&app, &admin, good).await.0, 201);
}

#[test]
fn the_cli_names_the_flag_of_a_refused_redirect_uri() {
    let t = crate::cli::Tessera::on_redis();
    let stderr = t.fails(&[
        "client",
        "add",
        &unique("cli-reg"),
        "--public",
        "--grant-type",
        "authorization_code",
        "--redirect-uri",
        "vbscript:msgbox(1)",
    ]);
    assert!(
        stderr.contains("--redirect-uri `vbscript:msgbox(1)`: this scheme is refused"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn error_descriptions_never_reflect_raw_input() {
    let app = TestApp::spawn().await;
    let secret = random_token();
    let svc = app.service_client_with(&secret, &["read"]).await;
    let raw = "r\"e\\a\u{e9}d\u{7}<x>";
    let res = app
        .client_credentials(&svc, &secret, &[("scope", raw)])
        .await;
    let body: Value = serde_json::from_str(&expect_error(res, 400, "invalid_scope").await).unwrap();
    let description = body["error_description"].as_str().unwrap();
    assert_clean(description);
    assert!(!description.contains(raw), "{description}");
    // A long value is quoted in part; the description stays short.
    let long = "x".repeat(5000);
    let res = app
        .client_credentials(&svc, &secret, &[("scope", &long)])
        .await;
    let body: Value = serde_json::from_str(&expect_error(res, 400, "invalid_scope").await).unwrap();
    let description = body["error_description"].as_str().unwrap();
    assert_clean(description);
    assert!(description.len() < 120, "{description}");
    // A repeated parameter whose name is raw input.
    let res = app
        .post_token_raw(
            "application/x-www-form-urlencoded",
            "grant_type=password&n%22%5C%E9%0A=1&n%22%5C%E9%0A=2",
        )
        .await;
    let body: Value =
        serde_json::from_str(&expect_error(res, 400, "invalid_request").await).unwrap();
    assert_clean(body["error_description"].as_str().unwrap());

    // The authorization endpoint's error redirect (RFC 6749 §4.1.2.1).
    let mut f = app.spa_flow(false).await;
    let page = f.browser.get(&with_scope(&f.url, raw, &[])).await;
    assert_eq!(page.status, 302);
    let query = page.query();
    assert_eq!(query["error"], "invalid_scope");
    assert_clean(&query["error_description"]);
    assert!(!query["error_description"].contains(raw));
}

#[test]
fn a_declared_client_with_a_refused_redirect_uri_stops_the_start() {
    let client = tessera::clients::Registration {
        client_id: "spa".into(),
        public: true,
        policy: tessera::store::ClientPolicy {
            grant_types: vec!["authorization_code".into()],
            redirect_uris: vec!["vbscript:msgbox(1)".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let raw = crate::helpers::RawSettings {
        clients: vec![client],
        ..Default::default()
    };
    let err = raw.validate().err().unwrap().to_string();
    assert!(
        err.contains("clients") && err.contains("redirect_uris `vbscript:msgbox(1)`"),
        "{err}"
    );
}
