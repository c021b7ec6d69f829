//! The refresh grace window (`refresh_reuse_grace`): the parent of the current refresh token
//! presented again within the window gets the same successor, so parallel refreshes (two tabs,
//! a retried request) never log anyone out; anything else stays reuse and revokes the family
//! (RFC 9700 §4.14.2). On both store backends.

use std::collections::HashSet;

use crate::helpers::{access_token, claims, refresh_token, Backend, TestApp};

async fn grace_app(backend: Backend, grace: u64) -> (TestApp, String, String) {
    let app = TestApp::spawn_with(backend, |raw| raw.refresh_reuse_grace = grace).await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let login = app.login(&client, &username, &password).await;
    (app, client, refresh_token(&login))
}

async fn fifty_parallel_refreshes_share_one_successor(backend: Backend) {
    let (app, client, rt0) = grace_app(backend, 30).await;
    let answers = app.parallel_refreshes(&client, &rt0, 50).await;
    let mut successors = HashSet::new();
    let mut access = HashSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        successors.insert(refresh_token(body));
        access.insert(access_token(body));
    }
    assert_eq!(successors.len(), 1, "one and the same new refresh token");
    assert_eq!(access.len(), 50, "a fresh access token each");
    let rt1 = successors.into_iter().next().unwrap();
    assert_ne!(rt1, rt0);
    let sid = claims(&access_token(&answers[0].1))["sid"].clone();
    assert!(app.family_alive(sid.as_str().unwrap()).await);

    // That token refreshes normally...
    let rt2 = refresh_token(&app.refresh_ok(&client, &rt1).await);
    assert_ne!(rt2, rt1);
    // ...and once it has been used, the original token is reuse: the family is revoked.
    app.assert_refresh_dead(&client, &rt0).await;
    assert!(!app.family_alive(sid.as_str().unwrap()).await);
    app.assert_refresh_dead(&client, &rt2).await;
}

#[tokio::test]
async fn fifty_parallel_refreshes_within_the_grace_share_one_successor_on_redis() {
    fifty_parallel_refreshes_share_one_successor(Backend::Redis).await;
}

#[tokio::test]
async fn fifty_parallel_refreshes_within_the_grace_share_one_successor_in_memory() {
    fifty_parallel_refreshes_share_one_successor(Backend::Memory).await;
}

async fn the_parent_after_the_window_is_reuse(backend: Backend) {
    let (app, client, rt0) = grace_app(backend, 1).await;
    let first = app.refresh_ok(&client, &rt0).await;
    let sid = claims(&access_token(&first))["sid"].clone();
    // Within the window: the same successor again.
    let again = app.refresh_ok(&client, &rt0).await;
    assert_eq!(refresh_token(&again), refresh_token(&first));
    // After it: reuse, and the whole family is revoked.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    app.assert_refresh_dead(&client, &rt0).await;
    assert!(!app.family_alive(sid.as_str().unwrap()).await);
    app.assert_refresh_dead(&client, &refresh_token(&first))
        .await;
}

#[tokio::test]
async fn the_parent_after_the_window_is_reuse_on_redis() {
    the_parent_after_the_window_is_reuse(Backend::Redis).await;
}

#[tokio::test]
async fn the_parent_after_the_window_is_reuse_in_memory() {
    the_parent_after_the_window_is_reuse(Backend::Memory).await;
}

#[tokio::test]
async fn an_older_token_within_the_window_is_reuse() {
    for backend in [Backend::Redis, Backend::Memory] {
        let (app, client, rt0) = grace_app(backend, 30).await;
        let rt1 = refresh_token(&app.refresh_ok(&client, &rt0).await);
        let rt2 = refresh_token(&app.refresh_ok(&client, &rt1).await);
        // rt0 is the grandparent of the current token: reuse even within the window.
        app.assert_refresh_dead(&client, &rt0).await;
        app.assert_refresh_dead(&client, &rt2).await;
    }
}

#[tokio::test]
async fn the_parent_from_another_client_is_refused() {
    let (app, client, rt0) = grace_app(Backend::Redis, 30).await;
    let rt1 = refresh_token(&app.refresh_ok(&client, &rt0).await);
    let other = app.public_client().await;
    let res = app.refresh(&other, &rt0, None).await;
    assert_eq!(res.status(), 400);
    // A rotated token from the wrong client is treated as leaked: the family is gone.
    app.assert_refresh_dead(&client, &rt1).await;
}
