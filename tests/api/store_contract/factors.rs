//! The second-factor limit (`rl:factor:<sub>`) and the attempt budget of typed records, as
//! both backends run them.

use std::net::IpAddr;

use tessera::store::{Backend, Backoff, FactorBackend, Limit, LimitedBy, Store};

/// Counted before the factor is checked, with the account back-off; cleared by a right factor
/// only (a correct password clears the account's password counters, not this one).
pub async fn factor_limit_contract(store: &Store) {
    let rule = Backoff {
        failure_limit: 2,
        window_ms: 60_000,
        base_ms: 1_000,
        max_ms: 8_000,
    };
    let sub = uuid::Uuid::new_v4().to_string();
    let now = 1_000_000_000_000u64;
    let attempt = |at: u64| {
        let sub = sub.clone();
        async move { store.factor_attempt(&sub, at, &rule).await.unwrap() }
    };
    assert_eq!(attempt(now).await, Limit::Allowed);
    // The second reaches the limit and starts a back-off of base_ms.
    assert_eq!(attempt(now).await, Limit::Allowed);
    let limited = |retry_after_ms| Limit::Limited {
        by: LimitedBy::SecondFactor,
        retry_after_ms,
    };
    assert_eq!(attempt(now + 10).await, limited(990));
    // A correct password (the account limit's success) changes nothing here.
    let ip: IpAddr = "198.51.100.1".parse().unwrap();
    store.login_success(&sub, ip, now + 20).await.unwrap();
    assert_eq!(attempt(now + 20).await, limited(980));
    // After the back-off the next attempt is let through and doubles it.
    assert_eq!(attempt(now + 1_000).await, Limit::Allowed);
    assert_eq!(attempt(now + 1_000).await, limited(2_000));
    // A right factor clears it.
    store.factor_success(&sub).await.unwrap();
    assert_eq!(attempt(now + 1_000).await, Limit::Allowed);
    assert_eq!(attempt(now + 1_000).await, Limit::Allowed);
    assert_eq!(attempt(now + 1_001).await, limited(999));
    // Another user is not affected.
    let other = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        store.factor_attempt(&other, now, &rule).await.unwrap(),
        Limit::Allowed
    );
}
