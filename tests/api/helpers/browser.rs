//! The browser flow (OIDC Core §3.1, RFC 6749 §4.1, RFC 7636): a cookie-keeping browser, the
//! hosted sign-in and consent pages, PKCE, and the SPA client they are used with.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::{NewClient, TestApp};

/// The SPA client's registered redirect URI.
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// The SPA client's registered CORS origin.
pub const ORIGIN: &str = "http://127.0.0.1:9";
/// The SPA client's registered post-logout redirect URI.
pub const AFTER_LOGOUT: &str = "http://127.0.0.1:9/bye";

/// `raw` with the character references of the pages' HTML escaping decoded.
fn unescape(raw: &str) -> String {
    [
        ("&#x2f;", "/"),
        ("&#x27;", "'"),
        ("&quot;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(raw.to_owned(), |value, (reference, c)| {
        value.replace(reference, c)
    })
}

/// A browser: a cookie jar (by name) in front of the test server.
pub struct Browser {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    cookies: HashMap<String, String>,
}

/// A response as the browser saw it.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Page {
    /// The value of the HTML form field `name`.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        unescape(self.body[start..].split('"').next().unwrap())
    }

    /// The body with the character references the page's HTML escaping writes decoded, as a
    /// browser reads the text and attribute values.
    pub fn text(&self) -> String {
        unescape(&self.body)
    }

    /// The `<input id="{id}" ...>` tag of the page (panics without one).
    pub fn input(&self, id: &str) -> &str {
        let start = self
            .body
            .find(&format!("<input id=\"{id}\""))
            .unwrap_or_else(|| panic!("no input #{id} on the page: {}", self.body));
        let tag = &self.body[start..];
        &tag[..=tag.find('>').unwrap()]
    }

    pub fn location(&self) -> url::Url {
        url::Url::parse(self.headers["location"].to_str().unwrap()).unwrap()
    }

    /// The query parameters of the `Location`.
    pub fn query(&self) -> HashMap<String, String> {
        self.location().query_pairs().into_owned().collect()
    }

    /// The `Set-Cookie` line containing `name_part`.
    pub fn set_cookie(&self, name_part: &str) -> &str {
        self.set_cookies
            .iter()
            .find(|c| c.contains(name_part))
            .unwrap_or_else(|| panic!("no Set-Cookie for {name_part}: {:?}", self.set_cookies))
    }
}

impl Browser {
    /// Sends `req` with the browser's cookies and keeps the cookies the answer sets.
    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
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

    /// The value of the cookie whose name contains `name_part` (names carry a prefix).
    pub fn cookie(&self, name_part: &str) -> &str {
        let (_, value) = self
            .cookies
            .iter()
            .find(|(name, _)| name.contains(name_part))
            .unwrap_or_else(|| panic!("no cookie {name_part}: {:?}", self.cookies.keys()));
        value
    }

    /// Follows `page`'s redirect (relative or absolute).
    pub async fn follow(&mut self, page: &Page) -> Page {
        let location = page.headers["location"].to_str().unwrap();
        let url = if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location.to_owned()
        };
        self.get(&url).await
    }

    /// Signs `username` in through `GET /account` (tessera's own client); returns the account
    /// page.
    pub async fn account_sign_in(&mut self, username: &str, password: &str) -> Page {
        let start = self.get(&format!("{}/account", self.base)).await;
        assert_eq!(start.status, 302);
        assert!(start
            .location()
            .as_str()
            .contains("client_id=tessera-account"));
        let login = self.follow(&start).await;
        assert_eq!(login.status, 200);
        let back = self.submit_login(&login, username, password).await;
        assert_eq!(back.status, 303, "{}", back.body);
        assert_eq!(back.location().path(), "/account/callback");
        let done = self.follow(&back).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let page = self.follow(&done).await;
        assert_eq!(page.status, 200);
        page
    }

    /// `GET <url>` (absolute).
    pub async fn get(&mut self, url: &str) -> Page {
        let req = self.http.get(url);
        self.send(req).await
    }

    /// `GET /oauth2/authorize` with [`TestApp::authorize_url`]'s parameters.
    pub async fn get_authorize(
        &mut self,
        client: &str,
        challenge: &str,
        extra: &[(&str, &str)],
    ) -> Page {
        let url = authorize_url(&self.base, client, challenge, extra);
        self.get(&url).await
    }

    /// `POST /oauth2/authorize/login` with `form`.
    pub async fn post_login(&mut self, form: &[(&str, &str)]) -> Page {
        let req = self
            .http
            .post(format!("{}/oauth2/authorize/login", self.base))
            .form(form);
        self.send(req).await
    }

    /// Submits the sign-in form of `page` (its request id and CSRF token) with credentials.
    pub async fn submit_login(&mut self, page: &Page, username: &str, password: &str) -> Page {
        let (request_id, csrf) = (page.field("request_id"), page.field("csrf"));
        self.post_login(&[
            ("request_id", &request_id),
            ("csrf", &csrf),
            ("username", username),
            ("password", password),
        ])
        .await
    }

    /// Signs in through the hosted page; returns the redirect page (303 to the client).
    pub async fn sign_in(&mut self, url: &str, username: &str, password: &str) -> Page {
        let login = self.get(url).await;
        assert_eq!(login.status, 200, "{}", login.body);
        self.submit_login(&login, username, password).await
    }

    /// Answers the consent page `page` with `decision` (`allow` or `deny`).
    pub async fn submit_consent(&mut self, page: &Page, decision: &str) -> Page {
        let (request_id, csrf) = (page.field("request_id"), page.field("csrf"));
        let req = self
            .http
            .post(format!("{}/oauth2/authorize/consent", self.base))
            .form(&[
                ("request_id", request_id.as_str()),
                ("csrf", &csrf),
                ("decision", decision),
            ]);
        self.send(req).await
    }

    /// Submits the second-factor form of `page` with the TOTP code `otp`.
    pub async fn submit_second_factor(&mut self, page: &Page, otp: &str) -> Page {
        let (request_id, csrf) = (page.field("request_id"), page.field("csrf"));
        let req = self
            .http
            .post(format!("{}/oauth2/authorize/mfa", self.base))
            .form(&[
                ("request_id", request_id.as_str()),
                ("csrf", &csrf),
                ("otp", otp),
            ]);
        self.send(req).await
    }

    /// `POST /oauth2/logout` with `form` (the logout confirmation's answer).
    pub async fn post_logout(&mut self, form: &[(&str, &str)]) -> Page {
        let req = self
            .http
            .post(format!("{}/oauth2/logout", self.base))
            .form(form);
        self.send(req).await
    }

    /// `GET /oauth2/logout` (RP-Initiated Logout) with `params`.
    pub async fn get_logout(&mut self, params: &[(&str, &str)]) -> Page {
        let mut url = url::Url::parse(&format!("{}/oauth2/logout", self.base)).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        self.get(url.as_str()).await
    }
}

/// A PKCE (RFC 7636) verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

/// A fresh PKCE pair.
pub fn pkce() -> Pkce {
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

fn authorize_url(base: &str, client: &str, challenge: &str, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{base}/oauth2/authorize")).unwrap();
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

/// The cast of a browser sign-in: an SPA client, a user, a PKCE pair, a fresh browser and the
/// authorization URL ([`TestApp::authorize_url`] without extra parameters).
pub struct SpaFlow {
    pub client: String,
    pub username: String,
    pub password: String,
    pub sub: String,
    pub pkce: Pkce,
    pub browser: Browser,
    pub url: String,
}

impl SpaFlow {
    /// Signs the user in through the hosted page at [`SpaFlow::url`]; returns the redirect page.
    pub async fn sign_in(&mut self) -> Page {
        self.browser
            .sign_in(&self.url, &self.username, &self.password)
            .await
    }
}

impl TestApp {
    /// Registers an SPA client ([`TestApp::spa_client`]) and a user, and opens a browser.
    pub async fn spa_flow(&self, third_party: bool) -> SpaFlow {
        let client = self.spa_client(third_party).await;
        let (username, password, sub) = self.user().await;
        let pkce = pkce();
        let url = self.authorize_url(&client, &pkce.challenge, &[]);
        SpaFlow {
            client,
            username,
            password,
            sub,
            pkce,
            browser: self.browser(),
            url,
        }
    }

    /// A new browser with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        Browser {
            http: self.http.clone(),
            base: self.base.clone(),
            cookies: HashMap::new(),
        }
    }

    /// An authorization request of the SPA client: code flow to [`REDIRECT`], `openid email`,
    /// state `st-123`, nonce `n-456`, S256 `challenge`, plus `extra` parameters.
    pub fn authorize_url(&self, client: &str, challenge: &str, extra: &[(&str, &str)]) -> String {
        authorize_url(&self.base, client, challenge, extra)
    }

    /// A public SPA client (authorization code and refresh grants, `openid profile email`)
    /// registered with [`REDIRECT`], [`ORIGIN`] and [`AFTER_LOGOUT`].
    pub async fn spa_client(&self, third_party: bool) -> String {
        let client = NewClient::public(
            &["authorization_code", "refresh_token"],
            &["openid", "profile", "email"],
        )
        .id(super::unique("spa"))
        .browser(REDIRECT, ORIGIN, AFTER_LOGOUT)
        .third_party(third_party);
        self.register(client).await.0
    }

    /// Exchanges the code the redirect `page` carries (with `verifier`) and returns the tokens.
    pub async fn tokens_from(
        &self,
        client: &str,
        page: &Page,
        verifier: &str,
    ) -> serde_json::Value {
        let res = self.exchange(client, &page.query()["code"], verifier).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Exchanges a code for tokens at the token endpoint with [`REDIRECT`].
    pub async fn exchange(&self, client: &str, code: &str, verifier: &str) -> reqwest::Response {
        self.authorization_code_grant(client, code, REDIRECT, verifier)
            .await
    }
}
