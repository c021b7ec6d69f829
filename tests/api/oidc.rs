//! Service clients and OpenID Connect: client credentials (RFC 6749 §4.4), introspection
//! (RFC 7662), ID tokens and userinfo (OIDC Core §2, §5.3), and the admin API.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use tessera::keys::TokenType;
use tessera::store::{Backend as _, Client};

use crate::helpers::{basic, claims, unique, TestApp};

/// Registers a confidential client directly with `secret` (operator-supplied).
async fn client_with_secret(
    app: &TestApp,
    secret: &str,
    grants: &[&str],
    scopes: &[&str],
) -> String {
    let id = unique("svc");
    let (client, _) = tessera::clients::build_client(tessera::clients::Registration {
        client_id: id.clone(),
        client_secret: Some(secret.into()),
        policy: tessera::store::ClientPolicy {
            grant_types: grants.iter().map(|s| s.to_string()).collect(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            audience: Some("urn:test:default".into()),
            audiences: vec!["urn:test:other".into()],
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    assert!(app.state.store.put_client(&client, true).await.unwrap());
    id
}

async fn service(app: &TestApp) -> (String, String) {
    let secret = format!("{}+/:=%", tessera::secret::random_token());
    let id = client_with_secret(
        app,
        &secret,
        &["client_credentials"],
        &["api:read", "api:write"],
    )
    .await;
    (id, secret)
}

async fn cc_token(
    app: &TestApp,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut body = vec![("grant_type", "client_credentials")];
    body.extend_from_slice(form);
    app.http
        .post(app.url("/oauth2/token"))
        .header("authorization", basic(id, secret))
        .form(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn client_credentials_with_reserved_characters_in_the_secret() {
    let app = TestApp::spawn().await;
    let (id, secret) = service(&app).await;
    let res = cc_token(&app, &id, &secret, &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    // RFC 6749 §4.4.3: no refresh token.
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["scope"], "api:read api:write");
    let claims = claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["aud"], "urn:test:default");
    assert!(claims.get("sid").is_none());

    // client_secret_post works too.
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "api:read"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["scope"], "api:read");

    // The raw secret without form-urlencoding (its `%` and `+` mean something else) fails.
    let raw = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header("authorization", raw)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Basic realm=\"tessera\"");
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
}

#[tokio::test]
async fn client_credentials_scope_and_resource_are_restricted() {
    let app = TestApp::spawn().await;
    let (id, secret) = service(&app).await;
    let res = cc_token(&app, &id, &secret, &[("scope", "api:admin")]).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_scope");
    // RFC 8707 §2: an allowed resource becomes the audience, another is invalid_target.
    let res = cc_token(&app, &id, &secret, &[("resource", "urn:test:other")]).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["aud"],
        "urn:test:other"
    );
    let res = cc_token(&app, &id, &secret, &[("resource", "urn:test:elsewhere")]).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_target"
    );
    // A client without the grant is unauthorized_client.
    let public = app.public_client().await;
    let res = app
        .token(&[("grant_type", "client_credentials"), ("client_id", &public)])
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
}

async fn introspect(app: &TestApp, id: &str, secret: &str, token: &str) -> Value {
    let res = app
        .http
        .post(app.url("/oauth2/introspect"))
        .header("authorization", basic(id, secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn introspection_tells_live_tokens_from_dead_and_forged_ones() {
    let app = TestApp::spawn().await;
    let (svc, secret) = service(&app).await;
    let public = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let login = app.login(&public, &username, &password).await;
    let access = login["access_token"].as_str().unwrap();
    let refresh = login["refresh_token"].as_str().unwrap();

    let answer = introspect(&app, &svc, &secret, access).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["sub"], sub.as_str());
    assert_eq!(answer["client_id"], public.as_str());
    assert_eq!(answer["token_type"], "access_token");
    let answer = introspect(&app, &svc, &secret, refresh).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "refresh_token");

    let inactive = json!({"active": false});
    let keys = app.state.tokens.keys();
    let signer = keys.signing_key();
    let mut stale = claims(access);
    stale["exp"] = json!(1_000_000_000u64);
    stale["iat"] = json!(999_999_000u64);
    let expired = signer.sign(TokenType::Access, &stale).unwrap();
    let valid_again = signer.sign(TokenType::Access, &claims(access)).unwrap();
    assert_eq!(
        introspect(&app, &svc, &secret, &valid_again).await["active"],
        true
    );
    let id_typed = signer.sign(TokenType::Id, &claims(access)).unwrap();
    let parts: Vec<&str> = access.split('.').collect();
    let flipped = if parts[2].starts_with('A') { "B" } else { "A" };
    let bad_signature = format!("{}.{}.{flipped}{}", parts[0], parts[1], &parts[2][1..]);
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    let alg_none = format!("{none_header}.{}.", parts[1]);
    // HS256 "signed" with our public key (the classic algorithm-confusion forgery).
    let jwks: Value = serde_json::from_slice(app.state.tokens.keys().jwks()).unwrap();
    let kid = jwks["keys"][0]["kid"].as_str().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.into());
    let hs256 = jsonwebtoken::encode(
        &header,
        &claims(access),
        &jsonwebtoken::EncodingKey::from_secret(jwks["keys"][0]["n"].as_str().unwrap().as_bytes())
            .unwrap(),
    )
    .unwrap();
    // A token signed by a key we never published (unknown kid).
    let other_dir = tempfile::tempdir().unwrap();
    tessera::keys::generate_key(other_dir.path(), 2048).unwrap();
    let other = tessera::keys::KeySet::load(other_dir.path()).unwrap();
    let unknown_kid = other
        .signing_key()
        .sign(TokenType::Access, &claims(access))
        .unwrap();
    for (what, token) in [
        ("expired", expired.as_str()),
        ("ID-token typ", &id_typed),
        ("bad signature", &bad_signature),
        ("alg none", &alg_none),
        ("HS256 with public key", &hs256),
        ("unknown kid", &unknown_kid),
        ("malformed", "not-a-token"),
    ] {
        assert_eq!(
            introspect(&app, &svc, &secret, token).await,
            inactive,
            "{what}"
        );
    }

    // Revoking the session makes its access token inactive at once.
    let res = app
        .http
        .post(app.url("/oauth2/revoke"))
        .form(&[("token", refresh), ("client_id", public.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(introspect(&app, &svc, &secret, access).await, inactive);
    assert_eq!(introspect(&app, &svc, &secret, refresh).await, inactive);

    // RFC 7662 §2.1: only authenticated (confidential) clients may introspect.
    let res = app
        .http
        .post(app.url("/oauth2/introspect"))
        .form(&[("token", access), ("client_id", public.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .http
        .post(app.url("/oauth2/introspect"))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn id_tokens_carry_the_claims_the_scopes_allow() {
    let app = TestApp::spawn().await;
    let public = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let login = |scope: &'static str| {
        let (public, username, password) = (public.clone(), username.clone(), password.clone());
        let app = &app;
        async move {
            let res = app
                .token(&[
                    ("grant_type", "password"),
                    ("client_id", &public),
                    ("username", &username),
                    ("password", &password),
                    ("scope", scope),
                ])
                .await;
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };
    let plain = login("profile").await;
    assert!(plain.get("id_token").is_none(), "no openid, no ID token");
    let body = login("openid email profile").await;
    let id_token = body["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let id_claims = claims(id_token);
    assert_eq!(id_claims["iss"], app.settings.issuer.as_str());
    assert_eq!(id_claims["sub"], sub.as_str());
    assert_eq!(id_claims["aud"], public.as_str());
    assert_eq!(id_claims["amr"], json!(["pwd"]));
    assert_eq!(id_claims["email"], format!("{username}@example.test"));
    assert_eq!(id_claims["email_verified"], false);
    assert_eq!(id_claims["preferred_username"], username.as_str());
    for c in ["exp", "iat", "auth_time"] {
        assert!(id_claims[c].is_u64(), "{c}");
    }
    // An ID token is not an access token.
    let res = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(id_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Refreshing with openid gives a new ID token; narrowing to openid drops email.
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &public),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ("scope", "openid"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let refreshed: Value = res.json().await.unwrap();
    let id_claims = claims(refreshed["id_token"].as_str().unwrap());
    assert_eq!(id_claims["sub"], sub.as_str());
    assert!(id_claims.get("email").is_none());
}

#[tokio::test]
async fn userinfo_answers_bearer_tokens_with_rfc6750_errors() {
    let app = TestApp::spawn().await;
    let public = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", &public),
            ("username", &username),
            ("password", &password),
            ("scope", "openid email"),
        ])
        .await;
    let body: Value = res.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let res = app
            .http
            .request(method.clone(), app.url("/oauth2/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{method}");
        let info: Value = res.json().await.unwrap();
        assert_eq!(info["sub"], sub.as_str());
        assert_eq!(info["email"], format!("{username}@example.test"));
        assert!(info.get("preferred_username").is_none(), "no profile scope");
    }
    // RFC 6750 §3: no token → 401 with a Bearer challenge.
    let res = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    // A refresh token is not a bearer access token.
    let res = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(body["refresh_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    // Without the openid scope: 403 insufficient_scope.
    let plain = app.login(&public, &username, &password).await;
    let mut scoped = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &public),
            ("refresh_token", plain["refresh_token"].as_str().unwrap()),
            ("scope", "email"),
        ])
        .await
        .json::<Value>()
        .await
        .unwrap();
    let res = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(scoped["access_token"].take().as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));
    // After logout-everywhere the session is gone and userinfo refuses the token.
    let res = app
        .http
        .post(app.url("/account/logout-all"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn admin_api_manages_clients_with_the_admin_scope_only() {
    let app = TestApp::spawn().await;
    let admin_secret = tessera::secret::random_token();
    let admin = client_with_secret(
        &app,
        &admin_secret,
        &["client_credentials"],
        &["tessera:admin"],
    )
    .await;
    let token: Value = cc_token(&app, &admin, &admin_secret, &[])
        .await
        .json()
        .await
        .unwrap();
    let admin_token = token["access_token"].as_str().unwrap().to_owned();
    let (svc, svc_secret) = service(&app).await;
    let svc_token: Value = cc_token(&app, &svc, &svc_secret, &[])
        .await
        .json()
        .await
        .unwrap();

    // No token: 401; a token without the admin scope: 403 insufficient_scope.
    let res = app
        .http
        .get(app.url("/admin/clients"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .http
        .get(app.url("/admin/clients"))
        .bearer_auth(svc_token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let new_id = unique("made-by-admin");
    let res = app
        .http
        .post(app.url("/admin/clients"))
        .bearer_auth(&admin_token)
        .json(&json!({"client_id": new_id, "grant_types": ["client_credentials"], "scopes": ["x"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let first_secret = created["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(
        cc_token(&app, &new_id, &first_secret, &[]).await.status(),
        200
    );

    // A weak operator-supplied secret is refused; a duplicate id is a conflict.
    let res = app
        .http
        .post(app.url("/admin/clients"))
        .bearer_auth(&admin_token)
        .json(&json!({"client_id": unique("weak"), "grant_types": ["client_credentials"], "client_secret": "hunter2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = app
        .http
        .post(app.url("/admin/clients"))
        .bearer_auth(&admin_token)
        .json(&json!({"client_id": new_id, "grant_types": ["client_credentials"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);

    let res = app
        .http
        .get(app.url(&format!("/admin/clients/{new_id}")))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let described: Value = res.json().await.unwrap();
    assert_eq!(described["public"], false);
    assert!(described.get("secret_hash").is_none());
    let listed: Value = app
        .http
        .get(app.url("/admin/clients"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed["clients"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["client_id"] == new_id.as_str()));

    let res = app
        .http
        .post(app.url(&format!("/admin/clients/{new_id}/secret")))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let second_secret = rotated["client_secret"].as_str().unwrap();
    assert_eq!(
        cc_token(&app, &new_id, &first_secret, &[]).await.status(),
        401
    );
    assert_eq!(
        cc_token(&app, &new_id, second_secret, &[]).await.status(),
        200
    );

    let res = app
        .http
        .delete(app.url(&format!("/admin/clients/{new_id}")))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        cc_token(&app, &new_id, second_secret, &[]).await.status(),
        401
    );
    let stored: Option<Client> = app.state.store.client(&new_id).await.unwrap();
    assert!(stored.is_none());
}
