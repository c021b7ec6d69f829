//! The hosted pages as a deployment brands them (issue #20): client display metadata (OIDC
//! Dynamic Client Registration 1.0 §2: `client_name`, `logo_uri`, `policy_uri`, `tos_uri`),
//! scopes in words, and the operator's product name, logo, primary colour and stylesheet.

use serde_json::{json, Value};

use tessera::ui::ScopeDescription;

use crate::cli::Tessera;
use crate::consent_and_registration::{register, with_scope};
use crate::helpers::{
    http_client, pkce, unique, Backend, NewClient, TestApp, AFTER_LOGOUT, ORIGIN, REDIRECT,
};

const LOGO: &str = "https://cdn.acme.example/mail/logo.png";

/// The `v` of an asset URL: the first 8 bytes of the content's SHA-256, hex.
fn version(content: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(content)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn display_metadata_is_checked_on_registration_with_https_logos_only() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.admin_token().await;
    let client = |extra: Value| {
        let mut body = json!({"client_id": unique("disp"), "public": true,
            "grant_types": ["authorization_code"], "redirect_uris": ["https://rp.example/cb"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (extra, member) in [
        (
            json!({"logo_uri": "http://cdn.acme.example/logo.png"}),
            "logo_uri",
        ),
        (json!({"logo_uri": "http://127.0.0.1/logo.png"}), "logo_uri"),
        (
            json!({"logo_uri": "data:image/png;base64,AAAA"}),
            "logo_uri",
        ),
        (json!({"logo_uri": "/logo.png"}), "logo_uri"),
        (json!({"policy_uri": "javascript:alert(1)"}), "policy_uri"),
        (json!({"tos_uri": "http://acme.example/terms"}), "tos_uri"),
        (json!({"client_uri": "ftp://acme.example/"}), "client_uri"),
        (json!({"client_name": ""}), "client_name"),
        (json!({"client_name": "Acme\u{7}Mail"}), "client_name"),
        (json!({"client_name": "x".repeat(101)}), "client_name"),
    ] {
        let (status, code, why) = register(&app, &admin, client(extra.clone())).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "invalid_client_metadata"),
            "{extra}"
        );
        assert!(why.starts_with(member), "{why}");
    }
    let good = client(json!({"client_name": "Acme Mail", "logo_uri": LOGO,
        "client_uri": "https://acme.example/", "policy_uri": "https://acme.example/privacy",
        "tos_uri": "http://localhost:3000/terms"}));
    let id = good["client_id"].as_str().unwrap().to_owned();
    assert_eq!(register(&app, &admin, good).await.0, 201);
    let shown = app.admin_client_view(&admin, &id).await;
    assert_eq!(shown["client_name"], "Acme Mail");
    assert_eq!(shown["logo_uri"], LOGO);
    assert_eq!(shown["tos_uri"], "http://localhost:3000/terms");
}

#[test]
fn the_cli_names_the_flag_of_a_refused_logo() {
    let stderr = Tessera::on_redis().fails(&[
        "client",
        "add",
        &unique("cli-logo"),
        "--public",
        "--grant-type",
        "authorization_code",
        "--logo-uri",
        "http://cdn.acme.example/logo.png",
    ]);
    assert!(
        stderr.contains("--logo-uri `http://cdn.acme.example/logo.png`: use an absolute https URL"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// A third-party client with display metadata and `orders:read`, and a user signed in to it
/// up to the consent page for `scope`, asked in `language`.
async fn consent_page(app: &TestApp, scope: &str, language: &str) -> crate::helpers::Page {
    let client = NewClient::public(
        &["authorization_code", "refresh_token"],
        &[
            "openid",
            "email",
            "offline_access",
            "orders:read",
            "x-legacy",
        ],
    )
    .browser(REDIRECT, ORIGIN, AFTER_LOGOUT)
    .third_party(true)
    .display(
        "Acme Mail",
        LOGO,
        "https://acme.example/privacy",
        "https://acme.example/terms",
    );
    let client = app.register(client).await.0;
    let (username, password, _) = app.user().await;
    let url = app.authorize_url(&client, &pkce().challenge, &[("ui_locales", language)]);
    let mut browser = app.browser();
    let login = browser.get(&with_scope(&url, scope, &[])).await;
    assert_eq!(login.status, 200);
    let text = login.text();
    assert!(text.contains("to continue to Acme Mail") || text.contains("um mit Acme Mail"));
    assert!(
        text.contains(&format!(r#"<img class="client-logo" src="{LOGO}""#)),
        "{text}"
    );
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("img-src 'self' data: https://cdn.acme.example;"),
        "{csp}"
    );
    browser.submit_login(&login, &username, &password).await
}

#[tokio::test]
async fn the_consent_page_names_the_client_and_says_what_each_scope_gives() {
    let app = TestApp::spawn_with(Backend::Memory, |raw| {
        let by_language = [("en", "See your orders"), ("de", "Ihre Bestellungen sehen")];
        let by_language = by_language.map(|(tag, text)| (tag.to_owned(), text.to_owned()));
        raw.scope_descriptions = [
            (
                "orders:read",
                ScopeDescription::ByLanguage(by_language.into()),
            ),
            (
                "email",
                ScopeDescription::Text("Your e-mail address, as the operator puts it".into()),
            ),
        ]
        .map(|(scope, description)| (scope.to_owned(), description))
        .into();
    })
    .await;
    let page = consent_page(&app, "openid email orders:read x-legacy", "en").await;
    assert_eq!(page.status, 200);
    let text = page.text();
    for line in [
        "Acme Mail asks for access to your account",
        r#"<li data-scope="openid">Confirm who you are (your account identifier)</li>"#,
        r#"<li data-scope="email">Your e-mail address, as the operator puts it</li>"#,
        r#"<li data-scope="orders:read">See your orders</li>"#,
        // A scope without a description is shown as itself.
        r#"<li data-scope="x-legacy"><code>x-legacy</code></li>"#,
        r#"<a href="https://acme.example/privacy" target="_blank" rel="noopener noreferrer">Privacy policy of Acme Mail"#,
        r#"<a href="https://acme.example/terms" target="_blank" rel="noopener noreferrer">Terms of service of Acme Mail"#,
    ] {
        assert!(text.contains(line), "{line} not in {text}");
    }
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("https://cdn.acme.example"), "{csp}");

    let page = consent_page(&app, "openid orders:read offline_access", "de").await;
    let text = page.text();
    for line in [
        "Acme Mail bittet um Zugriff auf Ihr Konto",
        r#"<li data-scope="orders:read">Ihre Bestellungen sehen</li>"#,
        r#"<li data-scope="offline_access">Verbunden bleiben, auch wenn Sie es gerade nicht nutzen</li>"#,
        "Datenschutzerklärung von Acme Mail",
    ] {
        assert!(text.contains(line), "{line} not in {text}");
    }
}

#[tokio::test]
async fn pages_without_display_metadata_show_the_client_id_and_no_foreign_images() {
    let app = TestApp::spawn_with(Backend::Memory, |_| {}).await;
    let client = app.spa_client(true).await;
    let url = app.authorize_url(&client, &pkce().challenge, &[]);
    let login = app.browser().get(&url).await;
    assert!(login.text().contains(&format!("to continue to {client}")));
    assert!(!login.body.contains("client-logo"));
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("img-src 'self' data:; form-action"), "{csp}");
    // No product settings: the built-in name, no operator files.
    assert!(login.body.contains("<title>Sign in · tessera</title>"));
    assert!(!login.text().contains("/assets/theme.css"));
    for path in ["/assets/logo", "/assets/theme.css"] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn operators_brand_every_page_with_name_logo_colour_and_stylesheet() {
    let dir = tempfile::tempdir().unwrap();
    let (logo, css) = (dir.path().join("acme.svg"), dir.path().join("acme.css"));
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#;
    std::fs::write(&logo, svg).unwrap();
    std::fs::write(&css, ".card { border-width: 2px; }").unwrap();
    let app = TestApp::spawn_with(Backend::Memory, move |raw| {
        raw.product_name = Some("Acme ID".into());
        raw.primary_color = Some("#FFCC00".into());
        raw.logo_file = Some(logo);
        raw.css_file = Some(css);
    })
    .await;
    let res = http_client()
        .build()
        .unwrap()
        .get(format!("{}/oauth2/authorize?client_id=nobody", app.base))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // Attribute values are HTML-escaped (`/` as `&#x2f;`); the URLs carry their content's hash.
    let body = res.text().await.unwrap().replace("&#x2f;", "/");
    let (logo_v, css_v) = (
        version(svg.as_bytes()),
        version(b".card { border-width: 2px; }"),
    );
    for part in [
        "· Acme ID</title>".to_owned(),
        format!(r#"<link rel="stylesheet" href="/assets/theme.css?v={css_v}">"#),
        format!(
            r#"<img class="brand-logo" src="/assets/logo?v={logo_v}" alt="" height="32"><span>Acme ID</span>"#
        ),
    ] {
        assert!(body.contains(&part), "{part} not in {body}");
    }
    let sheet = app.get("/assets/tessera.css").await.text().await.unwrap();
    let link = format!(
        r#"<link rel="stylesheet" href="/assets/tessera.css?v={}">"#,
        version(sheet.as_bytes())
    );
    assert!(body.contains(&link), "{link} not in {body}");
    // Yellow buttons get black text (WCAG 2.2 SC 1.4.3: 4.5:1 at least).
    assert!(
        sheet.ends_with(":root { --primary: #ffcc00; --on-primary: #000000; }\n"),
        "{sheet}"
    );
    let res = app.get(&format!("/assets/logo?v={logo_v}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("sandbox"), "{csp}");
    assert_eq!(res.text().await.unwrap(), svg);
    let theme = app.get("/assets/theme.css").await;
    assert_eq!(theme.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(theme.text().await.unwrap(), ".card { border-width: 2px; }");
}

#[test]
fn unusable_branding_settings_stop_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = Tessera::any_port()
        .env("TESSERA_PRIMARY_COLOR", "blue")
        .fails(&["serve", "--dev"]);
    assert!(
        stderr.contains("`primary_color` (env TESSERA_PRIMARY_COLOR): `blue` is not a colour"),
        "{stderr}"
    );
    let missing = dir.path().join("missing.png").display().to_string();
    let stderr = Tessera::any_port()
        .env("TESSERA_LOGO_FILE", &missing)
        .fails(&["serve", "--dev"]);
    assert!(
        stderr.contains("`logo_file` (env TESSERA_LOGO_FILE): cannot read"),
        "{stderr}"
    );
    // A file that is not what its name says: an empty one, and text named .png.
    for (name, content) in [("empty.svg", ""), ("text.png", "hello")] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let stderr = Tessera::any_port()
            .env("TESSERA_LOGO_FILE", path.display().to_string())
            .fails(&["serve", "--dev"]);
        assert!(
            stderr.contains("its content does not start like one"),
            "{stderr}"
        );
    }
    let bmp = dir.path().join("logo.bmp");
    std::fs::write(&bmp, "BM").unwrap();
    let stderr = Tessera::any_port()
        .env("TESSERA_LOGO_FILE", bmp.display().to_string())
        .fails(&["serve", "--dev"]);
    assert!(stderr.contains("is not a .png, .svg"), "{stderr}");
    let config = dir.path().join("tessera.toml");
    std::fs::write(
        &config,
        "[scope_descriptions]\n\"orders:read\" = { \"no tag\" = \"See your orders\" }\n",
    )
    .unwrap();
    let path = config.display().to_string();
    let stderr = Tessera::any_port().fails(&["--config", &path, "serve", "--dev"]);
    assert!(
        stderr.contains(
            "(env TESSERA_SCOPE_DESCRIPTIONS): scope `orders:read`: `no tag` is not a language tag"
        ),
        "{stderr}"
    );
    // A scope key that is no scope, and a description of the wrong type.
    for (toml, says) in [
        ("\"orders read\" = \"x\"", "`orders read` is no scope"),
        (
            "\"orders:read\" = 5",
            "a text, or a table of language tag = text",
        ),
    ] {
        std::fs::write(&config, format!("[scope_descriptions]\n{toml}\n")).unwrap();
        let stderr = Tessera::any_port().fails(&["--config", &path, "serve", "--dev"]);
        assert!(stderr.contains(says), "{stderr}");
    }
}

#[tokio::test]
async fn the_passkey_script_url_carries_its_contents_version() {
    let app = TestApp::spawn_passkeys().await;
    let mut flow = app.spa_flow(false).await;
    let page = flow.browser.get(&flow.url).await;
    assert_eq!(page.status, 200);
    let script = app.get("/assets/passkey.js").await.text().await.unwrap();
    let tag = format!(
        r#"<script src="/assets/passkey.js?v={}" defer></script>"#,
        version(script.as_bytes())
    );
    let body = page.body.replace("&#x2f;", "/");
    assert!(body.contains(&tag), "{tag} not in {body}");
}
