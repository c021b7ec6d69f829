//! DPoP (RFC 9449): proofs at the token endpoint for every grant, token binding (`cnf.jkt`,
//! `token_type: DPoP`), bound refresh families, protected resources (`ath`, §7.1 scheme), the
//! replay cache across instances and restarts, server nonces, `dpop_jkt` on the code.

use serde_json::{json, Value};

use crate::helpers::{
    claims, expect_error, header, Backend, DpopKey, NewClient, Service, TestApp, SCOPES,
};

/// A public password + refresh client and a user: a DPoP-bound login with `key`.
async fn dpop_login(app: &TestApp, key: &DpopKey) -> (String, Value) {
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let form = password_form(&client, &username, &password);
    let res = app
        .post_token_dpop(&form, Some(&app.token_proof(key)))
        .await;
    assert_eq!(res.status(), 200);
    (client, res.json().await.unwrap())
}

/// A password grant asking for `openid profile email offline_access` (a request without
/// `scope` gets no `openid`).
fn password_form<'a>(
    client: &'a str,
    username: &'a str,
    password: &'a str,
) -> [(&'a str, &'a str); 5] {
    [
        ("grant_type", "password"),
        ("client_id", client),
        ("username", username),
        ("password", password),
        ("scope", "openid profile email offline_access"),
    ]
}

/// A [`Service`] client's first client-credentials request with a proof of a fresh key.
async fn service_token(app: &TestApp) -> (DpopKey, Service, reqwest::Response) {
    let key = DpopKey::generate();
    let svc = app.dpop_service().await;
    let res = app
        .post_token_dpop(&svc.form(), Some(&app.token_proof(&key)))
        .await;
    (key, svc, res)
}

fn refresh_form<'a>(client: &'a str, token: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("grant_type", "refresh_token"),
        ("client_id", client),
        ("refresh_token", token),
    ]
}

#[tokio::test]
async fn a_proof_binds_the_tokens_and_resources_check_it() {
    let app = TestApp::spawn().await;
    let key = DpopKey::generate();
    let (_, body) = dpop_login(&app, &key).await;
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(claims(token)["cnf"]["jkt"], key.jkt());
    let userinfo = app.url("/oauth2/userinfo");
    // §7: the DPoP scheme with a proof of the token's key and its ath.
    let res = app
        .get_userinfo_dpop(token, Some(&key.resource_proof("GET", &userinfo, token)))
        .await;
    assert_eq!(res.status(), 200);
    // §7.1: a DPoP-bound token presented as a bearer token is refused.
    let res = app.get_userinfo(Some(token)).await;
    assert_eq!(res.status(), 401);
    assert!(header(&res, "www-authenticate").starts_with("DPoP "));
    // No ath, another key, no proof: 401 with a DPoP challenge naming the algorithms.
    let other = DpopKey::generate();
    for proof in [
        Some(key.proof("GET", &userinfo, json!({}))),
        Some(other.resource_proof("GET", &userinfo, token)),
        None,
    ] {
        let res = app.get_userinfo_dpop(token, proof.as_deref()).await;
        let challenge = header(&res, "www-authenticate").to_owned();
        assert!(
            challenge.contains("error=\"invalid_dpop_proof\""),
            "{challenge}"
        );
        assert!(challenge.contains("algs=\"ES256"), "{challenge}");
        expect_error(res, 401, "invalid_dpop_proof").await;
    }
    // A bearer token presented with the DPoP scheme is refused.
    let (username, password, _) = app.user().await;
    let plain = app
        .bearer_login(&app.public_client().await, &username, &password)
        .await;
    let res = app
        .get_userinfo_dpop(&plain, Some(&key.resource_proof("GET", &userinfo, &plain)))
        .await;
    expect_error(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn proofs_that_break_a_rule_are_invalid_dpop_proof() {
    let app = TestApp::spawn().await;
    let key = DpopKey::generate();
    let (client, username, password) = {
        let client = app.public_client().await;
        let (u, p, _) = app.user().await;
        (client, u, p)
    };
    let form = password_form(&client, &username, &password);
    let token_url = app.url("/oauth2/token");
    let old = crate::helpers::now() - 600;
    let replayed = app.token_proof(&key);
    let res = app.post_token_dpop(&form, Some(&replayed)).await;
    assert_eq!(res.status(), 200);
    let bad = [
        key.proof("GET", &token_url, json!({})),
        key.proof("POST", &app.url("/oauth2/other"), json!({})),
        key.proof("POST", &token_url, json!({"iat": old})),
        key.proof(
            "POST",
            &token_url,
            json!({"iat": crate::helpers::now() + 600}),
        ),
        key.sign(
            &json!({"jti": "j", "htm": "POST", "htu": token_url, "iat": crate::helpers::now()}),
            "JWT",
        ),
        key.proof_with_private_jwk("POST", &token_url),
        "not-a-jwt".to_owned(),
        replayed,
    ];
    for proof in bad {
        let res = app.post_token_dpop(&form, Some(&proof)).await;
        expect_error(res, 400, "invalid_dpop_proof").await;
    }
    // §4.3: htu is compared without query and fragment.
    let proof = key.proof("POST", &format!("{token_url}?x=1#f"), json!({}));
    assert_eq!(app.post_token_dpop(&form, Some(&proof)).await.status(), 200);
}

#[tokio::test]
async fn public_refresh_tokens_are_bound_and_a_wrong_proof_does_not_revoke() {
    let app = TestApp::spawn().await;
    let key = DpopKey::generate();
    let (client, body) = dpop_login(&app, &key).await;
    let refresh = body["refresh_token"].as_str().unwrap();
    let other = DpopKey::generate();
    for proof in [None, Some(app.token_proof(&other))] {
        let res = app
            .post_token_dpop(&refresh_form(&client, refresh), proof.as_deref())
            .await;
        expect_error(res, 400, "invalid_grant").await;
    }
    // The family lives on: the right key refreshes, and the new tokens are bound again.
    let res = app
        .post_token_dpop(
            &refresh_form(&client, refresh),
            Some(&app.token_proof(&key)),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.jkt()
    );
}

#[tokio::test]
async fn confidential_clients_get_bound_access_tokens_and_introspection_shows_cnf() {
    let app = TestApp::spawn().await;
    let (key, svc, res) = service_token(&app).await;
    let form = svc.form();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap();
    let answer = app.introspect(&svc.id, &svc.secret, token).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "DPoP");
    assert_eq!(answer["cnf"]["jkt"], key.jkt());
    // Without a proof: a plain bearer token.
    let res = app.post_token_dpop(&form, None).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn a_client_that_requires_dpop_gets_invalid_dpop_proof_without_one() {
    let app = TestApp::spawn().await;
    let (client, _) = app
        .register(NewClient::public(&["password", "refresh_token"], SCOPES).require(true, false))
        .await;
    let (username, password, _) = app.user().await;
    let form = password_form(&client, &username, &password);
    expect_error(
        app.post_token_dpop(&form, None).await,
        400,
        "invalid_dpop_proof",
    )
    .await;
    let key = DpopKey::generate();
    let res = app
        .post_token_dpop(&form, Some(&app.token_proof(&key)))
        .await;
    assert_eq!(res.status(), 200);
}

/// Two instances on one Redis, one issuer: a proof sent to both at once is accepted once; and
/// a proof replayed to an instance started afresh (a restart) is still refused.
#[tokio::test]
async fn one_proof_is_accepted_once_across_instances_and_restarts() {
    let first = TestApp::spawn().await;
    let issuer = first.settings.issuer.clone();
    let second = TestApp::spawn_with(Backend::Redis, |raw| raw.issuer = issuer.clone()).await;
    let key = DpopKey::generate();
    let svc = first.dpop_service().await;
    let form = svc.form();
    let proof = first.token_proof(&key);
    let (a, b) = tokio::join!(
        first.post_token_dpop(&form, Some(&proof)),
        second.post_token_dpop(&form, Some(&proof)),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400]);
    // A restarted instance (fresh process state) shares the replay cache in Redis.
    let restarted = TestApp::spawn_with(Backend::Redis, |raw| raw.issuer = issuer.clone()).await;
    let res = restarted.post_token_dpop(&form, Some(&proof)).await;
    expect_error(res, 400, "invalid_dpop_proof").await;
}

#[tokio::test]
async fn required_nonces_are_handed_out_and_checked() {
    let app = TestApp::spawn_with(Backend::Redis, |raw| raw.dpop_nonce_required = true).await;
    let (key, svc, res) = service_token(&app).await;
    let form = svc.form();
    let nonce = header(&res, "dpop-nonce").to_owned();
    assert!(!nonce.is_empty());
    expect_error(res, 400, "use_dpop_nonce").await;
    let stale = key.proof(
        "POST",
        &app.url("/oauth2/token"),
        json!({"nonce": "AAAAAAAAAAA"}),
    );
    let res = app.post_token_dpop(&form, Some(&stale)).await;
    expect_error(res, 400, "use_dpop_nonce").await;
    let good = key.proof("POST", &app.url("/oauth2/token"), json!({ "nonce": nonce }));
    let res = app.post_token_dpop(&form, Some(&good)).await;
    assert_eq!(res.status(), 200);
    assert!(!header(&res, "dpop-nonce").is_empty(), "the next nonce");
}

/// §10: `dpop_jkt` binds the code; the exchange must prove that key.
#[tokio::test]
async fn dpop_jkt_binds_the_authorization_code() {
    let app = TestApp::spawn().await;
    let key = DpopKey::generate();
    let mut flow = app.spa_flow(false).await;
    let jkt = key.jkt();
    flow.url = app.authorize_url(&flow.client, &flow.pkce.challenge, &[("dpop_jkt", &jkt)]);
    let page = flow.sign_in().await;
    let code = page.query()["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", flow.client.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", crate::helpers::REDIRECT),
        ("code_verifier", flow.pkce.verifier.as_str()),
    ];
    let other = DpopKey::generate();
    for proof in [None, Some(app.token_proof(&other))] {
        let res = app.post_token_dpop(&form, proof.as_deref()).await;
        expect_error(res, 400, "invalid_grant").await;
    }
    let res = app
        .post_token_dpop(&form, Some(&app.token_proof(&key)))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    // A malformed dpop_jkt is refused at the authorization endpoint.
    let url = app.authorize_url(&flow.client, &flow.pkce.challenge, &[("dpop_jkt", "short")]);
    let page = app.browser().get(&url).await;
    assert_eq!(page.query()["error"], "invalid_request");
}

#[tokio::test]
async fn discovery_lists_dpop_and_par() {
    let app = TestApp::spawn().await;
    let doc = app.metadata().await;
    assert_eq!(
        doc["dpop_signing_alg_values_supported"],
        json!(["ES256", "RS256", "PS256", "EdDSA"])
    );
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        app.url("/oauth2/par")
    );
    assert_eq!(doc["require_pushed_authorization_requests"], false);
}
