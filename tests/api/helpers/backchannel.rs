//! Back-channel logout in tests: a real HTTP receiver in the test process (an actix server on
//! a free port) that records every logout token POSTed to it and answers as scripted, the
//! verification a relying party does (OIDC Back-Channel Logout 1.0 §2.6), and the session-list
//! endpoints.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::Value;

use super::{eventually, NewClient, TestApp};

/// The `events` member of every logout token (§2.4).
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How the receiver answers one POST.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// This status.
    Status(u16),
    /// Never (the connection stays open until the sender gives up or dies).
    Hang,
}

#[derive(Default)]
struct Inner {
    /// `(content type, logout_token)` of every POST, in arrival order.
    received: Vec<(String, String)>,
    /// The answers to give first; 200 once they are used up.
    script: VecDeque<Answer>,
}

/// A back-channel logout endpoint of a relying party, in the test process.
pub struct Receiver {
    /// Its `backchannel_logout_uri`.
    pub uri: String,
    inner: Arc<Mutex<Inner>>,
}

async fn receive(
    inner: web::Data<Mutex<Inner>>,
    req: actix_web::HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let token = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let answer = {
        let mut inner = inner.lock().unwrap();
        inner.received.push((content_type, token));
        inner.script.pop_front().unwrap_or(Answer::Status(200))
    };
    match answer {
        Answer::Status(code) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap()).finish()
        }
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            HttpResponse::Ok().finish()
        }
    }
}

impl Receiver {
    /// A receiver that answers `script` first, then 200 to everything.
    pub fn start(script: &[Answer]) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            received: Vec::new(),
            script: script.iter().copied().collect(),
        }));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let uri = format!("http://{}/backchannel", listener.local_addr().unwrap());
        let data = web::Data::from(inner.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/backchannel", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { uri, inner }
    }

    /// A URI where nothing listens (a receiver that is down).
    pub fn down() -> String {
        format!("http://127.0.0.1:{}/backchannel", super::free_port())
    }

    /// The logout tokens received so far.
    pub fn tokens(&self) -> Vec<String> {
        let inner = self.inner.lock().unwrap();
        inner.received.iter().map(|(_, t)| t.clone()).collect()
    }

    /// Waits (at most 30 s) until `n` POSTs arrived; returns their tokens, checking each was
    /// form-encoded (§2.5).
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        let what = format!("{n} back-channel logout POSTs at {}", self.uri);
        eventually(Duration::from_secs(30), &what, || async {
            self.inner.lock().unwrap().received.len() >= n
        })
        .await;
        let inner = self.inner.lock().unwrap();
        for (content_type, _) in &inner.received {
            assert!(
                content_type.starts_with("application/x-www-form-urlencoded"),
                "{content_type}"
            );
        }
        inner.received.iter().map(|(_, t)| t.clone()).collect()
    }

    /// Waits for a token whose `sid` is `sid`; returns it.
    pub async fn wait_for_sid(&self, sid: &str) -> String {
        let what = format!("a logout token for session {sid}");
        eventually(Duration::from_secs(30), &what, || async {
            self.tokens().iter().any(|t| super::claims(t)["sid"] == sid)
        })
        .await;
        self.tokens()
            .into_iter()
            .find(|t| super::claims(t)["sid"] == sid)
            .unwrap()
    }
}

impl TestApp {
    /// Verifies a logout token as a relying party does (§2.6): the key by `kid` from our JWKS
    /// with the JWK's algorithm (RS256), `typ: logout+jwt`, `iss`, `aud` = `client_id`, `iat`,
    /// `exp` two minutes later, `jti`, the back-channel logout event, `sid` and `sub`, and no
    /// `nonce`. Returns the claims.
    pub async fn verify_logout_token(&self, token: &str, client_id: &str) -> Value {
        use jsonwebtoken::{decode, decode_header, jwk::JwkSet, Algorithm, DecodingKey};
        let jwks: JwkSet = self.get_jwks(None).await.json().await.unwrap();
        let header = decode_header(token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
        let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("kid");
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.set_issuer(&[self.issuer()]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["iss", "aud", "exp", "iat", "sub"]);
        let claims = decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap()
            .claims;
        assert_eq!(claims["aud"], client_id);
        let iat = claims["iat"].as_u64().unwrap();
        assert_eq!(claims["exp"].as_u64().unwrap(), iat + 120);
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
        assert_eq!(claims["events"], serde_json::json!({ LOGOUT_EVENT: {} }));
        assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(
            claims.get("nonce").is_none(),
            "§2.4: a logout token has no nonce"
        );
        claims
    }

    /// A public password + refresh client whose back-channel logout URI is `uri`.
    pub async fn backchannel_client(&self, uri: &str) -> String {
        let client = NewClient::public(&["password", "refresh_token"], super::SCOPES);
        self.register(client.backchannel(uri)).await.0
    }

    /// `GET /account/sessions` with `Authorization: Bearer <token>`.
    pub async fn get_account_sessions(&self, token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/account/sessions"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `DELETE /account/sessions/<sid>` with `Authorization: Bearer <token>`.
    pub async fn delete_account_session(&self, token: &str, sid: &str) -> reqwest::Response {
        self.http
            .delete(self.url(&format!("/account/sessions/{sid}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// The value of this instance's metric line starting with `series` (e.g.
    /// `tessera_backchannel_logout_notices_total{outcome="sent"}`), 0 when absent; read from
    /// the registry, so also for a killed instance.
    pub fn metric(&self, series: &str) -> f64 {
        let text = String::from_utf8(self.state.metrics.render()).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0)
    }
}
