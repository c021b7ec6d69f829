//! Lockout without denial of service: an address that keeps failing on an account is held back
//! by its own pair limit and never keeps the owner out, an address that failed learns nothing
//! while the account backs off, and the per-hour figures of the `ratelimit` module docs and
//! the README, replayed on the store's own arithmetic with a simulated clock.

use std::net::{IpAddr, Ipv4Addr};

use tessera::store::memory::MemoryStore;
use tessera::store::{Backend as _, Backoff, Limit, Store};

use crate::helpers::fresh_ip;
use crate::helpers::{assert_rate_limited, Backend, RawSettings, TestApp};
use crate::ratelimit::limits_with_backoff;

#[tokio::test]
async fn one_address_guessing_does_not_keep_the_owner_out() {
    let app = TestApp::spawn_with(Backend::Redis, limits_with_backoff(0, 5, 60_000)).await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    let attacker = fresh_ip();
    for _ in 0..5 {
        let res = app
            .password_grant_from(&client, &user, "guess", Some(&attacker))
            .await;
        assert_eq!(res.status(), 400);
    }
    // The attacker meets its pair limit...
    assert_rate_limited(
        app.password_grant_from(&client, &user, "guess", Some(&attacker))
            .await,
    )
    .await;
    // ...and the owner, elsewhere, is let straight in: one address never starts the back-off.
    let owner = fresh_ip();
    let res = app
        .password_grant_from(&client, &user, &password, Some(&owner))
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn during_a_back_off_only_addresses_without_failures_are_heard() {
    let app = TestApp::spawn_with(Backend::Redis, limits_with_backoff(0, 5, 60_000)).await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    // Five addresses fail once each: the account backs off for a minute.
    let attackers: Vec<String> = (0..5).map(|_| fresh_ip()).collect();
    for ip in &attackers {
        let res = app
            .password_grant_from(&client, &user, "guess", Some(ip))
            .await;
        assert_eq!(res.status(), 400);
    }
    // An address that failed is refused before its password is looked at: the right one gets
    // the same 429 as a wrong one, so it learns nothing.
    let right = app
        .password_grant_from(&client, &user, &password, Some(&attackers[0]))
        .await;
    let wrong = app
        .password_grant_from(&client, &user, "guess", Some(&attackers[1]))
        .await;
    assert!(assert_rate_limited(right).await > 1);
    assert!(assert_rate_limited(wrong).await > 1);
    // An address without failures is heard: the owner signs in, a new guess is checked.
    let owner = app
        .password_grant_from(&client, &user, &password, Some(&fresh_ip()))
        .await;
    assert_eq!(owner.status(), 200);
    let guess = app
        .password_grant_from(&client, &user, "guess", Some(&fresh_ip()))
        .await;
    assert_eq!(guess.status(), 400);
    // The owner's success does not reopen the account to the addresses that failed.
    assert_rate_limited(
        app.password_grant_from(&client, &user, "guess", Some(&attackers[2]))
            .await,
    )
    .await;
}

/// The per-IP limit and the account rule of `config/default.toml`.
fn defaults() -> (u32, Backoff) {
    let raw = RawSettings::default();
    let rule = Backoff {
        failure_limit: raw.login_account_failure_limit,
        window_ms: raw.login_failure_window * 1000,
        base_ms: raw.login_backoff_base_ms,
        max_ms: raw.login_backoff_max * 1000,
    };
    (raw.login_ip_limit_per_minute, rule)
}

/// What an hour of attack on one account yields.
#[derive(Debug, Default, PartialEq, Eq)]
struct Hour {
    /// Wrong passwords that reached the password check.
    guesses: u32,
    /// The owner's sign-ins (once a minute, own address, right password) that were refused.
    owner_refused: u32,
}

/// One hour with the default settings: each of `attackers` addresses sends a wrong password as
/// often as its per-IP limit allows, the owner signs in once a minute. The limiter's steps in
/// its order (per IP, then account and pair; a success clears the pair) on the memory twin of
/// the Redis scripts, at simulated times.
async fn hour_of_attack(attackers: u32) -> Hour {
    let store = Store::Memory(MemoryStore::new());
    let (per_minute, rule) = defaults();
    let owner = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let start = 1_000_000_000_000u64;
    let mut hour = Hour::default();
    let heard = |ip, now| {
        let store = &store;
        async move {
            store.ip_attempt(ip, now, per_minute).await.unwrap() == Limit::Allowed
                && store
                    .account_attempt("victim", ip, now, &rule)
                    .await
                    .unwrap()
                    == Limit::Allowed
        }
    };
    for t in (0..3_600_000).step_by(60_000 / per_minute as usize) {
        let now = start + t;
        for i in 0..attackers {
            // 198.18.0.0/15, the benchmarking range (RFC 2544).
            if heard(IpAddr::V4(Ipv4Addr::from(0xC612_0000 + i)), now).await {
                hour.guesses += 1;
            }
        }
        if t % 60_000 == 0 {
            if heard(owner, now).await {
                store.login_success("victim", owner, now).await.unwrap();
            } else {
                hour.owner_refused += 1;
            }
        }
    }
    hour
}

#[tokio::test]
async fn the_documented_hourly_figures_hold() {
    // One address: its pair limit, 5 per 15-minute window; the account never backs off.
    let one = hour_of_attack(1).await;
    assert_eq!((one.guesses, one.owner_refused), (20, 0), "{one:?}");
    // 1,000 addresses: each one's first failure per window; the back-off refuses the rest.
    let many = hour_of_attack(1_000).await;
    assert_eq!((many.guesses, many.owner_refused), (4_000, 0), "{many:?}");
}
