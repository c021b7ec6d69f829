//! The test fixture of every integration test module: spawns the real server on a free port
//! against the private Redis named by `TESSERA_TEST_REDIS_URL` (started by `.ci/run`) or the
//! in-memory store, captures every log line so tests can prove no secret is logged, and offers
//! one method per endpoint, the browser flow, PKCE, TOTP codes and the common assertions.
//!
//! Every call into the `tessera` library made by the tests (other than the store contract)
//! lives in this module tree, so that an API change in `src/` is adapted here alone.

mod admin_users;
mod assertions;
mod backchannel;
mod browser;
mod device;
mod dpop;
mod endpoints;
mod mfa;
mod passkeys;
mod redis_server;
mod setup;

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use tessera::config::Settings;
use tessera::keys::KeySet;
use tessera::state::AppState;
use tessera::store::memory::MemoryStore;
use tessera::store::Store;
use tessera::Application;

pub use admin_users::bulk_user;
pub use assertions::{
    access_token, assert_bearer_challenge, assert_no_store, assert_rate_limited, basic, basic_raw,
    claims, expect_error, header, kid_of, password_form, refresh_token,
};
pub use backchannel::{Answer, Receiver};
pub use browser::{pkce, Page, SpaFlow, AFTER_LOGOUT, ORIGIN, REDIRECT};
pub use device::DEVICE_GRANT;
pub use dpop::{ath, DpopKey, Service};
pub use mfa::{now, pyotp, wrong_code, Totp};
pub use passkeys::Authenticator;
pub use redis_server::PrivateRedis;
pub use setup::{generate_key, generate_key_for, random_token, served_routes, NewClient, SCOPES};
pub use tessera::config::RawSettings;
pub use tessera::keys::TokenType;
pub use tessera::StartupError;

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

/// Runs `args` (a command and its arguments) on the private Redis of [`redis_url`]: for tests
/// that break or repair a record to make the store fail at one step.
pub async fn test_redis(args: &[&str]) {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query_async::<()>(&mut conn).await.unwrap();
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

/// One key directory shared by every server of the test binary (RSA generation is slow),
/// with a key of each algorithm (RS256, ES256, EdDSA).
pub fn keys_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        for alg in tessera::store::SigningAlg::ALL {
            generate_key_for(dir.path(), alg);
        }
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

/// A random address in 10.0.0.0/8, so tests never share an IP counter (as the client address
/// behind a trusted proxy).
pub fn fresh_ip() -> String {
    let n = uuid::Uuid::new_v4().as_u128();
    format!("10.{}.{}.{}", (n >> 16) as u8, (n >> 8) as u8, n as u8)
}

/// A free TCP port on 127.0.0.1 (bound once, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` every 100 ms for at most `limit`; panics with `what` if it never holds.
/// (A bounded wait for an asynchronous effect, not a timing assertion.)
pub async fn eventually<F, Fut>(limit: std::time::Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A running server.
pub struct TestApp {
    pub base: String,
    pub settings: Settings,
    state: actix_web::web::Data<AppState>,
    pub http: reqwest::Client,
    /// The task running the server and its back-channel delivery loop, and the server.
    task: tokio::task::AbortHandle,
    server: actix_web::dev::ServerHandle,
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
        Self::start(settings, store, listener).await
    }

    /// Starts a server on `settings` and `store`, listening on `listener`.
    async fn start(settings: Settings, store: Store, listener: TcpListener) -> Self {
        let base = format!("http://{}", listener.local_addr().unwrap());
        let keys = Arc::new(KeySet::load(&settings.keys_dir).unwrap());
        let app = Application::build_with_listener(settings.clone(), store, keys, listener)
            .await
            .unwrap();
        let state = app.state_handle();
        let server = app.server_handle();
        let task = tokio::spawn(app.run()).abort_handle();
        Self {
            base,
            settings,
            state,
            http: http_client()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            task,
            server,
        }
    }

    /// Another instance of this server: its settings (so its issuer) and store, another port.
    pub async fn sibling(&self) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        Self::start(self.settings.clone(), self.state.store.clone(), listener).await
    }

    /// Kills this instance: its task (server and back-channel delivery, mid-request or not)
    /// is aborted and its listener closed, as a crash would.
    pub async fn kill(&self) {
        self.task.abort();
        self.server.stop(false).await;
    }

    /// A second server on this one's settings and store, but with a freshly generated data
    /// key: start-up must refuse it.
    pub async fn start_with_another_data_key(&self) -> Result<Application, StartupError> {
        let mut settings = self.settings.clone();
        settings.data_key = Some(Arc::new(tessera::datakey::DataKey::generate()));
        self.start_with_settings(settings).await
    }

    /// A second server on `settings`, this one's store and the keys of `settings.keys_dir`:
    /// start-up's verdict.
    pub async fn start_with_settings(
        &self,
        settings: Settings,
    ) -> Result<Application, StartupError> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let keys = Arc::new(KeySet::load(&settings.keys_dir).unwrap());
        Application::build_with_listener(settings, self.state.store.clone(), keys, listener).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The configured issuer (`iss` of every token).
    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }
}

/// A reqwest client builder for the tests. reqwest is built with rustls and no default crypto
/// provider (as tessera's back-channel delivery is), so this installs the aws-lc-rs provider
/// first (once per process; later calls find it installed).
pub fn http_client() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
}
