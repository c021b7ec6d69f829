//! Grants that die with their client, admin rights, default scopes and `nbf`: removing a
//! client ends every grant it holds, and registering its `client_id` again brings none back;
//! `/admin` takes only client-credentials tokens of a live admin client; a request without
//! `scope` gets no `openid`, `offline_access` or `tessera:admin`; our verifiers refuse a token
//! before its `nbf` (RFC 7519 §4.1.5).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    access_token, assert_bearer_challenge, basic, claims, expect_error, now, random_token,
    refresh_token, TestApp, TokenType, SCOPES,
};

/// A client registered through the admin API: public, or confidential with its secret.
struct Registered {
    id: String,
    secret: Option<String>,
}

impl Registered {
    fn new(public: bool) -> Self {
        Self {
            id: crate::helpers::unique("lifecycle"),
            secret: (!public).then(random_token),
        }
    }

    /// Its registration (password and refresh grants, [`SCOPES`]), with the same secret each
    /// time for a confidential client.
    fn registration(&self) -> Value {
        let mut body = json!({
            "client_id": self.id,
            "public": self.secret.is_none(),
            "grant_types": ["password", "refresh_token"],
            "scopes": SCOPES,
        });
        if let Some(secret) = &self.secret {
            body["client_secret"] = secret.as_str().into();
        }
        body
    }

    /// POSTs `form` to the token endpoint as this client (its secret, or its `client_id`).
    async fn token(&self, app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
        match &self.secret {
            Some(secret) => app.post_token_as(&basic(&self.id, secret), form).await,
            None => {
                let mut form = form.to_vec();
                form.push(("client_id", &self.id));
                app.post_token(&form).await
            }
        }
    }

    /// Password grant for every scope; the tokens (asserting 200).
    async fn login(&self, app: &TestApp, username: &str, password: &str) -> Value {
        let scope = SCOPES.join(" ");
        let form = [
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
            ("scope", &scope),
        ];
        let res = self.token(app, &form).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    async fn refresh(&self, app: &TestApp, refresh: &str) -> reqwest::Response {
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
        self.token(app, &form).await
    }
}

/// A second registration of a removed client: none of the old grants comes back.
async fn removal_ends_grants_and_reregistration_revives_none(public: bool) {
    let app = TestApp::spawn().await;
    let (_, admin) = app.admin_token().await;
    let (introspector, introspector_secret) = app.service_client().await;
    let (username, password, _) = app.user().await;
    let client = Registered::new(public);
    let registration = client.registration();
    let add = || app.admin(Method::POST, "/clients", Some(&admin), Some(&registration));
    assert_eq!(add().await.status(), 201);
    let tokens = client.login(&app, &username, &password).await;
    let (access, refresh) = (access_token(&tokens), refresh_token(&tokens));
    let active = |token: String| {
        let (app, id, secret) = (&app, &introspector, &introspector_secret);
        async move { app.introspect(id, secret, &token).await["active"] == true }
    };
    assert!(active(access.clone()).await && active(refresh.clone()).await);
    assert_eq!(app.get_userinfo(Some(&access)).await.status(), 200);

    let path = format!("/clients/{}", client.id);
    let res = app.admin(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(res.status(), 204);
    // Removed: its tokens are inactive, its access token refused.
    assert!(
        !active(access.clone()).await,
        "access token of a removed client"
    );
    assert!(
        !active(refresh.clone()).await,
        "refresh token of a removed client"
    );
    let res = app.get_userinfo(Some(&access)).await;
    assert_bearer_challenge(&res, 401, Some("invalid_token"));

    // The same client_id (and secret) again: a new registration, not the old one.
    assert_eq!(add().await.status(), 201);
    expect_error(client.refresh(&app, &refresh).await, 400, "invalid_grant").await;
    assert!(
        !active(access.clone()).await,
        "old access token after re-registration"
    );
    assert!(
        !active(refresh.clone()).await,
        "old refresh token after re-registration"
    );
    let res = app.get_userinfo(Some(&access)).await;
    assert_bearer_challenge(&res, 401, Some("invalid_token"));
    let res = app.get_account_sessions(&access).await;
    assert_bearer_challenge(&res, 401, Some("invalid_token"));

    // The new registration's own grants work.
    let fresh = client.login(&app, &username, &password).await;
    let res = client.refresh(&app, &refresh_token(&fresh)).await;
    assert_eq!(res.status(), 200);
    let refreshed: Value = res.json().await.unwrap();
    assert!(active(access_token(&refreshed)).await);
    let res = app.get_userinfo(Some(&access_token(&refreshed))).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn removing_a_public_client_ends_its_grants_and_its_id_registered_again_revives_none() {
    removal_ends_grants_and_reregistration_revives_none(true).await;
}

#[tokio::test]
async fn removing_a_confidential_client_ends_its_grants_and_its_id_registered_again_revives_none() {
    removal_ends_grants_and_reregistration_revives_none(false).await;
}

#[tokio::test]
async fn an_admin_token_stops_working_when_its_client_is_removed() {
    let app = TestApp::spawn().await;
    let (admin, token) = app.admin_token().await;
    let (_, other) = app.admin_token().await;
    let res = app.admin(Method::GET, "/clients", Some(&token), None).await;
    assert_eq!(res.status(), 200);
    let path = format!("/clients/{admin}");
    let res = app.admin(Method::DELETE, &path, Some(&other), None).await;
    assert_eq!(res.status(), 204);
    let res = app.admin(Method::GET, "/clients", Some(&token), None).await;
    assert_bearer_challenge(&res, 401, Some("invalid_token"));
    let res = app.admin(Method::GET, "/users", Some(&token), None).await;
    assert_bearer_challenge(&res, 401, Some("invalid_token"));

    // Registered again under the same id with the admin scope: the old token stays dead.
    let registration = json!({
        "client_id": admin,
        "client_secret": random_token(),
        "grant_types": ["client_credentials"],
        "scopes": ["tessera:admin"],
    });
    let res = app
        .admin(Method::POST, "/clients", Some(&other), Some(&registration))
        .await;
    assert_eq!(res.status(), 201);
    let res = app.admin(Method::GET, "/clients", Some(&token), None).await;
    assert_bearer_challenge(&res, 401, Some("invalid_token"));
}

#[tokio::test]
async fn a_users_token_never_carries_admin_rights() {
    let app = TestApp::spawn().await;
    let (client, _) = app
        .client(true, &["password"], &["openid", "tessera:admin"])
        .await;
    let (username, password, _) = app.user().await;
    // The token endpoint never grants the admin scope to a user, even if the client has it.
    let res = app
        .password_grant(&client, &username, &password, Some("openid tessera:admin"))
        .await;
    let body = expect_error(res, 400, "invalid_scope").await;
    assert!(body.contains("client_credentials"), "{body}");
    let res = app
        .password_grant(&client, &username, &password, None)
        .await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["scope"], "", "no admin scope by default");

    // A user's token that carries the scope anyway (signed with the server's key, as one from
    // before this rule) is refused by /admin: it is not a client-credentials token.
    let mut forged = claims(&access_token(&tokens));
    forged["scope"] = "openid tessera:admin".into();
    let token = app.sign(TokenType::Access, &forged);
    let res = app.admin(Method::GET, "/clients", Some(&token), None).await;
    assert_bearer_challenge(&res, 403, Some("insufficient_scope"));
    let res = app.admin(Method::GET, "/users", Some(&token), None).await;
    assert_bearer_challenge(&res, 403, Some("insufficient_scope"));
}

#[tokio::test]
async fn a_token_request_without_scope_gets_no_openid_offline_access_or_admin_scope() {
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    let res = app
        .password_grant(&client, &username, &password, None)
        .await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["scope"], "profile email");
    assert!(tokens.get("id_token").is_none(), "no openid: no ID token");

    let secret = random_token();
    let svc = app
        .service_client_with(&secret, &["api:read", "tessera:admin"])
        .await;
    let res = app.client_credentials(&svc, &secret, &[]).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "api:read");
    let res = app
        .admin(Method::GET, "/clients", Some(&access_token(&body)), None)
        .await;
    assert_bearer_challenge(&res, 403, Some("insufficient_scope"));
    // Asked for, the admin scope is granted to the admin client.
    let res = app
        .client_credentials(&svc, &secret, &[("scope", "tessera:admin")])
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "tessera:admin");
    let res = app
        .admin(Method::GET, "/clients", Some(&access_token(&body)), None)
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn access_tokens_are_refused_before_their_nbf() {
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    let (svc, secret) = app.service_client().await;
    let (admin, admin_token) = app.admin_token().await;
    let user_token = claims(&app.bearer_login(&client, &username, &password).await);
    let admin_claims = claims(&admin_token);
    assert_eq!(admin_claims["sub"], admin);
    let at = |mut claims: Value, nbf: u64| {
        claims["nbf"] = nbf.into();
        claims["jti"] = random_token().into();
        app.sign(TokenType::Access, &claims)
    };

    let early = at(user_token.clone(), now() + 120);
    assert_eq!(app.introspect(&svc, &secret, &early).await["active"], false);
    let res = app.get_userinfo(Some(&early)).await;
    assert_bearer_challenge(&res, 401, Some("invalid_token"));
    let early_admin = at(admin_claims.clone(), now() + 120);
    let res = app
        .admin(Method::GET, "/clients", Some(&early_admin), None)
        .await;
    assert_bearer_challenge(&res, 401, Some("invalid_token"));

    // Within the small leeway of `exp` (a few seconds of clock skew), and from nbf on: valid.
    for nbf in [now() + 2, now()] {
        let token = at(user_token.clone(), nbf);
        assert_eq!(app.introspect(&svc, &secret, &token).await["active"], true);
        assert_eq!(app.get_userinfo(Some(&token)).await.status(), 200);
        let token = at(admin_claims.clone(), nbf);
        let res = app.admin(Method::GET, "/clients", Some(&token), None).await;
        assert_eq!(res.status(), 200);
    }
}

#[tokio::test]
async fn an_id_token_hint_before_its_nbf_is_no_hint() {
    let app = TestApp::spawn().await;
    let mut f = app.spa_flow(false).await;
    let done = f.sign_in().await;
    let tokens = app.tokens_from(&f.client, &done, &f.pkce.verifier).await;
    let mut id = claims(tokens["id_token"].as_str().unwrap());
    let sid = id["sid"].as_str().unwrap().to_owned();

    // Not yet valid: the hint is ignored, so the user is asked to confirm.
    id["nbf"] = (now() + 120).into();
    let early = app.sign(TokenType::Id, &id);
    let page = f.browser.get_logout(&[("id_token_hint", &early)]).await;
    assert_eq!(page.status, 200);
    assert!(
        app.family_alive(&sid).await,
        "signed out by a hint before its nbf"
    );

    // The same hint from its nbf on signs the user out at once.
    id["nbf"] = now().into();
    let hint = app.sign(TokenType::Id, &id);
    let page = f.browser.get_logout(&[("id_token_hint", &hint)]).await;
    assert_eq!(page.status, 200);
    assert!(!app.family_alive(&sid).await);
}
