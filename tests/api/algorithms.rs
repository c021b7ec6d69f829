//! Signing algorithms (issue #15): RS256, ES256 and EdDSA per client, independent rotation,
//! and the refusal of a token whose header names another algorithm than its key's.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use tessera::store::SigningAlg;

use crate::helpers::{
    access_token, claims, eventually, generate_key_for, kid_of, random_token, Backend, NewClient,
    RawSettings, TestApp, TokenType, SCOPES,
};

/// A confidential client_credentials client signing access tokens with `alg`; (id, secret).
async fn service_with(app: &TestApp, alg: Option<SigningAlg>) -> (String, String) {
    let secret = random_token();
    let client = NewClient::confidential(&["client_credentials"], &["api:read"])
        .secret(&secret)
        .algs(alg, None);
    (app.register(client).await.0, secret)
}

async fn cc_token(app: &TestApp, id: &str, secret: &str) -> String {
    let res = app.client_credentials(id, secret, &[]).await;
    assert_eq!(res.status(), 200);
    access_token(&res.json().await.unwrap())
}

fn alg_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["alg"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_client_gets_tokens_signed_with_its_algorithm() {
    let app = TestApp::spawn().await;
    for (alg, name) in [
        (None, "RS256"),
        (Some(SigningAlg::Rs256), "RS256"),
        (Some(SigningAlg::Es256), "ES256"),
        (Some(SigningAlg::EdDsa), "EdDSA"),
    ] {
        let (id, secret) = service_with(&app, alg).await;
        let token = cc_token(&app, &id, &secret).await;
        assert_eq!(alg_of(&token), name);
        let want = SigningAlg::parse(name).unwrap();
        assert_eq!(kid_of(&token), app.signing_kid(want));
        // A third party verifies it from the JWKS; our own introspection accepts it.
        assert_eq!(
            app.verify_with_jwks_as(&token, name).await["client_id"],
            id.as_str()
        );
        assert_eq!(
            app.introspect(&id, &secret, &token).await["active"],
            true,
            "{name}"
        );
    }
    // ID tokens follow id_token_signed_response_alg, access tokens their own setting; userinfo
    // accepts the EdDSA access token.
    let client = NewClient::public(&["password", "refresh_token"], SCOPES)
        .algs(Some(SigningAlg::EdDsa), Some(SigningAlg::Es256));
    let (client, _) = app.register(client).await;
    let (user, password, _) = app.user().await;
    let body = app.login(&client, &user, &password).await;
    let id_token = body["id_token"].as_str().expect("an ID token with openid");
    assert_eq!(alg_of(id_token), "ES256");
    let access = access_token(&body);
    assert_eq!(alg_of(&access), "EdDSA");
    let res = app.get_userinfo(Some(&access)).await;
    assert_eq!(res.status(), 200);
    let refreshed = app
        .refresh_ok(&client, body["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(alg_of(&access_token(&refreshed)), "EdDSA");
}

#[tokio::test]
async fn the_server_defaults_apply_to_clients_without_a_choice() {
    let app = TestApp::spawn_with(Backend::Memory, |raw| {
        raw.access_token_signing_alg = "ES256".into();
        raw.id_token_signing_alg = "EdDSA".into();
    })
    .await;
    let (id, secret) = service_with(&app, None).await;
    assert_eq!(alg_of(&cc_token(&app, &id, &secret).await), "ES256");
    let client = app.public_client().await;
    let (user, password, _) = app.user().await;
    let body = app.login(&client, &user, &password).await;
    assert_eq!(alg_of(body["id_token"].as_str().unwrap()), "EdDSA");
}

#[tokio::test]
async fn start_up_refuses_an_algorithm_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    generate_key_for(dir.path(), SigningAlg::Rs256);
    let app =
        TestApp::spawn_with(Backend::Memory, |raw| raw.keys_dir = dir.path().to_owned()).await;
    let mut settings = app.settings.clone();
    settings.signing_algs.access = SigningAlg::Es256;
    let err = app
        .start_with_settings(settings)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("tessera keys generate --alg ES256"), "{err}");
    // The admin API refuses a client naming an algorithm without a key, the same way.
    let registration = serde_json::json!({"client_id": "x", "grant_types": ["client_credentials"],
        "id_token_signed_response_alg": "EdDSA"});
    let (_, token) = app.admin_token().await;
    let res = app
        .admin(
            reqwest::Method::POST,
            "/clients",
            Some(&token),
            Some(&registration),
        )
        .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("--alg EdDSA"),
        "{body}"
    );
}

#[tokio::test]
async fn an_es256_rotation_leaves_rs256_signing_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let rsa = generate_key_for(dir.path(), SigningAlg::Rs256);
    let old_ec = generate_key_for(dir.path(), SigningAlg::Es256);
    let app = TestApp::spawn_with(Backend::Redis, |raw: &mut RawSettings| {
        raw.keys_dir = dir.path().to_owned();
        raw.key_refresh_interval = 1;
    })
    .await;
    let (es, es_secret) = service_with(&app, Some(SigningAlg::Es256)).await;
    let (rs, rs_secret) = service_with(&app, None).await;
    let before = cc_token(&app, &es, &es_secret).await;
    assert_eq!(kid_of(&before), old_ec);

    let new_ec = app.rotate_keys_for(dir.path(), SigningAlg::Es256, 2).await;
    eventually(
        Duration::from_secs(8),
        "ES256 signs with the new key",
        || async { kid_of(&cc_token(&app, &es, &es_secret).await) == new_ec },
    )
    .await;
    // RS256 kept its key; the retired ES256 key still verifies the tokens it signed.
    assert_eq!(kid_of(&cc_token(&app, &rs, &rs_secret).await), rsa);
    assert_eq!(
        app.introspect(&es, &es_secret, &before).await["active"],
        true
    );
    let kids = app.jwks_kids().await;
    assert!(
        [&rsa, &old_ec, &new_ec].iter().all(|k| kids.contains(k)),
        "{kids:?}"
    );
    // A second RS256 rotation is independent of the ES256 one (nothing pending for RS256).
    let new_rsa = app
        .rotate_keys_for(dir.path(), SigningAlg::Rs256, 3600)
        .await;
    assert_ne!(new_rsa, rsa);
}

/// `token` with its JOSE header replaced by `header` (payload and signature kept).
fn with_header(token: &str, header: &Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

#[tokio::test]
async fn a_header_naming_another_algorithm_than_its_key_is_refused() {
    let app = TestApp::spawn().await;
    let (id, secret) = service_with(&app, None).await;
    let template = claims(&cc_token(&app, &id, &secret).await);
    let mut forged = Vec::new();
    for (signed_by, claimed) in [
        (SigningAlg::Rs256, "ES256"),
        (SigningAlg::Es256, "RS256"),
        (SigningAlg::Es256, "EdDSA"),
        (SigningAlg::EdDsa, "ES256"),
        (SigningAlg::EdDsa, "HS256"),
    ] {
        let token = app.sign_as(signed_by, TokenType::Access, &template);
        let kid = app.signing_kid(signed_by);
        // The genuine token is accepted: only the header's `alg` differs below.
        assert_eq!(app.introspect(&id, &secret, &token).await["active"], true);
        let header = serde_json::json!({"alg": claimed, "typ": "at+jwt", "kid": kid});
        forged.push((
            format!("{signed_by} key, header {claimed}"),
            with_header(&token, &header),
        ));
    }
    // HS256 keyed with a published EC coordinate (algorithm confusion with a public key).
    let jwks = app.key_set_jwks();
    let ec = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "EC")
        .unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(ec["kid"].as_str().unwrap().into());
    let secret_key =
        jsonwebtoken::EncodingKey::from_secret(ec["x"].as_str().unwrap().as_bytes()).unwrap();
    let hs256 = jsonwebtoken::encode(&header, &template, &secret_key).unwrap();
    forged.push(("HS256 with the EC key's x".into(), hs256));
    for (what, token) in forged {
        assert_eq!(
            app.introspect(&id, &secret, &token).await["active"],
            false,
            "{what}"
        );
        assert_eq!(app.get_userinfo(Some(&token)).await.status(), 401, "{what}");
    }
}
