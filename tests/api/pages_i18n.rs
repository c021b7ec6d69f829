//! The hosted pages' languages and templates (`crate::ui`): the language follows `ui_locales`
//! (OIDC Core §3.1.2.1), then `Accept-Language`, then English; operators add catalogues and
//! replace templates, and a broken template stops start-up with its file and line.

use serde_json::Value;

use crate::cli::Tessera;
use crate::helpers::{http_client, pkce, Backend, TestApp};

/// The login page of a fresh authorization request, asked with `accept_language`.
async fn login_page(
    app: &TestApp,
    extra: &[(&str, &str)],
    accept_language: &str,
) -> (reqwest::StatusCode, Option<String>, String) {
    let client = app.spa_client(false).await;
    let url = app.authorize_url(&client, &pkce().challenge, extra);
    let res = http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .header("accept-language", accept_language)
        .send()
        .await
        .unwrap();
    let language = res
        .headers()
        .get("content-language")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status(), language, res.text().await.unwrap())
}

#[tokio::test]
async fn the_page_speaks_the_browsers_language_and_falls_back_to_english() {
    let app = TestApp::spawn_with(Backend::Memory, |_| {}).await;
    let (status, language, body) = login_page(&app, &[], "de-AT, en;q=0.5").await;
    assert_eq!(status, 200);
    assert_eq!(language.as_deref(), Some("de"));
    assert!(body.contains("<html lang=\"de\">"), "{body}");
    assert!(body.contains("<label for=\"password\">Passwort</label>"));
    // A language the catalogue lacks: the next one asked for, then English.
    let (_, language, body) = login_page(&app, &[], "xx-YY, tlh").await;
    assert_eq!(language.as_deref(), Some("en"));
    assert!(body.contains("<html lang=\"en\">"));
    assert!(body.contains("<label for=\"password\">Password</label>"));
    let (_, language, _) = login_page(&app, &[], "not a header;;q=").await;
    assert_eq!(language.as_deref(), Some("en"));
}

#[tokio::test]
async fn ui_locales_comes_before_accept_language_and_is_in_discovery() {
    let app = TestApp::spawn_with(Backend::Memory, |_| {}).await;
    let (_, language, body) = login_page(&app, &[("ui_locales", "fr de")], "en").await;
    assert_eq!(language.as_deref(), Some("de"));
    assert!(body.contains("Anmelden"), "{body}");
    let metadata: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata["ui_locales_supported"],
        serde_json::json!(["en", "de"])
    );
}

#[tokio::test]
async fn operators_replace_templates_and_add_languages() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("message.html"),
        "{% extends \"base.html\" %}{% block content %}<p id=\"brand\">ACME: {{ t(message) }}</p>{% endblock %}",
    )
    .unwrap();
    let french = dir.path().join("locales/fr");
    std::fs::create_dir_all(&french).unwrap();
    std::fs::write(
        french.join("pages.ftl"),
        "login-title = Connexion\nerror-unknown-client = L'application n'est pas enregistrée.\n",
    )
    .unwrap();
    let (t, l) = (templates.clone(), dir.path().join("locales"));
    let app = TestApp::spawn_with(Backend::Memory, move |raw| {
        raw.templates_dir = Some(t);
        raw.locales_dir = Some(l);
    })
    .await;
    let (_, language, body) = login_page(&app, &[], "fr").await;
    assert_eq!(language.as_deref(), Some("fr"));
    assert!(body.contains("<h1>Connexion</h1>"), "{body}");
    // Words the French catalogue lacks come from English.
    assert!(body.contains("<label for=\"password\">Password</label>"));
    // The replaced message page, in French.
    let res = http_client()
        .build()
        .unwrap()
        .get(format!("{}/oauth2/authorize?client_id=nobody", app.base))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("<p id=\"brand\">ACME: L&#x27;application n&#x27;est pas enregistrée.</p>"),
        "{body}"
    );
    let metadata: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata["ui_locales_supported"],
        serde_json::json!(["en", "de", "fr"])
    );
}

#[test]
fn a_broken_template_or_catalogue_stops_start_up_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("login.html"),
        "{% extends \"base.html\" %}\n{% block content %}\n{% if %}broken{% endif %}\n{% endblock %}\n",
    )
    .unwrap();
    let dir_arg = templates.display().to_string();
    let stderr = Tessera::any_port()
        .env("TESSERA_TEMPLATES_DIR", &dir_arg)
        .fails(&["serve", "--dev"]);
    assert!(stderr.contains("login.html, line 3"), "{stderr}");

    std::fs::remove_file(templates.join("login.html")).unwrap();
    std::fs::write(templates.join("logn.html"), "typo").unwrap();
    let stderr = Tessera::any_port()
        .env("TESSERA_TEMPLATES_DIR", &dir_arg)
        .fails(&["serve", "--dev"]);
    assert!(
        stderr.contains("logn.html overrides no template"),
        "{stderr}"
    );

    let locales = dir.path().join("locales/fr");
    std::fs::create_dir_all(&locales).unwrap();
    std::fs::write(
        locales.join("pages.ftl"),
        "login-title = Connexion\n\n= oops\n",
    )
    .unwrap();
    let stderr = Tessera::any_port()
        .env(
            "TESSERA_LOCALES_DIR",
            dir.path().join("locales").display().to_string(),
        )
        .fails(&["serve", "--dev"]);
    assert!(stderr.contains("pages.ftl, line 3"), "{stderr}");
}
