//! Running for real: key rotation across instances, JWKS caching, several instances on one
//! Redis, Redis outages, graceful shutdown, metrics.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{
    basic, eventually, free_port, generate_key, kid_of, random_token, unique, Backend, NewClient,
    PrivateRedis, RawSettings, TestApp,
};

#[tokio::test]
async fn a_rotation_on_one_instance_is_published_first_then_used_by_all() {
    let dir = tempfile::tempdir().unwrap();
    let old = generate_key(dir.path());
    let tweak = |raw: &mut RawSettings| {
        raw.keys_dir = dir.path().to_owned();
        raw.key_refresh_interval = 1;
    };
    let a = TestApp::spawn_with(Backend::Redis, tweak).await;
    let b = TestApp::spawn_with(Backend::Redis, tweak).await;
    let client = a.public_client().await;
    let (user, password, _) = a.user().await;

    let etag = a.get_jwks(None).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    // RFC 9110 §13.1.2: a matching If-None-Match gets 304.
    let res = a.get_jwks(Some(&etag)).await;
    assert_eq!(res.status(), 304);

    // Rotate on A's store with a 3-second pre-publication delay.
    let new = a.rotate_keys(dir.path(), 3).await;
    for app in [&a, &b] {
        eventually(Duration::from_secs(5), "new key published", || async {
            app.jwks_kids().await.contains(&new)
        })
        .await;
    }
    // Published, not yet signing: verifiers with a cached JWKS meet no unknown kid.
    let token = b.login(&client, &user, &password).await;
    assert_eq!(kid_of(token["access_token"].as_str().unwrap()), old);
    let res = a.get_jwks(Some(&etag)).await;
    assert_eq!(res.status(), 200, "the JWKS changed, so its ETag did");

    eventually(
        Duration::from_secs(8),
        "B signs with the new key",
        || async {
            let token = b.login(&client, &user, &password).await;
            kid_of(token["access_token"].as_str().unwrap()) == new
        },
    )
    .await;
    // The retired key stays published while its tokens live.
    assert!(b.jwks_kids().await.contains(&old));
    // Another rotation while one is pending is refused; none is pending now.
    assert!(a.prune_keys(dir.path(), 3600).await.is_empty());
}

#[tokio::test]
async fn two_instances_share_sessions_and_revocations() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn().await;
    let client = a.public_client().await;
    let (user, password, _) = a.user().await;
    let svc_secret = random_token();
    let (svc_client, _) = a
        .register(
            NewClient::confidential(&["client_credentials"], &[])
                .id(unique("svc"))
                .secret(&svc_secret),
        )
        .await;

    let login = a.login(&client, &user, &password).await;
    // Issued by A, refreshed on B.
    let res = b
        .refresh(&client, login["refresh_token"].as_str().unwrap(), None)
        .await;
    assert_eq!(res.status(), 200);
    let refreshed: Value = res.json().await.unwrap();
    // Revoked on B, seen by introspection on A at once.
    let res = b
        .post_revoke(&[
            ("token", refreshed["refresh_token"].as_str().unwrap()),
            ("client_id", client.as_str()),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let res = a
        .post_introspect(
            Some(&basic(&svc_client, &svc_secret)),
            &[("token", refreshed["access_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["active"], false);
}

#[tokio::test]
async fn a_redis_outage_gives_503_not_500_and_heals_by_itself() {
    let redis = PrivateRedis::start();
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let app = TestApp::spawn_with(Backend::Redis, |raw| {
        raw.redis_url = Some(url.clone());
        raw.redis_timeout_ms = 300;
        raw.client_cache_ttl = 0;
    })
    .await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    let login = app.login(&client, &user, &password).await;
    let (port, dir) = redis.stop();

    // Every path that needs Redis answers 503 + Retry-After; none answers 500.
    let attempts = [
        vec![
            ("grant_type", "password"),
            ("client_id", client.as_str()),
            ("username", user.as_str()),
            ("password", password.as_str()),
        ],
        vec![
            ("grant_type", "refresh_token"),
            ("client_id", client.as_str()),
            ("refresh_token", login["refresh_token"].as_str().unwrap()),
        ],
    ];
    for form in &attempts {
        let res = app.post_token(form).await;
        assert_eq!(res.status(), 503);
        assert!(res.headers().contains_key("retry-after"));
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"],
            "temporarily_unavailable"
        );
    }
    let res = app
        .get_userinfo(Some(login["access_token"].as_str().unwrap()))
        .await;
    assert_eq!(res.status(), 503);
    // JWKS and discovery need no Redis.
    for path in [
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/healthz",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert!(ready.headers().contains_key("retry-after"));
    // No metrics token is configured: operators see which store failed and why.
    let body: Value = ready.json().await.unwrap();
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("Redis at redis://127.0.0.1:{port}")),
        "{detail}"
    );
    assert!(
        detail.contains("refused") || detail.contains("timed out after"),
        "{detail}"
    );

    // Redis returns (empty: it keeps nothing); the service recovers with no restart.
    let _redis = PrivateRedis::start_on(port, dir);
    eventually(Duration::from_secs(15), "readyz recovers", || async {
        app.get("/readyz").await.status() == 200
    })
    .await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    assert!(app.login(&client, &user, &password).await["access_token"].is_string());
    let metrics = app.get_metrics(None).await.text().await.unwrap();
    let errors: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tessera_store_errors_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(errors > 0.0, "store errors are counted");
}

#[tokio::test]
async fn readyz_details_are_for_the_metrics_token_only_when_one_is_set() {
    let redis = PrivateRedis::start();
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let app = TestApp::spawn_with(Backend::Redis, |raw| {
        raw.redis_url = Some(url.clone());
        raw.redis_timeout_ms = 300;
        raw.metrics_token = Some("scrape-secret".into());
    })
    .await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let (port, _dir) = redis.stop();
    let anonymous: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(anonymous["status"], "unavailable");
    assert!(anonymous.get("detail").is_none(), "{anonymous}");
    let res = app.get_metrics(Some("scrape-secret")).await;
    assert_eq!(res.status(), 200, "the same token opens /metrics");
    let req = app
        .http
        .get(app.url("/readyz"))
        .bearer_auth("scrape-secret");
    let operator: Value = req.send().await.unwrap().json().await.unwrap();
    let detail = operator["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("127.0.0.1:{port}")), "{detail}");
}

#[tokio::test]
async fn metrics_count_requests_and_tokens_and_can_be_protected() {
    let app = TestApp::spawn_with(Backend::Memory, |raw| {
        raw.metrics_token = Some("scrape-secret".into())
    })
    .await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    app.login(&client, &user, &password).await;
    let res = app.get_metrics(None).await;
    assert_eq!(res.status(), 401);
    let res = app.get_metrics(Some("scrape-secret")).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(r#"tessera_tokens_issued_total{grant="password"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"tessera_http_requests_total{method="POST",route="/oauth2/token",status="200"} 1"#
        ),
        "{text}"
    );
    for name in [
        "tessera_http_request_duration_seconds_bucket",
        "tessera_password_hash_in_flight",
        "tessera_password_hash_wait_seconds_count",
        "tessera_signing_key_age_seconds",
        "tessera_refresh_reuse_detected_total",
    ] {
        assert!(text.contains(name), "{name}");
    }
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_then_exits_zero() {
    let port = free_port();
    let keys = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["serve", "--dev"])
        .env("TESSERA_LISTEN", format!("127.0.0.1:{port}"))
        .env("TESSERA_ISSUER", format!("http://127.0.0.1:{port}"))
        .env("TESSERA_KEYS_DIR", keys.path())
        .env("TESSERA_LOGIN_ACCOUNT_FAILURE_LIMIT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The demo password is printed once on stdout.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut password = String::new();
    for _ in 0..10 {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        if let Some(p) = line.trim().strip_prefix("password:") {
            password = p.trim().to_owned();
            break;
        }
    }
    assert!(!password.is_empty());
    let base = format!("http://127.0.0.1:{port}");
    let http = crate::helpers::http_client().build().unwrap();
    eventually(Duration::from_secs(10), "server ready", || async {
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    let logins = (0..6).map(|_| {
        let (http, base, password) = (http.clone(), base.clone(), password.clone());
        tokio::spawn(async move {
            http.post(format!("{base}/oauth2/token"))
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", "demo-app"),
                    ("username", "demo"),
                    ("password", &password),
                ])
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    });
    let logins: Vec<_> = logins.collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for login in logins {
        assert_eq!(
            login.await.unwrap().unwrap(),
            200,
            "in-flight request finished"
        );
    }
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(
        http.get(format!("{base}/healthz")).send().await.is_err(),
        "new requests refused"
    );
}

/// A command to a redis-server or Sentinel at `port` (test plumbing, synchronous).
fn redis_cmd(port: u16, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?;
    let mut conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(&mut conn)
}

fn info_contains(port: u16, args: &[&str], needle: &str) -> bool {
    match redis_cmd(port, args) {
        Ok(value) => format!("{value:?}").contains(needle),
        Err(_) => false,
    }
}

#[tokio::test]
async fn sentinel_failover_is_followed_without_a_restart() {
    let master = PrivateRedis::start();
    let replica_port = free_port();
    let master_port = master.port.to_string();
    let replica = PrivateRedis::start_with(
        replica_port,
        tempfile::tempdir().unwrap(),
        &["--replicaof", "127.0.0.1", &master_port],
    );
    let sentinel_dir = tempfile::tempdir().unwrap();
    let conf = sentinel_dir.path().join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "sentinel monitor tessera 127.0.0.1 {master_port} 1\n\
             sentinel down-after-milliseconds tessera 1000\n\
             sentinel failover-timeout tessera 5000\n"
        ),
    )
    .unwrap();
    let sentinel_port = free_port();
    let conf_path = conf.to_str().unwrap().to_owned();
    let _sentinel = PrivateRedis::start_with(
        sentinel_port,
        tempfile::tempdir().unwrap(),
        &[conf_path.as_str(), "--sentinel"],
    );
    eventually(
        Duration::from_secs(20),
        "replica synced and known to Sentinel",
        || async {
            info_contains(
                replica_port,
                &["INFO", "replication"],
                "master_link_status:up",
            ) && info_contains(
                sentinel_port,
                &["SENTINEL", "REPLICAS", "tessera"],
                &replica_port.to_string(),
            )
        },
    )
    .await;

    let sentinel_url = format!("redis://127.0.0.1:{sentinel_port}");
    let app = TestApp::spawn_with(Backend::Redis, |raw| {
        raw.redis_url = Some(sentinel_url.clone());
        raw.redis_sentinel_master = Some("tessera".into());
        raw.redis_timeout_ms = 500;
        raw.client_cache_ttl = 0;
    })
    .await;
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    assert!(app.login(&client, &user, &password).await["access_token"].is_string());

    // Promote the replica; the old master becomes a replica and refuses writes (READONLY).
    redis_cmd(sentinel_port, &["SENTINEL", "FAILOVER", "tessera"]).unwrap();
    eventually(
        Duration::from_secs(20),
        "Sentinel names the new master",
        || async {
            info_contains(
                sentinel_port,
                &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "tessera"],
                &replica_port.to_string(),
            ) && info_contains(replica_port, &["ROLE"], "master")
        },
    )
    .await;
    // tessera follows without a restart: writes (a new session) land on the new master.
    eventually(
        Duration::from_secs(20),
        "logins work after the failover",
        || async {
            app.password_grant(&client, &user, &password, None)
                .await
                .status()
                == 200
        },
    )
    .await;
    let (new_user, new_password, _) = app.user().await;
    assert!(app.login(&client, &new_user, &new_password).await["refresh_token"].is_string());
    drop(replica);
    drop(master);
}
