//! Test harness: spawns the real server on a free port against the private Redis named by
//! `TESSERA_TEST_REDIS_URL` (started by `.ci/run`) or the in-memory store, and captures every log
//! line so tests can prove no secret is logged.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use tessera::config::{RawSettings, Settings};
use tessera::keys::KeySet;
use tessera::state::AppState;
use tessera::store::memory::MemoryStore;
use tessera::store::Store;
use tessera::Application;

/// Which store backend a test runs against.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Redis,
    /// The private 3-master Redis Cluster of `.ci/run`.
    Cluster,
    Memory,
}

/// The private Redis of this test run. Panics (fails the test) when it is not configured: a
/// test that silently skips would pass without proving anything.
pub fn redis_url() -> String {
    std::env::var("TESSERA_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("TESSERA_TEST_REDIS_URL is not set: run the tests with .ci/run, which starts a private Redis")
    })
}

/// Seed node URLs of the private Redis Cluster (`TESSERA_TEST_REDIS_CLUSTER_URLS`, comma
/// separated, started by `.ci/run`). Panics when unset, like [`redis_url`].
pub fn cluster_urls() -> String {
    std::env::var("TESSERA_TEST_REDIS_CLUSTER_URLS").unwrap_or_else(|_| {
        panic!("TESSERA_TEST_REDIS_CLUSTER_URLS is not set: run the tests with .ci/run, which starts a private Redis Cluster")
    })
}

/// Every log line written by any server in this test binary.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .json()
            .with_span_list(true)
            .with_env_filter("debug,h2=info,hyper=info,reqwest=info,redis=info")
            .with_writer(move || BufferWriter(writer.clone()))
            .try_init();
        buffer
    })
}

struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One key directory shared by every server of the test binary (RSA generation is slow).
pub fn keys_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        tessera::keys::generate_key(dir.path(), 2048).unwrap();
        dir
    })
    .path()
    .to_owned()
}

/// The data key of every test server: fixed, because all test runs against one Redis must
/// open the data-key check the first run sealed.
pub fn test_data_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(*b"tessera test data key, 32 bytes!")
}

/// A unique name for test data (usernames, client ids), so tests share one Redis safely.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A running server.
pub struct TestApp {
    pub base: String,
    pub settings: Settings,
    pub state: actix_web::web::Data<AppState>,
    pub http: reqwest::Client,
}

impl TestApp {
    /// Starts a server on Redis with default settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(Backend::Redis, |_| {}).await
    }

    /// Starts a server on `backend`, letting `tweak` adjust the raw settings first.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut RawSettings)) -> Self {
        log_buffer();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let mut raw = RawSettings {
            issuer: base.clone(),
            listen: format!("127.0.0.1:{port}"),
            keys_dir: keys_dir(),
            redis_url: match backend {
                Backend::Redis => Some(redis_url()),
                Backend::Cluster => Some(cluster_urls()),
                Backend::Memory => None,
            },
            redis_cluster: matches!(backend, Backend::Cluster),
            // Every test logs in from 127.0.0.1 against one Redis: the per-IP limit would make
            // tests interfere. The rate-limit tests switch it on for themselves.
            login_ip_limit_per_minute: 0,
            data_key: Some(test_data_key()),
            ..RawSettings::default()
        };
        tweak(&mut raw);
        let settings = raw.validate().unwrap();
        let store = match backend {
            Backend::Memory => Store::Memory(MemoryStore::new()),
            _ => tessera::open_store(&settings, false).await.unwrap(),
        };
        let keys = Arc::new(KeySet::load(&settings.keys_dir).unwrap());
        let app = Application::build_with_listener(settings.clone(), store, keys, listener)
            .await
            .unwrap();
        let state = app.state_handle();
        tokio::spawn(app.run());
        Self {
            base,
            settings,
            state,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a user with a unique name; returns (username, password, sub).
    pub async fn user(&self) -> (String, String, String) {
        let username = unique("user");
        let password = format!("pw-{}", uuid::Uuid::new_v4());
        let user = tessera::users::add_user(
            &self.state.store,
            &self.state.hasher,
            &username,
            Some(format!("{username}@example.test")),
            &password,
        )
        .await
        .unwrap();
        (username, password, user.sub)
    }

    /// Registers a client with a unique id; returns (client_id, secret for confidential).
    pub async fn client(
        &self,
        public: bool,
        grants: &[&str],
        scopes: &[&str],
    ) -> (String, Option<String>) {
        let id = unique("client");
        let registration = tessera::clients::Registration {
            client_id: id.clone(),
            public,
            policy: tessera::store::ClientPolicy {
                grant_types: grants.iter().map(|s| s.to_string()).collect(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
            ..Default::default()
        };
        let secret = tessera::clients::add_client(&self.state.store, registration)
            .await
            .unwrap();
        (id, secret)
    }

    /// A public client allowed the password and refresh grants with `openid profile email`.
    pub async fn public_client(&self) -> String {
        self.client(
            true,
            &["password", "refresh_token"],
            &["openid", "profile", "email", "offline_access"],
        )
        .await
        .0
    }

    /// POSTs a form to the token endpoint.
    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/token"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Password grant for a public client; returns the JSON body (asserting 200).
    pub async fn login(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> serde_json::Value {
        let res = self
            .token(&[
                ("grant_type", "password"),
                ("client_id", client_id),
                ("username", username),
                ("password", password),
            ])
            .await;
        assert_eq!(res.status(), 200, "login failed");
        res.json().await.unwrap()
    }
}

/// RFC 6749 §2.3.1: the `Authorization: Basic` value for `client_id` and `secret`, each
/// `application/x-www-form-urlencoded`-encoded before base64.
pub fn basic(client_id: &str, secret: &str) -> String {
    use base64::Engine;
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            encode(client_id),
            encode(secret)
        ))
    )
}

/// The claims of a JWT, decoded without verification (for tests that already verified it or
/// only need `sid`).
pub fn claims(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// A header value as a string ("" when absent).
pub fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// RFC 6749 §5.1/§5.2: token-endpoint responses, successes and errors, must not be cached.
pub fn assert_no_store(res: &reqwest::Response) {
    assert_eq!(header(res, "cache-control"), "no-store", "RFC 6749 §5.1");
    assert_eq!(header(res, "pragma"), "no-cache", "RFC 6749 §5.1");
    assert!(
        !header(res, "x-request-id").is_empty(),
        "every response carries x-request-id"
    );
}

/// Asserts an RFC 6749 §5.2 error response (`status`, `error` = `code`, a non-empty
/// `error_description`, JSON, no-store headers) and returns its raw body.
pub async fn expect_error(res: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(res.status().as_u16(), status, "status for `{code}`");
    assert_no_store(&res);
    // RFC 6749 §5.2: the parameters are in an application/json body.
    assert!(
        header(&res, "content-type").starts_with("application/json"),
        "error content type: {}",
        header(&res, "content-type")
    );
    let raw = res.text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["error"], code, "body: {raw}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "error_description missing: {raw}"
    );
    raw
}

impl TestApp {
    /// Refresh grant for a public client, optionally narrowing `scope`.
    pub async fn refresh(
        &self,
        client_id: &str,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token(&form).await
    }

    /// Refreshes and asserts 200; returns the body.
    pub async fn refresh_ok(&self, client_id: &str, refresh_token: &str) -> serde_json::Value {
        let res = self.refresh(client_id, refresh_token, None).await;
        assert_eq!(res.status(), 200, "refresh failed");
        assert_no_store(&res);
        res.json().await.unwrap()
    }

    /// Asserts that `refresh_token` is dead: 400 `invalid_grant` (RFC 6749 §5.2).
    pub async fn assert_refresh_dead(&self, client_id: &str, refresh_token: &str) {
        let res = self.refresh(client_id, refresh_token, None).await;
        expect_error(res, 400, "invalid_grant").await;
    }

    /// POSTs a form to the revocation endpoint.
    pub async fn revoke(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/revoke"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// `POST /account/logout-all` with `Authorization: <authorization>` when given.
    pub async fn logout_all(&self, authorization: Option<&str>) -> reqwest::Response {
        let mut req = self.http.post(self.url("/account/logout-all"));
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        req.send().await.unwrap()
    }
}

/// The refresh token of a token response.
pub fn refresh_token(body: &serde_json::Value) -> String {
    body["refresh_token"]
        .as_str()
        .expect("a refresh_token in the response")
        .to_owned()
}

/// The access token of a token response.
pub fn access_token(body: &serde_json::Value) -> String {
    body["access_token"]
        .as_str()
        .expect("an access_token in the response")
        .to_owned()
}
