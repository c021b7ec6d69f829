//! Layered configuration: built-in defaults < TOML file < `TESSERA_*` environment.
//!
//! [`RawSettings::load`] and [`RawSettings::validate`] read and validate everything once,
//! before the server binds; an invalid value fails start-up with a [`ConfigError`] that names
//! the key and the accepted range.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

mod diagnose;
mod pages;
mod settings;
mod validate;
mod webauthn;

pub use diagnose::{env_warnings, environment_help};

pub use settings::{
    Argon2Params, BackchannelSettings, ConnectionSettings, HashingSettings, Settings, StoreSettings,
};
pub use webauthn::RelyingParty;

/// The file read when `--config` is not given (if it exists).
pub const DEFAULT_CONFIG_FILE: &str = "config/default.toml";

/// Raw settings as deserialised from the layers; see `config/default.toml` for each key.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    /// Canonical issuer URL (`iss`), byte-identical in discovery and tokens.
    pub issuer: String,
    /// `host:port` to listen on.
    pub listen: String,
    /// Redis URL; required unless the server runs with `--dev`. With `redis_cluster`, a
    /// comma-separated list of seed node URLs.
    pub redis_url: Option<String>,
    /// Connect to a Redis Cluster (seed nodes in `redis_url`).
    pub redis_cluster: bool,
    /// Use Redis Sentinel: the master's name; `redis_url` then lists the Sentinels
    /// (comma-separated).
    pub redis_sentinel_master: Option<String>,
    /// Directory holding PKCS#8 PEM private keys.
    pub keys_dir: PathBuf,
    /// Access-token lifetime in seconds (900..=3600).
    pub access_token_ttl: u64,
    /// JWS algorithm of access tokens for clients that chose none: RS256, ES256 or EdDSA.
    pub access_token_signing_alg: String,
    /// JWS algorithm of ID tokens for clients that chose none: RS256, ES256 or EdDSA.
    pub id_token_signing_alg: String,
    /// Refresh-token lifetime in seconds (300..=31536000).
    pub refresh_token_ttl: u64,
    /// Default `aud` of access tokens; the issuer when unset.
    pub audience: Option<String>,
    /// `Cache-Control: max-age` of the JWKS document, seconds (0..=86400).
    pub jwks_max_age: u64,
    /// Argon2id memory cost in KiB (OWASP: 19456).
    pub argon2_memory_kib: u32,
    /// Argon2id iterations (OWASP: 2).
    pub argon2_iterations: u32,
    /// Argon2id lanes (OWASP: 1).
    pub argon2_parallelism: u32,
    /// Password hashes computed at once; the number of CPUs when unset.
    pub hash_concurrency: Option<usize>,
    /// Redis connect and command timeout, milliseconds (50..=60000).
    pub redis_timeout_ms: u64,
    /// Seconds a client registration is cached in-process (0..=300).
    pub client_cache_ttl: u64,
    /// Milliseconds a request body may take to arrive, from the end of its headers
    /// (100..=600000).
    pub body_timeout_ms: u64,
    /// Open connections per client address (the TCP peer); 0 disables (0..=100000).
    pub max_connections_per_ip: u32,
    /// `tracing` filter directive (RUST_LOG syntax).
    pub log_level: String,
    /// Login attempts per client IP per minute; 0 disables.
    pub login_ip_limit_per_minute: u32,
    /// Unresolved attempts per (account, address) pair, and failing addresses per account
    /// before its back-off, within `login_failure_window`; 0 disables.
    pub login_account_failure_limit: u32,
    /// Seconds failures are remembered after the last one (default 900).
    pub login_failure_window: u64,
    /// First back-off step after the failure limit, milliseconds; doubles per failure.
    pub login_backoff_base_ms: u64,
    /// Longest back-off, seconds.
    pub login_backoff_max: u64,
    /// Comma-separated CIDRs of reverse proxies whose forwarding headers are believed.
    pub trusted_proxies: String,
    /// Password checks allowed to wait for a hashing slot before new ones get 503.
    pub hash_queue_limit: usize,
    /// AES-256-GCM key sealing TOTP secrets: 32 random bytes, standard base64. Required
    /// outside `--dev`.
    pub data_key: Option<String>,
    /// Issuer name shown by authenticator apps for TOTP entries.
    pub totp_issuer: String,
    /// Seconds between publishing a rotated-in key and signing with it; default
    /// `jwks_max_age` + 60.
    pub key_publication_delay: Option<u64>,
    /// Seconds between reloads of the key set by each instance.
    pub key_refresh_interval: u64,
    /// Rotate automatically after the signing key has signed this many seconds; 0 disables.
    pub key_rotation_interval: u64,
    /// Bearer token required by `GET /metrics`; open when unset.
    pub metrics_token: Option<String>,
    /// Browser cookies are `Secure` with the `__Host-` prefix (turned off by `--dev`).
    pub cookie_secure: bool,
    /// Lifetime of a browser login session, seconds.
    pub login_session_ttl: u64,
    /// Lifetime of an authorization code, seconds (RFC 6749 §4.1.2: short; default 60).
    pub authorization_code_ttl: u64,
    /// Lifetime of a device code and its user code, seconds (RFC 8628 §3.2 `expires_in`;
    /// default 600).
    pub device_code_ttl: u64,
    /// Seconds a DPoP proof's `iat` may differ from now (RFC 9449 §11.1; default 60).
    pub dpop_iat_window: u64,
    /// Whether DPoP proofs must carry a server nonce (RFC 9449 §8; default off).
    pub dpop_nonce_required: bool,
    /// Whether every client must push its authorization requests (RFC 9126 §6; default off).
    pub require_pushed_authorization_requests: bool,
    /// Refresh grace window, seconds (0..=60; default 0: strict reuse detection).
    pub refresh_reuse_grace: u64,
    /// Seconds a back-channel logout notice is retried after the session ended (1..=86400;
    /// default 600).
    pub backchannel_logout_retry_for: u64,
    /// Timeout of one back-channel logout POST, seconds (1..=60; default 5).
    pub backchannel_logout_timeout: u64,
    /// WebAuthn RP ID (a domain); default: the issuer's host (passkeys are off for an issuer
    /// on an IP address unless this is set).
    pub webauthn_rp_id: Option<String>,
    /// Comma-separated origins allowed for passkeys; default: the issuer's origin.
    pub webauthn_origins: String,
    /// The relying party's name shown by authenticators.
    pub webauthn_rp_name: String,
    /// Seconds since sign-in within which a user may change their factors (add a passkey, ...).
    pub passkey_reauth_max_age: u64,
    /// Directory whose files replace the built-in page templates of the same name.
    pub templates_dir: Option<PathBuf>,
    /// Directory of `<language tag>/*.ftl` Fluent catalogues adding or overriding page words.
    pub locales_dir: Option<PathBuf>,
    /// The product name on every page (title, header); the catalogue's `product` when unset.
    pub product_name: Option<String>,
    /// A logo file (PNG, SVG, JPEG, WebP, GIF; at most 512 KiB) in every page's header.
    pub logo_file: Option<PathBuf>,
    /// The buttons' colour, `#rrggbb`; the built-in blue when unset.
    pub primary_color: Option<String>,
    /// A stylesheet loaded on every page after the built-in one.
    pub css_file: Option<PathBuf>,
    /// Consent-page descriptions of scopes, by scope: a text, or texts by language tag.
    #[serde(default)]
    pub scope_descriptions: std::collections::BTreeMap<String, crate::ui::ScopeDescription>,
    /// Clients declared in the file (`[[clients]]` tables) for static deployments.
    #[serde(default)]
    pub clients: Vec<crate::clients::Registration>,
}

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            issuer: "http://127.0.0.1:8080".into(),
            listen: "127.0.0.1:8080".into(),
            redis_url: None,
            redis_cluster: false,
            redis_sentinel_master: None,
            keys_dir: PathBuf::from("keys"),
            access_token_ttl: 900,
            access_token_signing_alg: "RS256".into(),
            id_token_signing_alg: "RS256".into(),
            refresh_token_ttl: 30 * 24 * 3600,
            audience: None,
            jwks_max_age: 300,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_concurrency: None,
            redis_timeout_ms: 1000,
            client_cache_ttl: 5,
            body_timeout_ms: 10_000,
            max_connections_per_ip: 64,
            log_level: "info".into(),
            login_ip_limit_per_minute: 10,
            login_account_failure_limit: 5,
            login_failure_window: 900,
            login_backoff_base_ms: 1000,
            login_backoff_max: 900,
            trusted_proxies: String::new(),
            hash_queue_limit: 32,
            data_key: None,
            totp_issuer: "tessera".into(),
            key_publication_delay: None,
            key_refresh_interval: 10,
            key_rotation_interval: 0,
            metrics_token: None,
            cookie_secure: true,
            login_session_ttl: 43_200,
            authorization_code_ttl: 60,
            device_code_ttl: 600,
            dpop_iat_window: 60,
            dpop_nonce_required: false,
            require_pushed_authorization_requests: false,
            refresh_reuse_grace: 0,
            backchannel_logout_retry_for: 600,
            backchannel_logout_timeout: 5,
            webauthn_rp_id: None,
            webauthn_origins: String::new(),
            webauthn_rp_name: "tessera".into(),
            passkey_reauth_max_age: 300,
            templates_dir: None,
            locales_dir: None,
            product_name: None,
            logo_file: None,
            primary_color: None,
            css_file: None,
            scope_descriptions: std::collections::BTreeMap::new(),
            clients: Vec::new(),
        }
    }
}

/// A configuration problem found at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or a value has the wrong type.
    #[error("configuration: {0}")]
    Load(Box<figment::Error>),
    /// An operator mistake found while reading the layers (unknown key, wrong type), told in
    /// one line with where it is and the fix.
    #[error("configuration: {0}")]
    Mistake(String),
    /// A value is outside what is accepted.
    #[error("configuration key `{key}` (env {env}): {problem}")]
    Invalid {
        /// The key as written in the TOML file.
        key: &'static str,
        /// The environment variable that sets it.
        env: &'static str,
        /// What is wrong and what is accepted.
        problem: String,
    },
}

pub(super) fn invalid(
    key: &'static str,
    env: &'static str,
    problem: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        key,
        env,
        problem: problem.into(),
    }
}

pub(super) fn in_range(
    key: &'static str,
    env: &'static str,
    value: u64,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
) -> Result<u64, ConfigError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(invalid(
            key,
            env,
            format!(
                "{value} is outside the accepted range {}..={} {unit}",
                range.start(),
                range.end()
            ),
        ))
    }
}

impl RawSettings {
    /// Reads the layers: defaults, then `file` (or [`DEFAULT_CONFIG_FILE`] when it exists), then
    /// `TESSERA_*` environment variables.
    ///
    /// # Errors
    /// [`ConfigError::Load`] when the explicit file is missing or a value has the wrong type.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(RawSettings::default()));
        let path = file.unwrap_or(Path::new(DEFAULT_CONFIG_FILE));
        if file.is_some() && !path.exists() {
            return Err(ConfigError::Mistake(format!(
                "config file {} does not exist",
                path.display()
            )));
        }
        figment = figment.merge(Toml::file(path));
        // Only `TESSERA_<KEY>` for our keys: other TESSERA_* variables (test harness, scripts) are
        // not configuration (near misses get a warning, [`env_warnings`]), while unknown keys in
        // the file are refused.
        let known = diagnose::keys();
        figment = figment.merge(
            Env::prefixed("TESSERA_").filter(move |k| known.iter().any(|name| k == name.as_str())),
        );
        figment.extract().map_err(|e| diagnose::describe(e, path))
    }
}
