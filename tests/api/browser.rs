//! Browser sign-in over HTTP (OIDC Core §3.1, RFC 6749 §4.1, RFC 7636, RP-Initiated Logout):
//! redirect URI rules, PKCE, code reuse and expiry, CSRF, `state`, cookie flags, CORS.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{claims, unique, Backend, TestApp};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const ORIGIN: &str = "http://127.0.0.1:9";
const AFTER_LOGOUT: &str = "http://127.0.0.1:9/bye";

/// A browser: a cookie jar (by name) and the last response's details.
#[derive(Default)]
struct Browser {
    cookies: HashMap<String, String>,
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    set_cookies: Vec<String>,
    body: String,
}

impl Page {
    fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }

    fn location(&self) -> url::Url {
        url::Url::parse(self.headers["location"].to_str().unwrap()).unwrap()
    }

    fn query(&self) -> HashMap<String, String> {
        self.location().query_pairs().into_owned().collect()
    }

    fn set_cookie(&self, name_part: &str) -> &str {
        self.set_cookies
            .iter()
            .find(|c| c.contains(name_part))
            .unwrap_or_else(|| panic!("no Set-Cookie for {name_part}: {:?}", self.set_cookies))
    }
}

impl Browser {
    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookie_header: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = if cookie_header.is_empty() {
            req
        } else {
            req.header("cookie", cookie_header.join("; "))
        };
        let res = req.send().await.unwrap();
        let set_cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &set_cookies {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            set_cookies,
            body: res.text().await.unwrap(),
        }
    }
}

struct Pkce {
    verifier: String,
    challenge: String,
}

fn pkce() -> Pkce {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

async fn spa_client(app: &TestApp, third_party: bool) -> String {
    let id = unique("spa");
    tessera::clients::add_client(
        &app.state.store,
        tessera::clients::Registration {
            client_id: id.clone(),
            public: true,
            policy: tessera::store::ClientPolicy {
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                scopes: vec!["openid".into(), "profile".into(), "email".into()],
                redirect_uris: vec![REDIRECT.into()],
                allowed_origins: vec![ORIGIN.into()],
                post_logout_redirect_uris: vec![AFTER_LOGOUT.into()],
                third_party,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .unwrap();
    id
}

fn authorize_url(app: &TestApp, client: &str, challenge: &str, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&app.url("/oauth2/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "openid email")
        .append_pair("state", "st-123")
        .append_pair("nonce", "n-456")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    for (k, v) in extra {
        url.query_pairs_mut().append_pair(k, v);
    }
    url.to_string()
}

/// Signs in through the hosted page; returns the redirect page (303 to the client).
async fn sign_in(
    app: &TestApp,
    browser: &mut Browser,
    url: &str,
    username: &str,
    password: &str,
) -> Page {
    let login = browser.send(app.http.get(url)).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let form = [
        ("request_id", login.field("request_id")),
        ("csrf", login.field("csrf")),
        ("username", username.to_owned()),
        ("password", password.to_owned()),
    ];
    browser
        .send(
            app.http
                .post(app.url("/oauth2/authorize/login"))
                .form(&form),
        )
        .await
}

async fn exchange(app: &TestApp, client: &str, code: &str, verifier: &str) -> reqwest::Response {
    app.token(&[
        ("grant_type", "authorization_code"),
        ("client_id", client),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ])
    .await
}

#[tokio::test]
async fn code_flow_with_pkce_session_cookie_and_headers() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app, false).await;
    let (username, password, sub) = app.user().await;
    let p = pkce();
    let mut browser = Browser::default();
    let url = authorize_url(&app, &client, &p.challenge, &[]);

    let login = browser.send(app.http.get(&url)).await;
    assert_eq!(login.status, 200);
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert_eq!(login.headers["referrer-policy"], "no-referrer");
    assert!(login
        .body
        .contains(r#"<label for="username">Username</label>"#));
    let csrf_cookie = login.set_cookie("tessera-csrf");
    assert!(
        csrf_cookie.starts_with("__Host-tessera-csrf="),
        "{csrf_cookie}"
    );
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("Secure"));

    let form = [
        ("request_id", login.field("request_id")),
        ("csrf", login.field("csrf")),
        ("username", username.clone()),
        ("password", password.clone()),
    ];
    let done = browser
        .send(
            app.http
                .post(app.url("/oauth2/authorize/login"))
                .form(&form),
        )
        .await;
    assert_eq!(done.status, 303);
    assert!(done.headers["location"]
        .to_str()
        .unwrap()
        .starts_with(REDIRECT));
    let query = done.query();
    assert_eq!(query["state"], "st-123");
    assert_eq!(query["iss"], app.settings.issuer);
    // The brief's cookie flags: HttpOnly, Secure, SameSite=Lax, __Host- prefix.
    let session = done.set_cookie("tessera-session");
    assert!(session.starts_with("__Host-tessera-session="), "{session}");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(flag), "{flag} in {session}");
    }

    let res = exchange(&app, &client, &query["code"], &p.verifier).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["sub"], sub.as_str());
    assert_eq!(id["aud"], client.as_str());
    assert!(
        tokens["refresh_token"].is_string(),
        "public clients get rotating refresh tokens"
    );

    // A second authorization skips the password thanks to the session.
    let again = browser
        .send(
            app.http
                .get(authorize_url(&app, &client, &p.challenge, &[])),
        )
        .await;
    assert_eq!(again.status, 302);
    assert!(again.query().contains_key("code"));
    // prompt=login forces the password again.
    let forced = browser
        .send(app.http.get(authorize_url(
            &app,
            &client,
            &p.challenge,
            &[("prompt", "login")],
        )))
        .await;
    assert_eq!(forced.status, 200);
    assert!(forced.body.contains("name=\"password\""));
    // So does a max_age the session is older than.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let aged = browser
        .send(app.http.get(authorize_url(
            &app,
            &client,
            &p.challenge,
            &[("max_age", "0")],
        )))
        .await;
    assert_eq!(aged.status, 200);
}

#[tokio::test]
async fn unknown_clients_and_unregistered_redirects_are_never_redirected() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app, false).await;
    let p = pkce();
    let mut browser = Browser::default();
    let url = authorize_url(&app, &unique("nobody"), &p.challenge, &[]);
    let page = browser.send(app.http.get(url)).await;
    assert_eq!(page.status, 400);
    assert!(!page.headers.contains_key("location"));
    let url = authorize_url(&app, &client, &p.challenge, &[]).replace("%2Fcallback", "%2Fevil");
    let page = browser.send(app.http.get(url)).await;
    assert_eq!(page.status, 400);
    assert!(!page.headers.contains_key("location"));
}

#[tokio::test]
async fn pkce_is_required_with_s256_and_checked() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app, false).await;
    let (username, password, _) = app.user().await;
    let p = pkce();
    let mut browser = Browser::default();
    // Missing challenge, and plain: errors go back to the client with state (RFC 6749 §4.1.2.1).
    let no_pkce = authorize_url(&app, &client, &p.challenge, &[])
        .replace(&format!("code_challenge={}", p.challenge), "x=1");
    let page = browser.send(app.http.get(no_pkce)).await;
    assert_eq!(page.status, 302);
    assert_eq!(page.query()["error"], "invalid_request");
    assert_eq!(page.query()["state"], "st-123");
    let plain =
        authorize_url(&app, &client, &p.challenge, &[]).replace("method=S256", "method=plain");
    let page = browser.send(app.http.get(plain)).await;
    assert_eq!(page.query()["error"], "invalid_request");
    let token_response = authorize_url(&app, &client, &p.challenge, &[])
        .replace("response_type=code", "response_type=token");
    let page = browser.send(app.http.get(token_response)).await;
    assert_eq!(page.query()["error"], "unsupported_response_type");

    let done = sign_in(
        &app,
        &mut browser,
        &authorize_url(&app, &client, &p.challenge, &[]),
        &username,
        &password,
    )
    .await;
    let code = done.query()["code"].clone();
    // A wrong verifier or redirect URI fails without burning the code.
    let wrong = pkce();
    let res = exchange(&app, &client, &code, &wrong.verifier).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let res = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &p.verifier),
        ])
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        exchange(&app, &client, &code, &p.verifier).await.status(),
        200
    );
}

#[tokio::test]
async fn a_reused_code_revokes_what_it_issued_and_codes_expire() {
    let app = TestApp::spawn_with(Backend::Redis, |raw| raw.authorization_code_ttl = 1).await;
    let client = spa_client(&app, false).await;
    let (username, password, _) = app.user().await;
    let p = pkce();
    let mut browser = Browser::default();
    let done = sign_in(
        &app,
        &mut browser,
        &authorize_url(&app, &client, &p.challenge, &[]),
        &username,
        &password,
    )
    .await;
    let code = done.query()["code"].clone();
    let first: Value = exchange(&app, &client, &code, &p.verifier)
        .await
        .json()
        .await
        .unwrap();
    let res = exchange(&app, &client, &code, &p.verifier).await;
    assert_eq!(res.status(), 400);
    // RFC 6749 §4.1.2: the tokens of the first use are revoked.
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(res.status(), 400);

    let again = browser
        .send(
            app.http
                .get(authorize_url(&app, &client, &p.challenge, &[])),
        )
        .await;
    let code = again.query()["code"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        exchange(&app, &client, &code, &p.verifier).await.status(),
        400,
        "expired code"
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app, false).await;
    let (username, password, _) = app.user().await;
    let p = pkce();
    let mut browser = Browser::default();
    let login = browser
        .send(
            app.http
                .get(authorize_url(&app, &client, &p.challenge, &[])),
        )
        .await;
    let request_id = login.field("request_id");
    for csrf in ["", "forged"] {
        let form = [
            ("request_id", request_id.as_str()),
            ("csrf", csrf),
            ("username", &username),
            ("password", &password),
        ];
        let page = browser
            .send(
                app.http
                    .post(app.url("/oauth2/authorize/login"))
                    .form(&form),
            )
            .await;
        assert_eq!(page.status, 403);
        assert!(!page.headers.contains_key("location"));
    }
    // The right form token without the cookie (another browser) is refused too.
    let mut other = Browser::default();
    let form = [
        ("request_id", request_id.clone()),
        ("csrf", login.field("csrf")),
        ("username", username),
        ("password", password),
    ];
    let page = other
        .send(
            app.http
                .post(app.url("/oauth2/authorize/login"))
                .form(&form),
        )
        .await;
    assert_eq!(page.status, 403);
}

#[tokio::test]
async fn third_party_clients_ask_for_consent() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app, true).await;
    let (username, password, _) = app.user().await;
    let p = pkce();
    let mut browser = Browser::default();
    let consent = sign_in(
        &app,
        &mut browser,
        &authorize_url(&app, &client, &p.challenge, &[]),
        &username,
        &password,
    )
    .await;
    assert_eq!(consent.status, 200);
    assert!(consent.body.contains("Allow access?") && consent.body.contains("<li>email</li>"));
    let form = [
        ("request_id", consent.field("request_id")),
        ("csrf", consent.field("csrf")),
        ("decision", "deny".into()),
    ];
    let denied = browser
        .send(
            app.http
                .post(app.url("/oauth2/authorize/consent"))
                .form(&form),
        )
        .await;
    assert_eq!(denied.status, 303);
    assert_eq!(denied.query()["error"], "access_denied");
    assert_eq!(denied.query()["state"], "st-123");

    let consent = browser
        .send(
            app.http
                .get(authorize_url(&app, &client, &p.challenge, &[])),
        )
        .await;
    let form = [
        ("request_id", consent.field("request_id")),
        ("csrf", consent.field("csrf")),
        ("decision", "allow".into()),
    ];
    let allowed = browser
        .send(
            app.http
                .post(app.url("/oauth2/authorize/consent"))
                .form(&form),
        )
        .await;
    assert_eq!(allowed.status, 303);
    assert!(allowed.query().contains_key("code"));
    // Remembered for the session.
    let again = browser
        .send(
            app.http
                .get(authorize_url(&app, &client, &p.challenge, &[])),
        )
        .await;
    assert_eq!(again.status, 302);
}

#[tokio::test]
async fn rp_initiated_logout_ends_the_session_and_revokes_its_tokens() {
    let app = TestApp::spawn().await;
    let client = spa_client(&app, false).await;
    let (username, password, _) = app.user().await;
    let p = pkce();
    let mut browser = Browser::default();
    let done = sign_in(
        &app,
        &mut browser,
        &authorize_url(&app, &client, &p.challenge, &[]),
        &username,
        &password,
    )
    .await;
    let tokens: Value = exchange(&app, &client, &done.query()["code"], &p.verifier)
        .await
        .json()
        .await
        .unwrap();

    // An unregistered post-logout URI is not followed.
    let mut logout = url::Url::parse(&app.url("/oauth2/logout")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap())
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9/elsewhere");
    let page = browser.send(app.http.get(logout.as_str())).await;
    assert_eq!(page.status, 400);
    assert!(!page.headers.contains_key("location"));

    let mut logout = url::Url::parse(&app.url("/oauth2/logout")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap())
        .append_pair("post_logout_redirect_uri", AFTER_LOGOUT)
        .append_pair("state", "bye-1");
    let page = browser.send(app.http.get(logout.as_str())).await;
    assert_eq!(page.status, 302);
    assert!(page.headers["location"]
        .to_str()
        .unwrap()
        .starts_with(AFTER_LOGOUT));
    assert_eq!(page.query()["state"], "bye-1");
    // The session's refresh family is revoked and the next authorization asks for the password.
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(res.status(), 400);
    let login = browser
        .send(
            app.http
                .get(authorize_url(&app, &client, &p.challenge, &[])),
        )
        .await;
    assert_eq!(login.status, 200);
}

#[tokio::test]
async fn cors_answers_registered_origins_only() {
    let app = TestApp::spawn().await;
    let _client = spa_client(&app, false).await;
    let preflight = |origin: &'static str, path: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    for path in ["/oauth2/token", "/oauth2/revoke", "/oauth2/userinfo"] {
        let res = preflight(ORIGIN, path).await.unwrap();
        assert_eq!(res.status(), 204, "{path}");
        assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
        assert!(res.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST"));
        let res = preflight("http://127.0.0.1:10", path).await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
        assert!(!res.headers().contains_key("access-control-allow-origin"));
    }
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header("origin", ORIGIN)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header("origin", "http://127.0.0.1:10")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}
