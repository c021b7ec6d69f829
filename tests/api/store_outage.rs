//! Redis down, hung and back: requests answer 503 within about `redis_timeout_ms`, and the
//! first request after Redis returns succeeds (no failure on a stale connection).
//!
//! The bound: with `redis_timeout_ms = 500` a request's store work ends within one timeout
//! (the first failing command ends the request). [`BOUND`] is five times that, generous for a
//! loaded 2-core machine running other tests (Argon2, scheduling delays), yet under what the
//! old connection manager took: a reconnection with two retries and back-off sleeps of about
//! a second each (2 to 4 s), and 3 × 500 ms connection attempts against a hung server.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{basic, random_token, Backend, NewClient, PrivateRedis, TestApp};

const TIMEOUT_MS: u64 = 500;
const BOUND: Duration = Duration::from_millis(2500);

/// A server on `redis` with the test timeout; a confidential client_credentials client (its
/// id and secret), a public password client and a signed-in user's refresh token.
async fn app_on(redis: &PrivateRedis) -> (TestApp, String, String, String, String) {
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let app = TestApp::spawn_with(Backend::Redis, |raw| {
        raw.redis_url = Some(url.clone());
        raw.redis_timeout_ms = TIMEOUT_MS;
        // Every request asks the store for its client, so every one needs Redis.
        raw.client_cache_ttl = 0;
    })
    .await;
    let secret = random_token();
    let (service, _) = app
        .register(NewClient::confidential(&["client_credentials"], &[]).secret(&secret))
        .await;
    let public = app.public_client().await;
    let (user, password, _) = app.user().await;
    let login = app.login(&public, &user, &password).await;
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();
    (app, service, secret, public, refresh)
}

/// A client_credentials request: its status and how long it took.
async fn service_token(app: &TestApp, client: &str, secret: &str) -> (u16, Duration) {
    let started = Instant::now();
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header("authorization", basic(client, secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    if status == 503 {
        assert!(res.headers().contains_key("retry-after"));
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }
    (status, elapsed)
}

/// A refresh-token rotation (a script that must never run twice): the new refresh token.
async fn rotate(app: &TestApp, client: &str, refresh: &str) -> String {
    let res = app.refresh(client, refresh, None).await;
    assert_eq!(res.status(), 200, "the first request after Redis returned");
    let body: Value = res.json().await.unwrap();
    body["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_stopped_redis_answers_503_quickly_and_the_first_request_after_its_return_succeeds() {
    let redis = PrivateRedis::start();
    let (app, service, secret, public, refresh) = app_on(&redis).await;
    assert_eq!(service_token(&app, &service, &secret).await.0, 200);

    // Restarted while idle: the connection died with no request to notice; the first
    // request after the return (a rotation, never retried) must not fail on it.
    redis.save();
    let (port, dir) = redis.stop();
    let redis = PrivateRedis::start_on(port, dir);
    let refresh = rotate(&app, &public, &refresh).await;

    // Down, with requests meanwhile: each answers 503 within the bound, again and again.
    redis.save();
    let (port, dir) = redis.stop();
    for _ in 0..3 {
        let (status, elapsed) = service_token(&app, &service, &secret).await;
        assert_eq!(status, 503);
        assert!(elapsed < BOUND, "503 after {elapsed:?}");
    }
    let _redis = PrivateRedis::start_on(port, dir);
    rotate(&app, &public, &refresh).await;
    assert_eq!(service_token(&app, &service, &secret).await.0, 200);
}

#[tokio::test]
async fn a_hung_redis_answers_503_within_the_timeout_and_recovers_when_it_answers_again() {
    let redis = PrivateRedis::start();
    let (app, service, secret, public, refresh) = app_on(&redis).await;
    redis.freeze(true);
    for _ in 0..3 {
        let (status, elapsed) = service_token(&app, &service, &secret).await;
        assert_eq!(status, 503);
        assert!(elapsed < BOUND, "503 after {elapsed:?}");
    }
    redis.freeze(false);
    rotate(&app, &public, &refresh).await;
    assert_eq!(service_token(&app, &service, &secret).await.0, 200);
}
