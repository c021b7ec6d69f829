//! Validated settings: what the application reads, once checked.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Argon2id cost parameters (RFC 9106), validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Degree of parallelism (lanes).
    pub parallelism: u32,
}

/// Validated settings, the single source of configuration for the application.
#[derive(Clone)]
pub struct Settings {
    /// Canonical issuer URL exactly as configured (OIDC Discovery §3: compared byte for byte).
    pub issuer: String,
    /// Address to bind.
    pub listen: SocketAddr,
    /// Redis URL (`None` only with the in-memory store); seed nodes with `redis_cluster`.
    pub redis_url: Option<String>,
    /// Whether `redis_url` names Redis Cluster seed nodes.
    pub redis_cluster: bool,
    /// The Sentinel master name, when `redis_url` names Sentinels.
    pub redis_sentinel_master: Option<String>,
    /// Directory of PKCS#8 PEM private keys.
    pub keys_dir: PathBuf,
    /// Access- and ID-token lifetime, seconds.
    pub access_token_ttl: u64,
    /// Refresh-token lifetime, seconds.
    pub refresh_token_ttl: u64,
    /// Default access-token audience.
    pub audience: String,
    /// JWKS `max-age`, seconds.
    pub jwks_max_age: u64,
    /// Password hashing cost.
    pub argon2: Argon2Params,
    /// Concurrent Argon2 computations.
    pub hash_concurrency: usize,
    /// Redis connect/command timeout, milliseconds.
    pub redis_timeout_ms: u64,
    /// In-process client cache lifetime, seconds.
    pub client_cache_ttl: u64,
    /// Log filter.
    pub log_level: String,
    /// Clients declared in the config file.
    pub clients: Vec<crate::store::Client>,
    /// Login limits.
    pub login: crate::ratelimit::LoginPolicy,
    /// Proxies whose forwarding headers name the client IP.
    pub trusted_proxies: crate::ratelimit::TrustedProxies,
    /// Password checks that may wait for a hashing slot.
    pub hash_queue_limit: usize,
    /// The data key, when configured (`--dev` generates one).
    pub data_key: Option<std::sync::Arc<crate::datakey::DataKey>>,
    /// TOTP issuer label.
    pub totp_issuer: String,
    /// Key rotation timing.
    pub rotation: crate::keys::rotation::RotationPolicy,
    /// Bearer token protecting `/metrics`.
    pub metrics_token: Option<String>,
    /// `Secure` + `__Host-` cookies.
    pub cookie_secure: bool,
    /// Browser login session lifetime, seconds.
    pub login_session_ttl: u64,
    /// Authorization code lifetime, seconds.
    pub authorization_code_ttl: u64,
}

/// Shows where the server listens and what it is, never the data key, the metrics token or
/// client secrets.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("issuer", &self.issuer)
            .field("listen", &self.listen)
            .field("keys_dir", &self.keys_dir)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// The absolute URL of one of our endpoints: the issuer (without a trailing slash) + `path`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer.trim_end_matches('/'))
    }
}
