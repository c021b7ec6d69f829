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

/// Where the store is: Redis standalone, Cluster or Sentinel (`url: None` only with `--dev`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// Redis URL; with `cluster`, comma-separated seed nodes; with `sentinel_master`, Sentinels.
    pub url: Option<String>,
    /// Whether `url` names Redis Cluster seed nodes.
    pub cluster: bool,
    /// The Sentinel master name, when `url` names Sentinels.
    pub sentinel_master: Option<String>,
    /// Connect and command timeout, milliseconds.
    pub timeout_ms: u64,
}

/// Password hashing: the Argon2id cost and the bounded pool it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingSettings {
    /// Argon2id cost parameters.
    pub argon2: Argon2Params,
    /// Concurrent Argon2 computations.
    pub concurrency: usize,
    /// Password checks that may wait for a hashing slot.
    pub queue_limit: usize,
}

/// Connection and request-body limits against slow or many-connection clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// Milliseconds a request body may take to arrive, from the end of its headers.
    pub body_timeout_ms: u64,
    /// Open connections per TCP peer address; 0: no limit.
    pub max_per_ip: u32,
}

/// Back-channel logout delivery: how long a notice is retried, and the timeout of one POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackchannelSettings {
    /// Seconds from the session's end during which a failed notice is retried.
    pub retry_for: u64,
    /// Seconds one POST may take.
    pub timeout: u64,
}

/// Validated settings, the single source of configuration for the application, grouped by
/// concern (the raw layers in [`super::RawSettings`] follow the file's order instead).
#[derive(Clone)]
pub struct Settings {
    /// Canonical issuer URL exactly as configured (OIDC Discovery §3: compared byte for byte).
    pub issuer: String,
    /// Address to bind.
    pub listen: SocketAddr,
    /// Log filter.
    pub log_level: String,
    /// The store.
    pub store: StoreSettings,
    /// Password hashing.
    pub hashing: HashingSettings,
    /// Login limits.
    pub login: crate::ratelimit::LoginPolicy,
    /// Proxies whose forwarding headers name the client IP.
    pub trusted_proxies: crate::ratelimit::TrustedProxies,
    /// Default access-token audience.
    pub audience: String,
    /// Access- and ID-token lifetime, seconds.
    pub access_token_ttl: u64,
    /// Default signing algorithms of access and ID tokens.
    pub signing_algs: crate::tokens::DefaultAlgs,
    /// Refresh-token lifetime, seconds.
    pub refresh_token_ttl: u64,
    /// Authorization code lifetime, seconds.
    pub authorization_code_ttl: u64,
    /// Device code and user code lifetime, seconds (RFC 8628 §3.2 `expires_in`).
    pub device_code_ttl: u64,
    /// DPoP proof `iat` window, seconds (RFC 9449 §11.1).
    pub dpop_iat_window: u64,
    /// DPoP proofs must carry a server nonce (RFC 9449 §8).
    pub dpop_nonce_required: bool,
    /// Every client must push its authorization requests (RFC 9126 §6).
    pub require_pushed_authorization_requests: bool,
    /// Refresh grace window, seconds (0: strict reuse detection).
    pub refresh_reuse_grace: u64,
    /// Back-channel logout delivery (OIDC Back-Channel Logout 1.0).
    pub backchannel: BackchannelSettings,
    /// Browser login session lifetime, seconds.
    pub login_session_ttl: u64,
    /// `Secure` + `__Host-` cookies.
    pub cookie_secure: bool,
    /// Directory of PKCS#8 PEM private keys.
    pub keys_dir: PathBuf,
    /// Key rotation timing.
    pub rotation: crate::keys::rotation::RotationPolicy,
    /// JWKS `max-age`, seconds.
    pub jwks_max_age: u64,
    /// The data key, when configured (`--dev` generates one).
    pub data_key: Option<std::sync::Arc<crate::datakey::DataKey>>,
    /// TOTP issuer label.
    pub totp_issuer: String,
    /// The WebAuthn relying party; `None`: passkeys are off.
    pub relying_party: Option<super::RelyingParty>,
    /// Seconds since sign-in within which a user may change their factors.
    pub passkey_reauth_max_age: u64,
    /// The hosted pages' templates, catalogues, branding and scope descriptions (`crate::ui`).
    pub pages: crate::ui::PageSettings,
    /// Clients declared in the config file.
    pub clients: Vec<crate::store::Client>,
    /// In-process client cache lifetime, seconds.
    pub client_cache_ttl: u64,
    /// Connection and request-body limits.
    pub connections: ConnectionSettings,
    /// Bearer token protecting `/metrics`.
    pub metrics_token: Option<String>,
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
