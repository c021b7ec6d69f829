//! Layered configuration: built-in defaults < TOML file < `TESSERA_*` environment.
//!
//! [`Settings::load`] reads and validates everything once, before the server binds; an invalid
//! value fails start-up with a [`ConfigError`] that names the key and the accepted range.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

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
    /// `tracing` filter directive (RUST_LOG syntax).
    pub log_level: String,
    /// Login attempts per client IP per minute; 0 disables.
    pub login_ip_limit_per_minute: u32,
    /// Failed logins per account within `login_failure_window` before back-off; 0 disables.
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
            refresh_token_ttl: 30 * 24 * 3600,
            audience: None,
            jwks_max_age: 300,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_concurrency: None,
            redis_timeout_ms: 1000,
            client_cache_ttl: 5,
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
            clients: Vec::new(),
        }
    }
}

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

/// A configuration problem found at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or a value has the wrong type.
    #[error("configuration: {0}")]
    Load(Box<figment::Error>),
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

fn invalid(key: &'static str, env: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        env,
        problem: problem.into(),
    }
}

fn in_range(
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
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(ConfigError::Load(Box::new(figment::Error::from(format!(
                        "config file {} does not exist",
                        path.display()
                    )))));
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file(DEFAULT_CONFIG_FILE)),
        }
        // Only `TESSERA_<KEY>` for our keys: other TESSERA_* variables (test harness, scripts) are
        // not configuration, while unknown keys in the file are still refused.
        let known: Vec<String> = match serde_json::to_value(RawSettings::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        figment = figment.merge(
            Env::prefixed("TESSERA_").filter(move |k| known.iter().any(|name| k == name.as_str())),
        );
        figment
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))
    }

    /// Validates every value into [`Settings`].
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key, its environment variable and the accepted range.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let issuer = self.issuer;
        let parsed = url::Url::parse(&issuer)
            .map_err(|e| invalid("issuer", "TESSERA_ISSUER", format!("not a URL: {e}")))?;
        // OIDC Discovery §3 / RFC 8414 §2: https, no query or fragment; plain http only for loopback.
        let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if !(parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback)) {
            return Err(invalid(
                "issuer",
                "TESSERA_ISSUER",
                "must be an https URL (http is accepted only for 127.0.0.1, localhost or [::1])",
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid(
                "issuer",
                "TESSERA_ISSUER",
                "must not have a query or fragment (RFC 8414 §2)",
            ));
        }
        let listen = self.listen.parse().map_err(|_| {
            invalid(
                "listen",
                "TESSERA_LISTEN",
                format!("`{}` is not host:port (e.g. 127.0.0.1:8080)", self.listen),
            )
        })?;
        for url in self.redis_url.iter().flat_map(|u| u.split(',')) {
            let url = url.trim();
            if !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("redis+unix://")
                || url.starts_with("unix://"))
            {
                return Err(invalid(
                    "redis_url",
                    "TESSERA_REDIS_URL",
                    "must start with redis://, rediss:// or unix://",
                ));
            }
        }
        let access_token_ttl = in_range(
            "access_token_ttl",
            "TESSERA_ACCESS_TOKEN_TTL",
            self.access_token_ttl,
            900..=3600,
            "seconds",
        )?;
        let refresh_token_ttl = in_range(
            "refresh_token_ttl",
            "TESSERA_REFRESH_TOKEN_TTL",
            self.refresh_token_ttl,
            300..=31_536_000,
            "seconds",
        )?;
        let jwks_max_age = in_range(
            "jwks_max_age",
            "TESSERA_JWKS_MAX_AGE",
            self.jwks_max_age,
            0..=86_400,
            "seconds",
        )?;
        let memory_kib = in_range(
            "argon2_memory_kib",
            "TESSERA_ARGON2_MEMORY_KIB",
            self.argon2_memory_kib.into(),
            8..=4_194_304,
            "KiB",
        )?;
        let iterations = in_range(
            "argon2_iterations",
            "TESSERA_ARGON2_ITERATIONS",
            self.argon2_iterations.into(),
            1..=64,
            "passes",
        )?;
        let parallelism = in_range(
            "argon2_parallelism",
            "TESSERA_ARGON2_PARALLELISM",
            self.argon2_parallelism.into(),
            1..=64,
            "lanes",
        )?;
        if memory_kib < 8 * parallelism {
            return Err(invalid(
                "argon2_memory_kib",
                "TESSERA_ARGON2_MEMORY_KIB",
                "must be at least 8 × argon2_parallelism KiB (RFC 9106 §3.1)",
            ));
        }
        let hash_concurrency = match self.hash_concurrency {
            None => num_cpus::get().max(1),
            Some(n) => in_range(
                "hash_concurrency",
                "TESSERA_HASH_CONCURRENCY",
                n as u64,
                1..=1024,
                "jobs",
            )? as usize,
        };
        let redis_timeout_ms = in_range(
            "redis_timeout_ms",
            "TESSERA_REDIS_TIMEOUT_MS",
            self.redis_timeout_ms,
            50..=60_000,
            "milliseconds",
        )?;
        let client_cache_ttl = in_range(
            "client_cache_ttl",
            "TESSERA_CLIENT_CACHE_TTL",
            self.client_cache_ttl,
            0..=300,
            "seconds",
        )?;
        let audience = match self.audience {
            Some(a) if a.trim().is_empty() => {
                return Err(invalid("audience", "TESSERA_AUDIENCE", "must not be empty"))
            }
            Some(a) => a,
            None => issuer.clone(),
        };
        let login = crate::ratelimit::LoginPolicy {
            ip_per_minute: in_range(
                "login_ip_limit_per_minute",
                "TESSERA_LOGIN_IP_LIMIT_PER_MINUTE",
                self.login_ip_limit_per_minute.into(),
                0..=60_000,
                "attempts per minute (0 disables)",
            )? as u32,
            account: crate::store::Backoff {
                failure_limit: in_range(
                    "login_account_failure_limit",
                    "TESSERA_LOGIN_ACCOUNT_FAILURE_LIMIT",
                    self.login_account_failure_limit.into(),
                    0..=1000,
                    "failures (0 disables)",
                )? as u32,
                window_ms: in_range(
                    "login_failure_window",
                    "TESSERA_LOGIN_FAILURE_WINDOW",
                    self.login_failure_window,
                    1..=86_400,
                    "seconds",
                )? * 1000,
                base_ms: in_range(
                    "login_backoff_base_ms",
                    "TESSERA_LOGIN_BACKOFF_BASE_MS",
                    self.login_backoff_base_ms,
                    1..=3_600_000,
                    "milliseconds",
                )?,
                max_ms: in_range(
                    "login_backoff_max",
                    "TESSERA_LOGIN_BACKOFF_MAX",
                    self.login_backoff_max,
                    1..=86_400,
                    "seconds",
                )? * 1000,
            },
        };
        let trusted_proxies = crate::ratelimit::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| invalid("trusted_proxies", "TESSERA_TRUSTED_PROXIES", e))?;
        let hash_queue_limit = in_range(
            "hash_queue_limit",
            "TESSERA_HASH_QUEUE_LIMIT",
            self.hash_queue_limit as u64,
            0..=100_000,
            "waiting password checks",
        )? as usize;
        let data_key = self
            .data_key
            .as_deref()
            .map(crate::datakey::DataKey::from_base64)
            .transpose()
            .map_err(|e| invalid("data_key", "TESSERA_DATA_KEY", e.to_string()))?
            .map(std::sync::Arc::new);
        let rotation = crate::keys::rotation::RotationPolicy {
            publication_delay: match self.key_publication_delay {
                Some(d) => in_range(
                    "key_publication_delay",
                    "TESSERA_KEY_PUBLICATION_DELAY",
                    d,
                    0..=604_800,
                    "seconds",
                )?,
                None => jwks_max_age + 60,
            },
            retention: access_token_ttl + jwks_max_age,
            interval: match in_range(
                "key_rotation_interval",
                "TESSERA_KEY_ROTATION_INTERVAL",
                self.key_rotation_interval,
                0..=31_536_000,
                "seconds (0 disables)",
            )? {
                0 => None,
                n => Some(n),
            },
            refresh: in_range(
                "key_refresh_interval",
                "TESSERA_KEY_REFRESH_INTERVAL",
                self.key_refresh_interval,
                1..=300,
                "seconds",
            )?,
        };
        let mut clients = Vec::with_capacity(self.clients.len());
        for reg in self.clients {
            if !reg.public && reg.client_secret.is_none() {
                return Err(invalid(
                    "clients",
                    "(file only)",
                    format!(
                        "declared client `{}` is confidential and needs a client_secret",
                        reg.client_id
                    ),
                ));
            }
            let id = reg.client_id.clone();
            let (client, _) = crate::clients::build_client(reg)
                .map_err(|e| invalid("clients", "(file only)", format!("client `{id}`: {e}")))?;
            clients.push(client);
        }
        let login_session_ttl = in_range(
            "login_session_ttl",
            "TESSERA_LOGIN_SESSION_TTL",
            self.login_session_ttl,
            60..=2_592_000,
            "seconds",
        )?;
        let authorization_code_ttl = in_range(
            "authorization_code_ttl",
            "TESSERA_AUTHORIZATION_CODE_TTL",
            self.authorization_code_ttl,
            1..=600,
            "seconds",
        )?;
        let redis_sentinel_master = self.redis_sentinel_master.filter(|m| !m.is_empty());
        if self.redis_cluster && redis_sentinel_master.is_some() {
            return Err(invalid(
                "redis_sentinel_master",
                "TESSERA_REDIS_SENTINEL_MASTER",
                "cannot be combined with redis_cluster",
            ));
        }
        Ok(Settings {
            redis_sentinel_master,
            authorization_code_ttl,
            cookie_secure: self.cookie_secure,
            login_session_ttl,
            redis_cluster: self.redis_cluster,
            metrics_token: self.metrics_token.filter(|t| !t.is_empty()),
            rotation,
            data_key,
            totp_issuer: self.totp_issuer,
            clients,
            login,
            trusted_proxies,
            hash_queue_limit,
            issuer,
            listen,
            redis_url: self.redis_url,
            keys_dir: self.keys_dir,
            access_token_ttl,
            refresh_token_ttl,
            audience,
            jwks_max_age,
            argon2: Argon2Params {
                memory_kib: memory_kib as u32,
                iterations: iterations as u32,
                parallelism: parallelism as u32,
            },
            hash_concurrency,
            redis_timeout_ms,
            client_cache_ttl,
            log_level: self.log_level,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        let s = RawSettings::default().validate().unwrap();
        assert_eq!(s.access_token_ttl, 900);
        assert_eq!(s.audience, "http://127.0.0.1:8080");
        assert_eq!(s.argon2.memory_kib, 19_456);
    }

    #[test]
    fn access_ttl_out_of_range_names_key_and_range() {
        let raw = RawSettings {
            access_token_ttl: 60,
            ..RawSettings::default()
        };
        let err = raw.validate().unwrap_err().to_string();
        assert!(err.contains("access_token_ttl"), "{err}");
        assert!(err.contains("TESSERA_ACCESS_TOKEN_TTL"), "{err}");
        assert!(err.contains("900..=3600"), "{err}");
    }

    #[test]
    fn issuer_must_be_https_off_loopback() {
        let raw = RawSettings {
            issuer: "http://id.example.com".into(),
            ..RawSettings::default()
        };
        assert!(raw.validate().is_err());
        let raw = RawSettings {
            issuer: "https://id.example.com/".into(),
            ..RawSettings::default()
        };
        assert_eq!(raw.validate().unwrap().issuer, "https://id.example.com/");
    }
}
