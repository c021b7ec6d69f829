//! Brute-force protection for the login paths: per client IP, per account (failures, then an
//! exponential back-off instead of a permanent lock) and per (account, IP) pair. Counters live in
//! the store (Redis, so every instance enforces the same limits; each check is one atomic script:
//! one for the IP, one for the account and pair, which share a cluster slot), and every check
//! happens before any password hash is computed.
//!
//! Also here: the client IP, which is the TCP peer unless that peer is a trusted proxy.

use std::net::IpAddr;

use actix_web::http::StatusCode;
use ipnet::IpNet;

use crate::error::{OAuthError, StoreError};
use crate::store::Store;

/// Login-limit policy, from configuration. A limit of 0 disables it.
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Attempts per client IP per minute (RFC 6585 429 beyond).
    pub ip_per_minute: u32,
    /// Failures per account (and per account+IP pair) within `failure_window_ms` before the
    /// back-off starts.
    pub account_failures: u32,
    /// How long failures are remembered after the last one, milliseconds.
    pub failure_window_ms: u64,
    /// First back-off step, milliseconds; doubles with every further failure.
    pub backoff_base_ms: u64,
    /// Longest back-off, milliseconds.
    pub backoff_max_ms: u64,
}

/// The verdict of a limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allowed,
    /// Refused; retry after this many milliseconds. The name says which limit.
    Limited(&'static str, u64),
}

/// Store keys of an account's login limits; they share a hash tag (one cluster slot).
pub struct AccountKeys {
    /// Per-account failure state.
    pub account: String,
    /// Per-(account, IP) failure counter.
    pub pair: String,
}

impl AccountKeys {
    /// Keys for a normalised `username` and client `ip`.
    pub fn new(username: &str, ip: IpAddr) -> Self {
        Self {
            account: format!("tessera:rl:{{acct:{username}}}"),
            pair: format!("tessera:rl:{{acct:{username}}}:ip:{ip}"),
        }
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The `429` answer for a limited request (RFC 6585 §4), with `Retry-After` in whole seconds.
fn limited(hits: &prometheus::IntCounterVec, which: &'static str, retry_ms: u64) -> OAuthError {
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
        if self.policy.account_failures == 0 {
            return Ok(());
        }
        let verdict = self
            .store
            .account_attempt(&AccountKeys::new(username, ip), now_ms(), &self.policy)
            .await?;
        self.answer(verdict)
    }

    /// Clears the failure counters of `username` (and its pair with `ip`) after a success.
    ///
    /// # Errors
    /// [`StoreError`] when the store is down.
    pub async fn login_succeeded(&self, username: &str, ip: IpAddr) -> Result<(), StoreError> {
        if self.policy.account_failures == 0 {
            return Ok(());
        }
        self.store
            .login_success(&AccountKeys::new(username, ip))
            .await
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
        let verdict = self
            .store
            .ip_attempt(
                &format!("tessera:rl:ip:{ip}"),
                now_ms(),
                self.policy.ip_per_minute,
            )
            .await?;
        self.answer(verdict)
    }

    fn answer(&self, verdict: Verdict) -> Result<(), OAuthError> {
        match verdict {
            Verdict::Allowed => Ok(()),
            Verdict::Limited(which, retry_ms) => Err(limited(&self.hits, which, retry_ms)),
        }
    }
}

/// Back-off after `failures` failures (≥ the limit): base × 2^(failures − limit), capped.
pub fn backoff_ms(failures: u64, policy: &LoginPolicy) -> u64 {
    let exponent = failures
        .saturating_sub(u64::from(policy.account_failures))
        .min(32);
    policy
        .backoff_base_ms
        .saturating_mul(1u64 << exponent)
        .min(policy.backoff_max_ms)
}

/// GCRA (generic cell rate algorithm) step for `per_minute` attempts with a burst of the same
/// size: given the stored theoretical arrival time `tat` (ms), returns the new TAT when the
/// attempt is allowed, or the milliseconds to wait.
pub fn gcra(tat: u64, now: u64, per_minute: u32) -> Result<u64, u64> {
    let interval = 60_000u64.div_ceil(u64::from(per_minute.max(1)));
    let new_tat = tat.max(now) + interval;
    if new_tat - now > 60_000 {
        Err(new_tat - now - 60_000)
    } else {
        Ok(new_tat)
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

    #[test]
    fn gcra_allows_the_limit_per_minute_then_refuses() {
        let mut tat = 0;
        let now = 1_000_000;
        for _ in 0..10 {
            tat = gcra(tat, now, 10).unwrap();
        }
        let wait = gcra(tat, now, 10).unwrap_err();
        assert!(wait > 0 && wait <= 6_000);
        assert!(gcra(tat, now + 6_000, 10).is_ok());
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = LoginPolicy {
            ip_per_minute: 10,
            account_failures: 5,
            failure_window_ms: 900_000,
            backoff_base_ms: 1_000,
            backoff_max_ms: 900_000,
        };
        assert_eq!(backoff_ms(5, &policy), 1_000);
        assert_eq!(backoff_ms(7, &policy), 4_000);
        assert_eq!(backoff_ms(60, &policy), 900_000);
    }
}
