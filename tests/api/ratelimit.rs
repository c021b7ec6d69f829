//! Brute-force and overload protection: per-IP, per-account and per-pair limits shared through
//! Redis, trusted proxies, and admission control for Argon2.

use std::time::Duration;

use crate::helpers::{assert_rate_limited, fresh_ip, unique, Backend, RawSettings, TestApp};

fn limits(ip: u32, account: u32) -> impl FnOnce(&mut RawSettings) {
    move |raw: &mut RawSettings| {
        raw.login_ip_limit_per_minute = ip;
        raw.login_account_failure_limit = account;
        raw.trusted_proxies = "127.0.0.1/32".into();
    }
}

/// [`limits`] with the account back-off starting at `backoff_ms`.
pub(crate) fn limits_with_backoff(
    ip: u32,
    account: u32,
    backoff_ms: u64,
) -> impl FnOnce(&mut RawSettings) {
    move |raw: &mut RawSettings| {
        limits(ip, account)(raw);
        raw.login_backoff_base_ms = backoff_ms;
    }
}

#[tokio::test]
async fn the_eleventh_attempt_from_one_ip_in_a_minute_is_429() {
    let app = TestApp::spawn_with(Backend::Redis, limits(10, 0)).await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    let ip = fresh_ip();
    for i in 0..10 {
        let res = app
            .password_grant_from(
                &client,
                &user,
                if i == 0 { &password } else { "wrong" },
                Some(&ip),
            )
            .await;
        assert_ne!(res.status(), 429, "attempt {}", i + 1);
    }
    // Limited whether or not the password is right, with the same answer.
    let wrong = app
        .password_grant_from(&client, &user, "wrong", Some(&ip))
        .await;
    let right = app
        .password_grant_from(&client, &user, &password, Some(&ip))
        .await;
    assert_rate_limited(wrong).await;
    assert_rate_limited(right).await;
    // Another address is not affected.
    assert_eq!(
        app.password_grant_from(&client, &user, &password, Some(&fresh_ip()))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn forwarded_headers_count_only_behind_a_trusted_proxy() {
    // No trusted proxies: the header is ignored and every attempt is the peer's (127.0.0.1).
    // The memory store gives this test its own counters.
    let app = TestApp::spawn_with(Backend::Memory, |raw| raw.login_ip_limit_per_minute = 3).await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    for _ in 0..3 {
        assert_eq!(
            app.password_grant_from(&client, &user, &password, Some(&fresh_ip()))
                .await
                .status(),
            200
        );
    }
    assert_rate_limited(
        app.password_grant_from(&client, &user, &password, Some(&fresh_ip()))
            .await,
    )
    .await;

    // Behind a trusted proxy the right-most untrusted address is the client.
    let app = TestApp::spawn_with(Backend::Memory, |raw| {
        raw.login_ip_limit_per_minute = 3;
        raw.trusted_proxies = "127.0.0.1/32".into();
    })
    .await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    let spoofed_then_real = |real: &str| format!("6.6.6.6, {real}");
    let a = fresh_ip();
    for _ in 0..3 {
        assert_eq!(
            app.password_grant_from(&client, &user, &password, Some(&spoofed_then_real(&a)))
                .await
                .status(),
            200
        );
    }
    assert_rate_limited(
        app.password_grant_from(&client, &user, &password, Some(&spoofed_then_real(&a)))
            .await,
    )
    .await;
    // A different real client behind the same proxy has its own budget.
    assert_eq!(
        app.password_grant_from(&client, &user, &password, Some(&fresh_ip()))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn one_account_counter_for_every_spelling_of_the_name() {
    let app = TestApp::spawn_with(Backend::Redis, limits_with_backoff(0, 5, 60_000)).await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    let spellings = [
        user.to_uppercase(),
        format!(" {user} "),
        user.clone(),
        user.to_uppercase(),
        format!("{user}  "),
    ];
    let ips: Vec<String> = spellings.iter().map(|_| fresh_ip()).collect();
    for (name, ip) in spellings.iter().zip(&ips) {
        let res = app
            .password_grant_from(&client, name, "wrong", Some(ip))
            .await;
        assert_eq!(res.status(), 400);
    }
    // Five failures of one account: an address that failed now waits, whatever it sends.
    let retry = assert_rate_limited(
        app.password_grant_from(&client, &user, &password, Some(&ips[0]))
            .await,
    )
    .await;
    assert!(retry > 1, "back-off comes from the configured base");
    // Unknown usernames are limited exactly like known ones.
    let ghost = unique("ghost");
    let ips: Vec<String> = (0..5).map(|_| fresh_ip()).collect();
    for ip in &ips {
        assert_eq!(
            app.password_grant_from(&client, &ghost, "wrong", Some(ip))
                .await
                .status(),
            400
        );
    }
    assert_rate_limited(
        app.password_grant_from(&client, &ghost, "wrong", Some(&ips[4]))
            .await,
    )
    .await;
}

#[tokio::test]
async fn fifty_parallel_wrong_passwords_do_not_overshoot() {
    let app = TestApp::spawn_with(Backend::Redis, limits_with_backoff(10, 5, 60_000)).await;
    let client = app.public_client().await;
    let (user, _, _) = app.user().await;
    let ip = fresh_ip();
    let attempts = (0..50).map(|_| app.password_grant_from(&client, &user, "wrong", Some(&ip)));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 400).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        checked, 5,
        "exactly the account limit reached a password check: {statuses:?}"
    );
    assert_eq!(limited, 45);
}

#[tokio::test]
async fn two_instances_share_the_limits() {
    let a = TestApp::spawn_with(Backend::Redis, limits(4, 0)).await;
    let b = TestApp::spawn_with(Backend::Redis, limits(4, 0)).await;
    let client = a.public_client().await;
    let (user, password, _) = a.user().await;
    let ip = fresh_ip();
    for app in [&a, &b, &a, &b] {
        assert_eq!(
            app.password_grant_from(&client, &user, &password, Some(&ip))
                .await
                .status(),
            200
        );
    }
    assert_rate_limited(
        a.password_grant_from(&client, &user, &password, Some(&ip))
            .await,
    )
    .await;
    assert_rate_limited(
        b.password_grant_from(&client, &user, &password, Some(&ip))
            .await,
    )
    .await;
}

#[tokio::test]
async fn a_password_flood_beyond_the_queue_gets_503_while_jwks_answers() {
    let app = TestApp::spawn_with(Backend::Redis, |raw| {
        raw.hash_concurrency = Some(1);
        raw.hash_queue_limit = 2;
        // One user logging in 40 times at once would meet the account limit first.
        raw.login_account_failure_limit = 0;
    })
    .await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    let flood = (0..40).map(|_| {
        let app = &app;
        let (client, user, password) = (client.clone(), user.clone(), password.clone());
        async move {
            let res = app
                .password_grant_from(&client, &user, &password, None)
                .await;
            let status = res.status().as_u16();
            let retry = res.headers().get("retry-after").is_some();
            (status, retry)
        }
    });
    let jwks = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        app.get_jwks(None).await.status()
    };
    let (results, jwks_status) = tokio::join!(futures_util::future::join_all(flood), jwks);
    assert_eq!(jwks_status, 200);
    assert!(
        results.iter().all(|(s, _)| *s == 200 || *s == 503),
        "{results:?}"
    );
    assert!(results.iter().any(|(s, _)| *s == 200));
    let shed: Vec<_> = results.iter().filter(|(s, _)| *s == 503).collect();
    assert!(!shed.is_empty(), "some requests must be shed");
    assert!(
        shed.iter().all(|(_, retry)| *retry),
        "503 carries Retry-After"
    );
}

/// A random IPv6 /64 prefix (documentation range, RFC 3849), so tests never share a counter.
fn fresh_64() -> String {
    let n = uuid::Uuid::new_v4().as_u128();
    format!("2001:db8:{:x}:{:x}", n as u16, (n >> 16) as u16)
}

#[tokio::test]
async fn addresses_in_one_ipv6_64_share_the_per_ip_limit() {
    let app = TestApp::spawn_with(Backend::Redis, limits(3, 0)).await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    let net = fresh_64();
    for ip in [
        format!("{net}::1"),
        format!("{net}:ffff::2"),
        format!("[{net}:1:2:3:4]:443"),
    ] {
        let res = app
            .password_grant_from(&client, &user, &password, Some(&ip))
            .await;
        assert_eq!(res.status(), 200, "{ip}");
    }
    assert_rate_limited(
        app.password_grant_from(&client, &user, &password, Some(&format!("{net}::abcd")))
            .await,
    )
    .await;
    // The next /64 is another client.
    let res = app
        .password_grant_from(
            &client,
            &user,
            &password,
            Some(&format!("{}::1", fresh_64())),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn ipv4_mapped_addresses_are_ipv4_for_limits_and_trusted_proxies() {
    let app = TestApp::spawn_with(Backend::Redis, |raw: &mut RawSettings| {
        limits(3, 0)(raw);
        raw.trusted_proxies = "127.0.0.1/32, 10.0.0.0/8".into();
    })
    .await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    let n = uuid::Uuid::new_v4().as_u128();
    // 198.18.0.0/15, the benchmarking range (RFC 2544): outside the trusted proxies.
    let ip = format!(
        "198.{}.{}.{}",
        18 + (n as u8 & 1),
        (n >> 8) as u8,
        (n >> 16) as u8
    );
    for xff in [
        format!("::ffff:{ip}"),
        ip.clone(),
        // A trusted proxy that writes the IPv4-mapped form is still a trusted proxy.
        format!("{ip}, ::ffff:10.1.2.3"),
    ] {
        let res = app
            .password_grant_from(&client, &user, &password, Some(&xff))
            .await;
        assert_eq!(res.status(), 200, "{xff}");
    }
    assert_rate_limited(
        app.password_grant_from(&client, &user, &password, Some(&ip))
            .await,
    )
    .await;
}
