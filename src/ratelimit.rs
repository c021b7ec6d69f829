//! Brute-force protection for the login paths: per client IP, per account (failures, then an
//! exponential back-off instead of a permanent lock) and per (account, IP) pair. This module is
//! the policy: which limits apply and what a refusal means to a client. The counters and their
//! arithmetic live in the store (`store::limits`; Redis, so every instance enforces the same
//! limits, each check one atomic script), and every check happens before any password hash is
//! computed.
//!
//! Also here: the client IP, which is the TCP peer unless that peer is a trusted proxy.

use std::net::IpAddr;

use actix_web::http::StatusCode;
use ipnet::IpNet;

use crate::clock::now_ms;
use crate::error::{OAuthError, StoreError};
use crate::store::{Backend, Backoff, FactorBackend, Limit, LimitedBy, Store};

/// Login-limit policy, from configuration. A limit of 0 disables it.
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Attempts per client IP per minute (RFC 6585 429 beyond).
    pub ip_per_minute: u32,
    /// Failures per account (and per account+IP pair) before the back-off, and its steps.
    pub account: Backoff,
}

/// The `429` answer for a limited request (RFC 6585 §4), with `Retry-After` in whole seconds.
fn limited(hits: &prometheus::IntCounterVec, by: LimitedBy, retry_ms: u64) -> OAuthError {
    let which = by.as_str();
    hits.with_label_values(&[which]).inc();
    tracing::warn!(target: "audit", event = "rate_limited", limit = which, retry_after_ms = retry_ms);
    OAuthError::unavailable(
        StatusCode::TOO_MANY_REQUESTS,
        retry_ms.div_ceil(1000).max(1),
        "too many attempts; retry later",
    )
}

/// The login limiter over a store.
pub struct Limiter {
    store: Store,
    policy: LoginPolicy,
    hits: prometheus::IntCounterVec,
}

impl Limiter {
    /// A limiter enforcing `policy` with counters in `store`, counting refusals in `hits`
    /// (label: the limit).
    pub fn new(store: Store, policy: LoginPolicy, hits: prometheus::IntCounterVec) -> Self {
        Self {
            store,
            policy,
            hits,
        }
    }

    /// Checks (and counts) a login attempt for `username` from `ip`, before any hashing: the
    /// per-IP limit, then the account and pair limits.
    ///
    /// # Errors
    /// `temporarily_unavailable` with 429 and `Retry-After` when a limit is reached; 503 when
    /// the store is down.
    pub async fn check_login(&self, username: &str, ip: IpAddr) -> Result<(), OAuthError> {
        self.check_ip(ip).await?;
        if self.policy.account.failure_limit == 0 {
            return Ok(());
        }
        let limit = self
            .store
            .account_attempt(username, ip, now_ms(), &self.policy.account)
            .await?;
        self.answer(limit)
    }

    /// Clears the failure counters of `username` (and its pair with `ip`) after a success.
    ///
    /// # Errors
    /// [`StoreError`] when the store is down.
    pub async fn login_succeeded(&self, username: &str, ip: IpAddr) -> Result<(), StoreError> {
        if self.policy.account.failure_limit == 0 {
            return Ok(());
        }
        self.store.login_success(username, ip).await
    }

    /// Runs `check`, one evaluation of a second factor of the user `sub` (a TOTP or recovery
    /// code, a passkey assertion at the second step), under the account's second-factor limit:
    /// the attempt is counted before `check` runs, and only a passing check clears the count
    /// (a correct password does not). The failures count per account, whichever `mfa_token`,
    /// pending request or address they come from, and `failure_limit` of them start the same
    /// back-off as password failures (`LoginPolicy::account`). Both the hosted second step and
    /// the `mfa-otp` grant go through here, so they share the one counter.
    ///
    /// # Errors
    /// The outer error: `temporarily_unavailable` with 429 and `Retry-After` during the
    /// back-off (`check` does not run); 503 when the store is down. Otherwise `check`'s answer.
    pub async fn second_factor<T, E>(
        &self,
        sub: &str,
        check: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<Result<T, E>, OAuthError> {
        let rule = &self.policy.account;
        if rule.failure_limit == 0 {
            return Ok(check.await);
        }
        let limit = self.store.factor_attempt(sub, now_ms(), rule).await?;
        self.answer(limit)?;
        let checked = check.await;
        if checked.is_ok() {
            self.store.factor_success(sub).await?;
        }
        Ok(checked)
    }

    /// Counts an attempt from `ip` against the per-IP limit alone: part of every login, the MFA
    /// step, and failed client authentication. (Successful client authentication is not
    /// counted: the client-credentials hot path stays free of store round trips, and a 256-bit
    /// secret cannot be guessed anyway.)
    ///
    /// # Errors
    /// 429 when the IP is over its limit; 503 when the store is down.
    pub async fn check_ip(&self, ip: IpAddr) -> Result<(), OAuthError> {
        if self.policy.ip_per_minute == 0 {
            return Ok(());
        }
        let limit = self
            .store
            .ip_attempt(ip, now_ms(), self.policy.ip_per_minute)
            .await?;
        self.answer(limit)
    }

    fn answer(&self, limit: Limit) -> Result<(), OAuthError> {
        match limit {
            Limit::Allowed => Ok(()),
            Limit::Limited { by, retry_after_ms } => Err(limited(&self.hits, by, retry_after_ms)),
        }
    }
}

/// Trusted reverse proxies (CIDRs) and the client-IP rule.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated CIDR list (a bare address means a single host).
    ///
    /// # Errors
    /// The offending entry.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{s}` is not a CIDR or IP address"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client IP: the TCP `peer` unless it is a trusted proxy; then the right-most address
    /// in `X-Forwarded-For` (or `Forwarded: for=`, RFC 7239 §5.2) that is not itself trusted.
    /// With no trusted proxies the headers are ignored, so they cannot be spoofed.
    pub fn client_ip(&self, peer: IpAddr, forwarded: Option<&str>, xff: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = match (forwarded, xff) {
            (Some(f), _) => f
                .split(',')
                .filter_map(|element| {
                    element.split(';').find_map(|pair| {
                        let (k, v) = pair.trim().split_once('=')?;
                        k.eq_ignore_ascii_case("for").then(|| parse_node(v))?
                    })
                })
                .collect(),
            (None, Some(x)) => x.split(',').filter_map(|h| parse_node(h.trim())).collect(),
            (None, None) => Vec::new(),
        };
        hops.into_iter()
            .rev()
            .find(|ip| !self.trusts(*ip))
            .unwrap_or(peer)
    }
}

/// An address from a forwarding header: `1.2.3.4`, `"[2001:db8::1]:443"`, `1.2.3.4:80`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let v = raw.trim().trim_matches('"');
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    v.parse()
        .ok()
        .or_else(|| v.rsplit_once(':').and_then(|(host, _)| host.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_are_ignored_without_trusted_proxies() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("203.0.113.9"), None, Some("1.1.1.1")),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn rightmost_untrusted_address_wins() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        let xff = Some("6.6.6.6, 198.51.100.7, 10.1.2.3");
        assert_eq!(
            proxies.client_ip(ip("127.0.0.1"), None, xff),
            ip("198.51.100.7")
        );
        let fwd = Some(r#"for=6.6.6.6, for="[2001:db8::1]:4711";proto=https, for=10.0.0.2"#);
        assert_eq!(
            proxies.client_ip(ip("10.9.9.9"), fwd, None),
            ip("2001:db8::1")
        );
        assert_eq!(
            proxies.client_ip(ip("10.9.9.9"), None, None),
            ip("10.9.9.9")
        );
        assert!(TrustedProxies::parse("nonsense").is_err());
    }
}
