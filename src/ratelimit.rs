//! Brute-force protection for the login paths: per client IP, per account (failures, then an
//! exponential back-off instead of a permanent lock) and per (account, IP) pair. This module is
//! the policy: which limits apply and what a refusal means to a client. The counters and their
//! arithmetic live in the store (`store::limits`; Redis, so every instance enforces the same
//! limits, each check one atomic script), and every check happens before any password hash is
//! computed.
//!
//! # The model
//!
//! Limits count a client by its [`limit_address`]: the IPv4 address (an IPv4-mapped IPv6
//! address is IPv4), or the /64 of an IPv6 address. Every password attempt counts first
//! against the per-IP GCRA (`login_ip_limit_per_minute`), then, as an unresolved failure until
//! the password proves right, against its (account, address) pair: at most
//! `login_account_failure_limit` unresolved attempts per `login_failure_window` from the
//! pair's first. Only an address's *first* unresolved failure counts against the account;
//! `login_account_failure_limit` of those within the window start the account back-off
//! (`login_backoff_base_ms`, doubling with each further one, at most `login_backoff_max`).
//! During the back-off an address that has an unresolved failure on the account is refused
//! before its password is looked at (so a right password and a wrong one get the same 429:
//! the answer says nothing about the password), while an address without one is heard: the
//! owner signs in, and a wrong password there is that address's first failure, which extends
//! the back-off. A correct password clears its own pair and takes back the one account
//! failure that pair counted; the other addresses' failures and a running back-off stay, so a
//! success, the owner's or that of an attacker who has the password, reopens nothing.
//!
//! With the defaults (10 a minute per address; 5 failures, 15-minute window; back-off 1 s
//! doubling to 15 minutes), per hour (replayed in `tests/api/lockout.rs`):
//!
//! | Attacker | Password guesses on one account | On all accounts | The owner |
//! |---|---|---|---|
//! | one address | 20 (5 per window; the account never backs off) | 600 (per-IP limit) | never refused |
//! | 1,000 addresses | about 4,000 (each address's first failure per window; the back-off, at its 15-minute cap once 15 addresses failed, refuses the rest); timing the gaps of the growing back-off adds at most 4 for each of a window's first 14 addresses | 600,000 | never refused from an address without failures; after mistyping during the attack, waits until the back-off ends or its own failure is 15 minutes old |
//! | with the password | signs in every time, ≤ 600 times per address (per-IP limit); with a second factor it only reaches the second step, whose guesses the second-factor limit counts per account | — | not locked out; the success leaves the back-off to the others |
//!
//! The price of never locking the owner out: the account back-off holds a distributed
//! attacker to one guess per address per window instead of capping the account as a whole
//! (the previous rule, once its back-off reached the cap, let about 4 guesses an hour through
//! from any number of addresses, but one address failing every back-off period kept the owner
//! out for good: refused at each of 60 sign-ins in the replayed hour). Against 1,000
//! addresses it is the password's strength, and the second factor, that protect an account.
//!
//! Also here: the client IP, which is the TCP peer unless that peer is a trusted proxy.

use std::net::{IpAddr, Ipv6Addr};

use actix_web::http::StatusCode;
use ipnet::{IpNet, Ipv4Net};

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
            .account_attempt(username, limit_address(ip), now_ms(), &self.policy.account)
            .await?;
        self.answer(limit)
    }

    /// Clears the unresolved failures of `username` from `ip` after a correct password and
    /// takes back the account failure they counted (the other addresses' failures and a
    /// running back-off stay; see the module docs).
    ///
    /// # Errors
    /// [`StoreError`] when the store is down.
    pub async fn login_succeeded(&self, username: &str, ip: IpAddr) -> Result<(), StoreError> {
        if self.policy.account.failure_limit == 0 {
            return Ok(());
        }
        self.store
            .login_success(username, limit_address(ip), now_ms())
            .await
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
            .ip_attempt(limit_address(ip), now_ms(), self.policy.ip_per_minute)
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

/// A client address as every check sees it: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
/// RFC 4291 §2.5.5.2, what a dual-stack listener or a proxy may report for an IPv4 client) is
/// the IPv4 address it carries. Used for the peer, every forwarded hop and the trusted-proxy
/// ranges, so limits and proxy matching treat both spellings alike.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The address the login limits count `ip` against: [`canonical`], and for IPv6 its /64
/// network (the interface identifier is the low 64 bits, RFC 4291 §2.5.1, so one host or
/// site picks freely within a /64 and rotating through it buys no fresh budget).
pub fn limit_address(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        v4 => v4,
    }
}

/// A trusted-proxy range in [`canonical`] terms: an IPv4-mapped IPv6 range
/// (`::ffff:10.0.0.0/104`) is the IPv4 range it maps (`10.0.0.0/8`).
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => v6
            .addr()
            .to_ipv4_mapped()
            .and_then(|v4| Ipv4Net::new(v4, v6.prefix_len() - 96).ok())
            .map_or(net, IpNet::V4),
        _ => net,
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
                    .map(canonical_net)
                    .map_err(|_| format!("`{s}` is not a CIDR or IP address"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client IP, [`canonical`]: the TCP `peer` unless it is a trusted proxy; then the
    /// right-most address in `X-Forwarded-For` (or `Forwarded: for=`, RFC 7239 §5.2) that is
    /// not itself trusted. With no trusted proxies the headers are ignored, so they cannot be
    /// spoofed.
    pub fn client_ip(&self, peer: IpAddr, forwarded: Option<&str>, xff: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
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

/// An address from a forwarding header, [`canonical`]: `1.2.3.4`, `"[2001:db8::1]:443"`,
/// `1.2.3.4:80`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let v = raw.trim().trim_matches('"');
    let ip = match v.strip_prefix('[') {
        Some(rest) => rest.split(']').next()?.parse().ok(),
        None => v
            .parse()
            .ok()
            .or_else(|| v.rsplit_once(':').and_then(|(host, _)| host.parse().ok())),
    };
    ip.map(canonical)
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
    fn ipv4_mapped_is_ipv4_and_ipv6_limits_count_the_64() {
        assert_eq!(canonical(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(canonical(ip("2001:db8::1")), ip("2001:db8::1"));
        assert_eq!(canonical(ip("198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(limit_address(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(
            limit_address(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(
            limit_address(ip("2001:db8:1:2::1")),
            limit_address(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            limit_address(ip("2001:db8:1:2::1")),
            limit_address(ip("2001:db8:1:3::1"))
        );
    }

    #[test]
    fn trusted_proxies_match_ipv4_mapped_addresses_as_ipv4() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, ::ffff:192.0.2.10").unwrap();
        let xff = |x| Some(x);
        // A mapped peer inside an IPv4 range, an IPv4 peer named by a mapped entry.
        assert_eq!(
            proxies.client_ip(ip("::ffff:10.1.2.3"), None, xff("198.51.100.7")),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxies.client_ip(ip("192.0.2.10"), None, xff("::ffff:198.51.100.7")),
            ip("198.51.100.7")
        );
        // A mapped hop of a trusted range is skipped; the client comes out as IPv4.
        let fwd = Some(r#"for=198.51.100.7, for="[::ffff:10.9.9.9]:80""#);
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), fwd, None),
            ip("198.51.100.7")
        );
        assert_eq!(
            TrustedProxies::default().client_ip(ip("::ffff:203.0.113.9"), None, None),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::parse("::ffff:10.0.0.0/104").unwrap().0,
            vec!["10.0.0.0/8".parse::<IpNet>().unwrap()]
        );
    }
}
