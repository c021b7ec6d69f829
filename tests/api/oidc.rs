//! Service clients and OpenID Connect: client credentials (RFC 6749 §4.4), introspection
//! (RFC 7662), ID tokens and userinfo (OIDC Core §2, §5.3), and the admin API.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    access_token, assert_bearer_challenge, basic_raw, claims, random_token, unique, TestApp,
    TokenType,
};

#[tokio::test]
async fn client_credentials_with_reserved_characters_in_the_secret() {
    let app = TestApp::spawn().await;
    let (id, secret) = app.service_client().await;
    let res = app.client_credentials(&id, &secret, &[]).await;
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
        .post_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "api:read"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["scope"], "api:read");

    // The raw secret without form-urlencoding (its `%` and `+` mean something else) fails.
    let raw = basic_raw(&format!("{id}:{secret}"));
    let res = app
        .post_token_as(&raw, &[("grant_type", "client_credentials")])
        .await;
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
    let (id, secret) = app.service_client().await;
    let cc = |extra: &'static [(&'static str, &'static str)]| {
        app.client_credentials(&id, &secret, extra)
    };
    let res = cc(&[("scope", "api:admin")]).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_scope");
    // RFC 8707 §2: an allowed resource becomes the audience, another is invalid_target.
    let res = cc(&[("resource", "urn:test:other")]).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["aud"],
        "urn:test:other"
    );
    let res = cc(&[("resource", "urn:test:elsewhere")]).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_target"
    );
    // A client without the grant is unauthorized_client.
    let public = app.public_client().await;
    let res = app
        .post_token(&[("grant_type", "client_credentials"), ("client_id", &public)])
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
}

#[tokio::test]
async fn introspection_tells_live_tokens_from_dead_and_forged_ones() {
    let app = TestApp::spawn().await;
    let (svc, secret) = app.service_client().await;
    let public = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let login = app.login(&public, &username, &password).await;
    let access = login["access_token"].as_str().unwrap();
    let refresh = login["refresh_token"].as_str().unwrap();
    let introspect = |token: &str| {
        let (app, svc, secret, token) = (&app, &svc, &secret, token.to_owned());
        async move { app.introspect(svc, secret, &token).await }
    };

    let answer = introspect(access).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["sub"], sub.as_str());
    assert_eq!(answer["client_id"], public.as_str());
    // RFC 7662 §2.2: the RFC 6749 §7.1 token type, not the kind of token.
    assert_eq!(answer["token_type"], "Bearer");
    assert!(answer.get("cnf").is_none(), "{answer}");
    let answer = introspect(refresh).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "Bearer");
    assert!(answer.get("cnf").is_none(), "{answer}");

    let inactive = json!({"active": false});
    let mut stale = claims(access);
    stale["exp"] = json!(1_000_000_000u64);
    stale["iat"] = json!(999_999_000u64);
    let expired = app.sign(TokenType::Access, &stale);
    let valid_again = app.sign(TokenType::Access, &claims(access));
    assert_eq!(introspect(&valid_again).await["active"], true);
    let id_typed = app.sign(TokenType::Id, &claims(access));
    let parts: Vec<&str> = access.split('.').collect();
    let flipped = if parts[2].starts_with('A') { "B" } else { "A" };
    let bad_signature = format!("{}.{}.{flipped}{}", parts[0], parts[1], &parts[2][1..]);
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    let alg_none = format!("{none_header}.{}.", parts[1]);
    // HS256 "signed" with our public key (the classic algorithm-confusion forgery).
    let jwks = app.key_set_jwks();
    let rsa = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "RSA")
        .unwrap();
    let kid = rsa["kid"].as_str().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.into());
    let hs256 = jsonwebtoken::encode(
        &header,
        &claims(access),
        &jsonwebtoken::EncodingKey::from_secret(rsa["n"].as_str().unwrap().as_bytes()).unwrap(),
    )
    .unwrap();
    // A token signed by a key we never published (unknown kid).
    let unknown_kid = app.sign_with_unpublished_key(&claims(access));
    for (what, token) in [
        ("expired", expired.as_str()),
        ("ID-token typ", &id_typed),
        ("bad signature", &bad_signature),
        ("alg none", &alg_none),
        ("HS256 with public key", &hs256),
        ("unknown kid", &unknown_kid),
        ("malformed", "not-a-token"),
    ] {
        assert_eq!(introspect(token).await, inactive, "{what}");
    }

    // Revoking the session makes its access token inactive at once.
    let res = app
        .post_revoke(&[("token", refresh), ("client_id", public.as_str())])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(introspect(access).await, inactive);
    assert_eq!(introspect(refresh).await, inactive);

    // RFC 7662 §2.1: only authenticated (confidential) clients may introspect.
    let res = app
        .post_introspect(None, &[("token", access), ("client_id", public.as_str())])
        .await;
    assert_eq!(res.status(), 401);
    let res = app.post_introspect(None, &[("token", access)]).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn id_tokens_carry_the_claims_the_scopes_allow() {
    let app = TestApp::spawn().await;
    let public = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let plain = app
        .login_scoped(&public, &username, &password, "profile")
        .await;
    assert!(plain.get("id_token").is_none(), "no openid, no ID token");
    let body = app
        .login_scoped(&public, &username, &password, "openid email profile")
        .await;
    let id_token = body["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let id_claims = claims(id_token);
    assert_eq!(id_claims["iss"], app.issuer());
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
    let res = app.get_userinfo(Some(id_token)).await;
    assert_eq!(res.status(), 401);
    // Refreshing with openid gives a new ID token; narrowing to openid drops email.
    let res = app
        .refresh(
            &public,
            body["refresh_token"].as_str().unwrap(),
            Some("openid"),
        )
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
        .password_grant(&public, &username, &password, Some("openid email"))
        .await;
    let body: Value = res.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    for method in [Method::GET, Method::POST] {
        let res = app.userinfo(method.clone(), Some(access)).await;
        assert_eq!(res.status(), 200, "{method}");
        let info: Value = res.json().await.unwrap();
        assert_eq!(info["sub"], sub.as_str());
        assert_eq!(info["email"], format!("{username}@example.test"));
        assert!(info.get("preferred_username").is_none(), "no profile scope");
    }
    // RFC 6750 §3: no token → 401 with a Bearer challenge.
    let res = app.get_userinfo(None).await;
    assert_bearer_challenge(&res, 401, None);
    // A refresh token is not a bearer access token.
    let res = app
        .get_userinfo(Some(body["refresh_token"].as_str().unwrap()))
        .await;
    assert_bearer_challenge(&res, 401, Some("invalid_token"));
    // Without the openid scope: 403 insufficient_scope.
    let plain = app.login(&public, &username, &password).await;
    let scoped = app
        .refresh(
            &public,
            plain["refresh_token"].as_str().unwrap(),
            Some("email"),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let res = app.get_userinfo(Some(&access_token(&scoped))).await;
    assert_bearer_challenge(&res, 403, Some("insufficient_scope"));
    // After logout-everywhere the session is gone and userinfo refuses the token.
    let res = app.post_logout_all(Some(&format!("Bearer {access}"))).await;
    assert_eq!(res.status(), 204);
    let res = app.get_userinfo(Some(access)).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn admin_api_manages_clients_with_the_admin_scope_only() {
    let app = TestApp::spawn().await;
    let admin_secret = random_token();
    let admin = app
        .service_client_with(&admin_secret, &["tessera:admin"])
        .await;
    let token: Value = app
        .client_credentials(&admin, &admin_secret, &[("scope", "tessera:admin")])
        .await
        .json()
        .await
        .unwrap();
    let admin_token = token["access_token"].as_str().unwrap().to_owned();
    let (svc, svc_secret) = app.service_client().await;
    let svc_token: Value = app
        .client_credentials(&svc, &svc_secret, &[])
        .await
        .json()
        .await
        .unwrap();
    let as_admin = |method: Method, path: String, body: Option<Value>| {
        let (app, admin_token) = (&app, &admin_token);
        async move {
            app.admin(method, &path, Some(admin_token), body.as_ref())
                .await
        }
    };
    let cc_status = |id: String, secret: String| {
        let app = &app;
        async move { app.client_credentials(&id, &secret, &[]).await.status() }
    };

    // No token: 401; a token without the admin scope: 403 insufficient_scope.
    let res = app.admin(Method::GET, "/clients", None, None).await;
    assert_eq!(res.status(), 401);
    let svc_access = access_token(&svc_token);
    let res = app
        .admin(Method::GET, "/clients", Some(&svc_access), None)
        .await;
    assert_eq!(res.status(), 403);

    let new_id = unique("made-by-admin");
    let res = as_admin(
        Method::POST,
        "/clients".into(),
        Some(json!({"client_id": new_id, "grant_types": ["client_credentials"], "scopes": ["x"]})),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let first_secret = created["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(cc_status(new_id.clone(), first_secret.clone()).await, 200);

    // A weak operator-supplied secret is refused; a duplicate id is a conflict.
    let res = as_admin(
        Method::POST,
        "/clients".into(),
        Some(json!({"client_id": unique("weak"), "grant_types": ["client_credentials"], "client_secret": "hunter2"})),
    )
    .await;
    assert_eq!(res.status(), 400);
    let res = as_admin(
        Method::POST,
        "/clients".into(),
        Some(json!({"client_id": new_id, "grant_types": ["client_credentials"]})),
    )
    .await;
    assert_eq!(res.status(), 409);

    let res = as_admin(Method::GET, format!("/clients/{new_id}"), None).await;
    assert_eq!(res.status(), 200);
    let described: Value = res.json().await.unwrap();
    assert_eq!(described["public"], false);
    assert!(described.get("secret_hash").is_none());
    let listed: Value = as_admin(Method::GET, "/clients".into(), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(listed["clients"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["client_id"] == new_id.as_str()));

    let res = as_admin(Method::POST, format!("/clients/{new_id}/secret"), None).await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let second_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(cc_status(new_id.clone(), first_secret).await, 401);
    assert_eq!(cc_status(new_id.clone(), second_secret.clone()).await, 200);

    let res = as_admin(Method::DELETE, format!("/clients/{new_id}"), None).await;
    assert_eq!(res.status(), 204);
    assert_eq!(cc_status(new_id.clone(), second_secret).await, 401);
    assert!(!app.client_stored(&new_id).await);
}
