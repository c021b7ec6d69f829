//! From raw layers to validated [`Settings`]: every value checked once, at start-up.

use super::{
    in_range, invalid, Argon2Params, ConfigError, HashingSettings, RawSettings, Settings,
    StoreSettings,
};

impl RawSettings {
    /// Validates every value into [`Settings`].
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key, its environment variable and the accepted range.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let (relying_party, passkey_reauth_max_age) = self.relying_party()?;
        let pages = self.page_settings()?;
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
        let alg = |key, env, value: &str| {
            crate::store::SigningAlg::parse(value).ok_or_else(|| {
                invalid(
                    key,
                    env,
                    format!("`{value}` is not one of RS256, ES256, EdDSA"),
                )
            })
        };
        let signing_algs = crate::tokens::DefaultAlgs {
            access: alg(
                "access_token_signing_alg",
                "TESSERA_ACCESS_TOKEN_SIGNING_ALG",
                &self.access_token_signing_alg,
            )?,
            id: alg(
                "id_token_signing_alg",
                "TESSERA_ID_TOKEN_SIGNING_ALG",
                &self.id_token_signing_alg,
            )?,
        };
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
        let connections = super::ConnectionSettings {
            body_timeout_ms: in_range(
                "body_timeout_ms",
                "TESSERA_BODY_TIMEOUT_MS",
                self.body_timeout_ms,
                100..=600_000,
                "milliseconds",
            )?,
            max_per_ip: in_range(
                "max_connections_per_ip",
                "TESSERA_MAX_CONNECTIONS_PER_IP",
                u64::from(self.max_connections_per_ip),
                0..=100_000,
                "connections",
            )? as u32,
        };
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
        let device_code_ttl = in_range(
            "device_code_ttl",
            "TESSERA_DEVICE_CODE_TTL",
            self.device_code_ttl,
            1..=3600,
            "seconds",
        )?;
        let dpop_iat_window = in_range(
            "dpop_iat_window",
            "TESSERA_DPOP_IAT_WINDOW",
            self.dpop_iat_window,
            5..=600,
            "seconds",
        )?;
        let refresh_reuse_grace = in_range(
            "refresh_reuse_grace",
            "TESSERA_REFRESH_REUSE_GRACE",
            self.refresh_reuse_grace,
            0..=60,
            "seconds",
        )?;
        let backchannel = crate::config::BackchannelSettings {
            retry_for: in_range(
                "backchannel_logout_retry_for",
                "TESSERA_BACKCHANNEL_LOGOUT_RETRY_FOR",
                self.backchannel_logout_retry_for,
                1..=86_400,
                "seconds",
            )?,
            timeout: in_range(
                "backchannel_logout_timeout",
                "TESSERA_BACKCHANNEL_LOGOUT_TIMEOUT",
                self.backchannel_logout_timeout,
                1..=60,
                "seconds",
            )?,
        };
        let redis_sentinel_master = self.redis_sentinel_master.filter(|m| !m.is_empty());
        if self.redis_cluster && redis_sentinel_master.is_some() {
            return Err(invalid(
                "redis_sentinel_master",
                "TESSERA_REDIS_SENTINEL_MASTER",
                "cannot be combined with redis_cluster",
            ));
        }
        super::diagnose::check_log_level(&self.log_level)?;
        Ok(Settings {
            issuer,
            listen,
            log_level: self.log_level,
            store: StoreSettings {
                url: self.redis_url,
                cluster: self.redis_cluster,
                sentinel_master: redis_sentinel_master,
                timeout_ms: redis_timeout_ms,
            },
            hashing: HashingSettings {
                argon2: Argon2Params {
                    memory_kib: memory_kib as u32,
                    iterations: iterations as u32,
                    parallelism: parallelism as u32,
                },
                concurrency: hash_concurrency,
                queue_limit: hash_queue_limit,
            },
            login,
            trusted_proxies,
            audience,
            access_token_ttl,
            signing_algs,
            refresh_token_ttl,
            authorization_code_ttl,
            device_code_ttl,
            dpop_iat_window,
            dpop_nonce_required: self.dpop_nonce_required,
            require_pushed_authorization_requests: self.require_pushed_authorization_requests,
            refresh_reuse_grace,
            backchannel,
            login_session_ttl,
            cookie_secure: self.cookie_secure,
            keys_dir: self.keys_dir,
            rotation,
            jwks_max_age,
            data_key,
            totp_issuer: self.totp_issuer,
            relying_party,
            passkey_reauth_max_age,
            pages,
            clients,
            client_cache_ttl,
            connections,
            metrics_token: self.metrics_token.filter(|t| !t.is_empty()),
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
        assert_eq!(s.hashing.argon2.memory_kib, 19_456);
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
    fn signing_algs_parse_exactly_and_name_the_key() {
        let raw = RawSettings {
            access_token_signing_alg: "ES256".into(),
            id_token_signing_alg: "EdDSA".into(),
            ..RawSettings::default()
        };
        let algs = raw.validate().unwrap().signing_algs;
        assert_eq!(algs.access, crate::store::SigningAlg::Es256);
        assert_eq!(algs.id, crate::store::SigningAlg::EdDsa);
        let raw = RawSettings {
            id_token_signing_alg: "HS256".into(),
            ..RawSettings::default()
        };
        let err = raw.validate().unwrap_err().to_string();
        assert!(
            err.contains("id_token_signing_alg") && err.contains("HS256"),
            "{err}"
        );
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
