//! DPoP (RFC 9449) beyond the token endpoint: bound tokens at the `/account` and `/admin` JSON
//! endpoints (§7), the next `DPoP-Nonce` on every response of the endpoints that take proofs
//! (§8.2), introspection of bound tokens (`token_type`, `cnf`), and a confidential client's
//! refresh tokens, which are not bound (§5).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    ath, claims, expect_error, header, unique, Backend, DpopKey, NewClient, Service, TestApp,
    SCOPES,
};

/// A public password + refresh client and a user: a DPoP-bound login with `key`; the client
/// and the token response.
async fn dpop_login(app: &TestApp, key: &DpopKey, nonce: Option<&str>) -> (String, Value) {
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let scope = SCOPES.join(" ");
    let form = [
        ("grant_type", "password"),
        ("client_id", client.as_str()),
        ("username", username.as_str()),
        ("password", password.as_str()),
        ("scope", scope.as_str()),
    ];
    let proof = key.proof("POST", &app.url("/oauth2/token"), json!({ "nonce": nonce }));
    let res = app.post_token_dpop(&form, Some(&proof)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    (client, body)
}

/// An admin client (`tessera:admin`) and a DPoP-bound client-credentials token for `key`.
async fn dpop_admin(app: &TestApp, key: &DpopKey, nonce: Option<&str>) -> (Service, String) {
    let secret = crate::helpers::random_token();
    let id = app.service_client_with(&secret, &["tessera:admin"]).await;
    let svc = Service { id, secret };
    let proof = key.proof("POST", &app.url("/oauth2/token"), json!({ "nonce": nonce }));
    let mut form = svc.form().to_vec();
    form.push(("scope", "tessera:admin"));
    let res = app.post_token_dpop(&form, Some(&proof)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&token)["cnf"]["jkt"], key.jkt());
    (svc, token)
}

/// `<method> <path>` with `token` bound to `key`: a valid proof works (`ok`); the token as
/// `Bearer` is refused (§7.1); a proof whose `ath` is another token's is refused (§7).
async fn check_resource(
    app: &TestApp,
    key: &DpopKey,
    token: &str,
    (method, path, body): (Method, &str, Option<&Value>),
    ok: u16,
) {
    let url = app.url(path);
    let wrong_ath = key.proof(method.as_str(), &url, json!({"ath": ath("another token")}));
    let res = app
        .dpop_call(method.clone(), path, token, Some(&wrong_ath), body)
        .await;
    let challenge = header(&res, "www-authenticate").to_owned();
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains("error=\"invalid_dpop_proof\""),
        "{method} {path}: {challenge}"
    );
    expect_error(res, 401, "invalid_dpop_proof").await;
    let mut bearer = app.http.request(method.clone(), &url).bearer_auth(token);
    if let Some(body) = body {
        bearer = bearer.json(body);
    }
    let res = bearer.send().await.unwrap();
    assert!(header(&res, "www-authenticate").starts_with("DPoP "));
    expect_error(res, 401, "invalid_token").await;
    let proof = key.resource_proof(method.as_str(), &url, token);
    let res = app
        .dpop_call(method.clone(), path, token, Some(&proof), body)
        .await;
    assert_eq!(res.status(), ok, "{method} {path}");
    // Without `dpop_nonce_required`, no nonce is handed out.
    assert_eq!(header(&res, "dpop-nonce"), "");
}

#[tokio::test]
async fn account_endpoints_take_dpop_bound_tokens() {
    let app = TestApp::spawn().await;
    let key = DpopKey::generate();
    let (_, body) = dpop_login(&app, &key, None).await;
    let token = body["access_token"].as_str().unwrap();
    check_resource(
        &app,
        &key,
        token,
        (Method::POST, "/account/mfa/totp", None),
        200,
    )
    .await;
    let confirm = json!({"code": "000000"});
    let step = (Method::POST, "/account/mfa/totp/confirm", Some(&confirm));
    check_resource(&app, &key, token, step, 400).await;
    check_resource(
        &app,
        &key,
        token,
        (Method::POST, "/account/logout-all", None),
        204,
    )
    .await;
    // The session is over: the bound token no longer reaches userinfo.
    let userinfo = app.url("/oauth2/userinfo");
    let proof = key.resource_proof("GET", &userinfo, token);
    let res = app.get_userinfo_dpop(token, Some(&proof)).await;
    expect_error(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn admin_endpoints_take_dpop_bound_tokens() {
    let app = TestApp::spawn().await;
    let key = DpopKey::generate();
    let (_, token) = dpop_admin(&app, &key, None).await;
    check_resource(
        &app,
        &key,
        &token,
        (Method::GET, "/admin/clients", None),
        200,
    )
    .await;
    let user = json!({"username": unique("dpop-admin"), "password": "pw-1234"});
    let create = (Method::POST, "/admin/users", Some(&user));
    check_resource(&app, &key, &token, create, 201).await;
    let (client, _) = app.client(true, &["password"], SCOPES).await;
    let path = format!("/admin/clients/{client}");
    check_resource(&app, &key, &token, (Method::DELETE, &path, None), 204).await;
    assert!(!app.client_stored(&client).await);
}

/// §8.2: with nonces required, every response of the token, PAR, userinfo, `/account` and
/// `/admin` endpoints carries the nonce the next proof must use, errors included.
#[tokio::test]
async fn every_response_of_a_dpop_endpoint_carries_the_next_nonce() {
    let app = TestApp::spawn_with(Backend::Redis, |raw| raw.dpop_nonce_required = true).await;
    let key = DpopKey::generate();
    // An error that is not about DPoP carries it too.
    let res = app
        .post_token_dpop(&[("grant_type", "password"), ("client_id", "nobody")], None)
        .await;
    let nonce = header(&res, "dpop-nonce").to_owned();
    assert!(!nonce.is_empty(), "the token endpoint's error");
    expect_error(res, 401, "invalid_client").await;
    let (_, body) = dpop_login(&app, &key, Some(&nonce)).await;
    let token = body["access_token"].as_str().unwrap();
    let with_nonce = |method: &str, path: &str| {
        key.proof(
            method,
            &app.url(path),
            json!({"ath": ath(token), "nonce": nonce}),
        )
    };
    for (method, path) in [
        (Method::GET, "/oauth2/userinfo"),
        (Method::POST, "/oauth2/userinfo"),
        (Method::POST, "/account/mfa/totp"),
    ] {
        let proof = with_nonce(method.as_str(), path);
        let res = app
            .dpop_call(method.clone(), path, token, Some(&proof), None)
            .await;
        assert_eq!(res.status(), 200, "{method} {path}");
        assert!(!header(&res, "dpop-nonce").is_empty(), "{method} {path}");
    }
    // A proof without the nonce at a resource: 401 use_dpop_nonce with the nonce to use.
    let proof = key.resource_proof("GET", &app.url("/oauth2/userinfo"), token);
    let res = app.get_userinfo_dpop(token, Some(&proof)).await;
    assert!(!header(&res, "dpop-nonce").is_empty());
    let challenge = header(&res, "www-authenticate").to_owned();
    assert!(
        challenge.contains("error=\"use_dpop_nonce\""),
        "{challenge}"
    );
    expect_error(res, 401, "use_dpop_nonce").await;
    // A bearer token at userinfo (no proof at all) still learns the nonce.
    let (username, password, _) = app.user().await;
    let plain = app
        .bearer_login(&app.public_client().await, &username, &password)
        .await;
    let res = app.get_userinfo(Some(&plain)).await;
    assert_eq!(res.status(), 200);
    assert!(!header(&res, "dpop-nonce").is_empty(), "userinfo, bearer");
    // The admin API.
    let admin_key = DpopKey::generate();
    let (_, admin) = dpop_admin(&app, &admin_key, Some(&nonce)).await;
    let proof = admin_key.proof(
        "GET",
        &app.url("/admin/clients"),
        json!({"ath": ath(&admin), "nonce": nonce}),
    );
    let res = app
        .dpop_call(Method::GET, "/admin/clients", &admin, Some(&proof), None)
        .await;
    assert_eq!(res.status(), 200);
    assert!(!header(&res, "dpop-nonce").is_empty(), "admin");
    let res = app.admin(Method::GET, "/clients", None, None).await;
    assert_eq!(res.status(), 401);
    assert!(!header(&res, "dpop-nonce").is_empty(), "admin, no token");
    // PAR: 201 and errors.
    let client = app.spa_client(false).await;
    let pkce = crate::helpers::pkce();
    let form = [
        ("client_id", client.as_str()),
        ("response_type", "code"),
        ("redirect_uri", crate::helpers::REDIRECT),
        ("scope", "openid"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let proof = key.proof("POST", &app.url("/oauth2/par"), json!({ "nonce": nonce }));
    let res = app.post_par_dpop(&form, Some(&proof)).await;
    assert_eq!(res.status(), 201);
    assert!(!header(&res, "dpop-nonce").is_empty(), "par");
    let res = app.post_par_dpop(&form[..1], None).await;
    assert!(!header(&res, "dpop-nonce").is_empty(), "par error");
    expect_error(res, 400, "invalid_request").await;
    // Endpoints that take no proof do not hand out nonces.
    let res = app.get("/.well-known/openid-configuration").await;
    assert_eq!(header(&res, "dpop-nonce"), "");
}

/// RFC 7662 §2.2 `token_type` is the token's RFC 6749 §7.1 type; a bound token, access or
/// refresh, shows its key in `cnf.jkt` (RFC 9449 §6.2).
#[tokio::test]
async fn introspection_shows_the_binding_of_access_and_refresh_tokens() {
    let app = TestApp::spawn().await;
    let key = DpopKey::generate();
    let (_, body) = dpop_login(&app, &key, None).await;
    let svc = app.dpop_service().await;
    for name in ["access_token", "refresh_token"] {
        let token = body[name].as_str().unwrap();
        let answer = app.introspect(&svc.id, &svc.secret, token).await;
        assert_eq!(answer["active"], true, "{name}");
        assert_eq!(answer["token_type"], "DPoP", "{name}");
        assert_eq!(answer["cnf"]["jkt"], key.jkt(), "{name}");
    }
}

/// §5: a confidential client's refresh tokens are not bound (refreshing needs no proof, and
/// introspection shows no `cnf`), while its access tokens are bound whenever it sends a proof.
#[tokio::test]
async fn a_confidential_clients_refresh_token_is_not_bound() {
    let app = TestApp::spawn().await;
    let secret = crate::helpers::random_token();
    let (client, _) = app
        .register(NewClient::confidential(&["password", "refresh_token"], SCOPES).secret(&secret))
        .await;
    let (username, password, _) = app.user().await;
    let key = DpopKey::generate();
    let login = [
        ("grant_type", "password"),
        ("client_id", client.as_str()),
        ("client_secret", secret.as_str()),
        ("username", username.as_str()),
        ("password", password.as_str()),
    ];
    let res = app
        .post_token_dpop(&login, Some(&app.token_proof(&key)))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.jkt()
    );
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let svc = app.dpop_service().await;
    let answer = app.introspect(&svc.id, &svc.secret, &refresh).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "Bearer");
    assert!(answer.get("cnf").is_none(), "{answer}");
    // Without a proof: refreshed, and the new access token is a plain bearer token.
    let form = confidential_refresh(&client, &secret, &refresh);
    let res = app.post_token_dpop(&form, None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(claims(body["access_token"].as_str().unwrap())["cnf"].is_null());
    // With a proof of another key: refreshed, the access token bound to that key.
    let other = DpopKey::generate();
    let form = confidential_refresh(&client, &secret, body["refresh_token"].as_str().unwrap());
    let res = app
        .post_token_dpop(&form, Some(&app.token_proof(&other)))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        other.jkt()
    );
}

fn confidential_refresh<'a>(
    client: &'a str,
    secret: &'a str,
    token: &'a str,
) -> [(&'a str, &'a str); 4] {
    [
        ("grant_type", "refresh_token"),
        ("client_id", client),
        ("client_secret", secret),
        ("refresh_token", token),
    ]
}
