//! HTTP hardening: admin answers are never cached, a second sign-in tab does not break the
//! first, slow request bodies are cut off, connections per client address are bounded.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{eventually, header, Backend, TestApp};

/// An upper bound for answers that must come within a 500 ms setting: ten times that, for a
/// loaded 2-core machine; without the fix no answer comes at all (the server waits forever).
const BOUND: Duration = Duration::from_secs(5);

/// A raw TCP connection to `app`.
async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads what the server sends until it closes the connection or `BOUND` passes.
async fn read_answer(conn: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    while started.elapsed() < BOUND {
        match tokio::time::timeout(BOUND - started.elapsed(), conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
        }
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// A `GET /healthz` on `conn` answers 200.
async fn healthy(conn: &mut TcpStream) -> bool {
    let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    conn.write_all(request.as_bytes()).await.is_ok()
        && read_answer(conn).await.starts_with("HTTP/1.1 200")
}

#[tokio::test]
async fn admin_api_answers_carry_no_store() {
    let app = TestApp::spawn_with(Backend::Memory, |_| {}).await;
    let (admin, token) = app.admin_token().await;
    let res = app
        .admin_users_create(&token, &json!({"username": "cached"}))
        .await;
    assert_eq!(res.status(), 201);
    let sub = res.json::<Value>().await.unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let gets = [
        "/clients".to_owned(),
        format!("/clients/{admin}"),
        "/clients/no-such-client".to_owned(),
        "/users".to_owned(),
        format!("/users/{sub}"),
        format!("/users/{sub}/sessions"),
    ];
    for path in &gets {
        let res = app.admin(Method::GET, path, Some(&token), None).await;
        assert!(res.status().as_u16() < 500, "{path}: {}", res.status());
        // RFC 9111 §5.2.2.5.
        assert_eq!(
            header(&res, "cache-control"),
            "no-store",
            "GET /admin{path}"
        );
    }
    let res = app.admin(Method::GET, "/clients", None, None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(header(&res, "cache-control"), "no-store", "an error too");
}

#[tokio::test]
async fn a_second_sign_in_tab_does_not_break_the_first() {
    let app = TestApp::spawn_with(Backend::Memory, |_| {}).await;
    let mut flow = app.spa_flow(false).await;
    let other = crate::helpers::pkce();
    let second_url = app.authorize_url(&flow.client, &other.challenge, &[]);
    // One browser (one cookie jar), two tabs: each opened its own sign-in page.
    let first = flow.browser.get(&flow.url).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = flow.browser.get(&second_url).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_ne!(first.field("request_id"), second.field("request_id"));

    // The double submit still holds: a wrong token is refused.
    let forged = flow
        .browser
        .post_login(&[
            ("request_id", &first.field("request_id")),
            ("csrf", "x".repeat(43).as_str()),
            ("username", &flow.username),
            ("password", &flow.password),
        ])
        .await;
    assert!((400..500).contains(&forged.status), "{}", forged.status);

    let done = flow
        .browser
        .submit_login(&first, &flow.username, &flow.password)
        .await;
    assert_eq!(done.status, 303, "the first tab: {}", done.body);
    let code = done.query()["code"].clone();
    let done = flow
        .browser
        .submit_login(&second, &flow.username, &flow.password)
        .await;
    assert_eq!(done.status, 303, "the second tab: {}", done.body);
    assert_ne!(done.query()["code"], code);
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_with_408() {
    let app = TestApp::spawn_with(Backend::Memory, |raw| raw.body_timeout_ms = 500).await;
    let mut conn = connect(&app).await;
    let head = "POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n";
    conn.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (mut read, mut write) = conn.into_split();
    // One byte every 100 ms: the connection is never idle, the body never complete.
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if write.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") && started.elapsed() < BOUND {
        match tokio::time::timeout(BOUND, read.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    // RFC 9110 §15.5.9.
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        started.elapsed() < BOUND,
        "answered after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn connections_per_client_address_are_bounded() {
    let app = TestApp::spawn_with(Backend::Memory, |raw| raw.max_connections_per_ip = 3).await;
    let mut open = Vec::new();
    // Each connection answers a request before the next one opens: the server's workers take
    // connections in parallel, so only an answered connection is sure to be counted already.
    for _ in 0..3 {
        let mut conn = connect(&app).await;
        assert!(healthy(&mut conn).await);
        open.push(conn);
    }
    // The fourth idle connection from 127.0.0.1 is closed before it sends anything.
    let mut fourth = connect(&app).await;
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(BOUND, fourth.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the fourth connection stays open: {read:?}"
    );
    // The first three still serve requests.
    for conn in &mut open {
        assert!(healthy(conn).await);
    }
    // A closed connection no longer counts.
    drop(open.pop());
    eventually(BOUND, "a new connection is served", || async {
        healthy(&mut connect(&app).await).await
    })
    .await;
}
