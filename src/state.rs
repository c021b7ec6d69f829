//! The one application state shared by every handler (passed as `web::Data`; no globals).

use std::sync::Arc;
use std::time::Duration;

use crate::clients::ClientRegistry;
use crate::config::Settings;
use crate::credentials::PasswordHasher;
use crate::datakey::DataKey;
use crate::keys::KeySet;
use crate::ratelimit::Limiter;
use crate::store::Store;
use crate::telemetry::Metrics;
use crate::tokens::TokenIssuer;

/// Everything a request may need.
pub struct AppState {
    /// Validated configuration.
    pub settings: Settings,
    /// Persistence backend.
    pub store: Store,
    /// Client lookups (cached).
    pub clients: ClientRegistry,
    /// Argon2id pool.
    pub hasher: PasswordHasher,
    /// Access-token signing and verification.
    pub tokens: TokenIssuer,
    /// Login limits.
    pub limiter: Limiter,
    /// Seals TOTP secrets.
    pub data_key: Arc<DataKey>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The hosted pages' templates and words.
    pub ui: crate::ui::Ui,
    /// Random per-process prefix of request ids.
    instance: String,
    /// Requests seen, for request ids.
    requests: std::sync::atomic::AtomicU64,
}

impl AppState {
    /// Assembles the state from its parts.
    pub fn new(
        settings: Settings,
        store: Store,
        keys: Arc<arc_swap::ArcSwap<KeySet>>,
        hasher: PasswordHasher,
        data_key: Arc<DataKey>,
        metrics: Metrics,
        ui: crate::ui::Ui,
    ) -> Self {
        Self {
            instance: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            requests: std::sync::atomic::AtomicU64::new(0),
            data_key,
            clients: ClientRegistry::new(
                store.clone(),
                Duration::from_secs(settings.client_cache_ttl),
                settings.clients.clone(),
            ),
            tokens: TokenIssuer::new(
                keys,
                settings.issuer.clone(),
                settings.access_token_ttl,
                settings.signing_algs,
            ),
            limiter: Limiter::new(
                store.clone(),
                settings.login.clone(),
                metrics.rate_limited.clone(),
            ),
            hasher: hasher.with_wait_metric(metrics.hash_wait.clone()),
            metrics,
            ui,
            settings,
            store,
        }
    }

    /// A request id unique across instances: the random per-process prefix and a counter (no
    /// system call per request, unlike a random UUID).
    pub fn next_request_id(&self) -> String {
        let n = self
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{}-{n:x}", self.instance)
    }
}
