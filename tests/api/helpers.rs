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
use tessera::store::redis::RedisStore;
use tessera::store::Store;
use tessera::Application;

/// Which store backend a test runs against.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Redis,
    Memory,
}

/// The private Redis of this test run. Panics (fails the test) when it is not configured: a
/// test that silently skips would pass without proving anything.
pub fn redis_url() -> String {
    std::env::var("TESSERA_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("TESSERA_TEST_REDIS_URL is not set: run the tests with .ci/run, which starts a private Redis")
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
            redis_url: matches!(backend, Backend::Redis).then(redis_url),
            ..RawSettings::default()
        };
        tweak(&mut raw);
        let settings = raw.validate().unwrap();
        let store = match backend {
            Backend::Redis => Store::Redis(
                RedisStore::connect(
                    settings.redis_url.as_deref().unwrap(),
                    std::time::Duration::from_millis(settings.redis_timeout_ms),
                )
                .await
                .unwrap(),
            ),
            Backend::Memory => Store::Memory(MemoryStore::new()),
        };
        let keys = Arc::new(KeySet::load(&settings.keys_dir).unwrap());
        let app =
            Application::build_with_listener(settings.clone(), store, keys, listener).unwrap();
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
        let secret = tessera::clients::add_client(
            &self.state.store,
            &id,
            public,
            grants.iter().map(|s| s.to_string()).collect(),
            scopes.iter().map(|s| s.to_string()).collect(),
            None,
        )
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
