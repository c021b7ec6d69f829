//! tessera: a small, fast OAuth 2 / OpenID Connect token issuer.
//!
//! [`Application::build`] assembles the server from validated [`config::Settings`]; the binary
//! (`src/main.rs`) and the integration tests both use it.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod account;
pub mod acr;
pub mod backchannel;
pub mod client_policy_check;
pub mod clients;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod datakey;
pub mod device;
pub mod dpop;
pub mod error;
pub mod grants;
pub mod http;
pub mod keys;
#[cfg(test)]
mod layers;
pub mod mfa;
pub mod passkeys;
pub mod ratelimit;
pub mod secret;
pub mod session_list;
pub mod sessions;
pub mod signin;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tokens;
pub mod ui;
pub mod users;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};

use crate::config::Settings;
use crate::credentials::PasswordHasher;
use crate::keys::KeySet;
use crate::state::AppState;
use crate::store::memory::MemoryStore;
use crate::store::redis::RedisStore;
use crate::store::Store;

/// Errors assembling the application.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    /// The store could not be reached.
    #[error("{0}")]
    Store(#[from] error::StoreError),
    /// Hashing parameters are invalid.
    #[error(transparent)]
    Hash(#[from] credentials::HashError),
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No data key and not `--dev`.
    #[error("no data key configured: set TESSERA_DATA_KEY to 32 random bytes in standard base64 (e.g. `openssl rand -base64 32`), or run `tessera serve --dev`")]
    NoDataKey,
    /// The data key does not open what an earlier start sealed.
    #[error(transparent)]
    DataKey(#[from] datakey::DataKeyError),
    /// The back-channel logout client could not be built.
    #[error(transparent)]
    Delivery(#[from] backchannel::DeliveryError),
    /// A page template or catalogue does not load (its file and line are named).
    #[error(transparent)]
    Pages(#[from] ui::UiError),
    /// No Redis URL and not `--dev`.
    #[error("no Redis URL configured: set TESSERA_REDIS_URL (or `redis_url` in the config file); or use `tessera serve --dev` (an in-memory store inside that process: its clients come from [[clients]] in a config file, not from `tessera client add`)")]
    NoRedis,
}

/// Opens the store named by `settings`: Redis when `redis_url` is set, the in-memory store only
/// when `dev` allows it.
///
/// # Errors
/// [`StartupError::NoRedis`] without a URL outside dev; [`StartupError::Store`] when Redis
/// cannot be reached.
pub async fn open_store(settings: &Settings, dev: bool) -> Result<Store, StartupError> {
    match (&settings.store.url, dev) {
        (_, true) => Ok(Store::Memory(MemoryStore::new())),
        (Some(url), false) => {
            let timeout = Duration::from_millis(settings.store.timeout_ms);
            let nodes: Vec<&str> = url.split(',').map(str::trim).collect();
            let store = match (&settings.store.sentinel_master, settings.store.cluster) {
                (Some(master), _) => RedisStore::connect_sentinel(&nodes, master, timeout).await?,
                (None, true) => RedisStore::connect_cluster(&nodes, timeout).await?,
                (None, false) => RedisStore::connect(url, timeout).await?,
            };
            Ok(Store::Redis(store.for_issuer(&settings.issuer)))
        }
        (None, false) => Err(StartupError::NoRedis),
    }
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    delivery: backchannel::Delivery,
}

impl Application {
    /// Binds `settings.listen` and assembles the app over `store` with `keys`.
    ///
    /// # Errors
    /// [`StartupError`] for a missing or wrong data key, hashing parameters or bind failures.
    pub async fn build(
        settings: Settings,
        store: Store,
        keys: Arc<KeySet>,
    ) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(settings.listen).map_err(|source| StartupError::Bind {
            addr: settings.listen.to_string(),
            source,
        })?;
        Self::build_with_listener(settings, store, keys, listener).await
    }

    /// As [`Application::build`] on an already bound `listener` (tests bind port 0 first so the
    /// issuer URL can name the real port). Checks the data key against the store.
    ///
    /// # Errors
    /// [`StartupError`] for a missing or wrong data key, hashing parameters or listener failures;
    /// [`StartupError::Keys`] when a configured signing algorithm has no key.
    pub async fn build_with_listener(
        settings: Settings,
        store: Store,
        keys: Arc<KeySet>,
        listener: TcpListener,
    ) -> Result<Self, StartupError> {
        let data_key = settings.data_key.clone().ok_or(StartupError::NoDataKey)?;
        data_key.check(&store).await??;
        let hasher = PasswordHasher::new(
            settings.hashing.argon2,
            settings.hashing.concurrency,
            settings.hashing.queue_limit,
        )?;
        // An algorithm configured (server default or a declared client's) must have a key.
        keys.require(settings.signing_algs.access)?;
        keys.require(settings.signing_algs.id)?;
        for client in &settings.clients {
            clients::check_signing_keys(&client.policy, &keys)?;
        }
        let ui = ui::Ui::load(&settings.pages)?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let keys = Arc::new(arc_swap::ArcSwap::new(keys));
        keys::rotation::spawn_refresher(
            store.clone(),
            settings.keys_dir.clone(),
            settings.rotation,
            keys.clone(),
        );
        let metrics = telemetry::Metrics::new(store.error_counter())
            .map_err(|e| StartupError::Store(error::StoreError(e.to_string())))?;
        let mut settings = settings;
        // The account page is tessera's own client (see `account`).
        settings.clients.extend(account::client(&settings));
        let state = web::Data::new(AppState::new(
            settings, store, keys, hasher, data_key, metrics, ui,
        ));
        let delivery = backchannel::Delivery::new(state.clone().into_inner())?;
        let app_state = state.clone();
        let connections = http::ConnectionLimit::new(state.settings.connections.max_per_ip);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap_fn(http::render_pages)
                .wrap_fn(http::admin_no_store)
                .wrap_fn(http::body_deadline)
                .wrap_fn(http::with_request_id)
                .configure(http::configure)
        })
        .on_connect(move |io, extensions| connections.on_connect(io, extensions))
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: "listener".into(),
            source,
        })?
        .shutdown_timeout(10)
        .run();
        Ok(Self {
            port,
            server,
            state,
            delivery,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (for seeding in `--dev` and tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A handle on the shared state that outlives [`Application::run`].
    pub fn state_handle(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// A handle that stops the HTTP server.
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Runs until stopped (SIGINT/SIGTERM finish in-flight requests first), delivering
    /// back-channel logout notices meanwhile ([`backchannel`]); the delivery loop ends with it.
    ///
    /// # Errors
    /// I/O errors of the server.
    pub async fn run(self) -> std::io::Result<()> {
        tokio::select! {
            result = self.server => result,
            () = self.delivery.run() => Ok(()),
        }
    }
}
