//! One method per endpoint (and per way of calling it), as a client would call it over HTTP.

use serde_json::Value;

use super::{assert_no_store, basic, expect_error, TestApp};

impl TestApp {
    /// `GET <path>`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// POSTs `form` to `path` with the `headers` whose value is given.
    async fn post_form(
        &self,
        path: &str,
        headers: &[(&str, Option<&str>)],
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(path)).form(form);
        for (name, value) in headers {
            if let Some(value) = value {
                req = req.header(*name, *value);
            }
        }
        req.send().await.unwrap()
    }

    /// POSTs `form` to `path` with `Authorization: <authorization>`.
    async fn post_form_as(
        &self,
        path: &str,
        authorization: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form(path, &[("authorization", Some(authorization))], form)
            .await
    }

    /// `<method> <path>` with a bearer token when given.
    pub(super) fn with_bearer(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let req = self.http.request(method, self.url(path));
        match bearer {
            Some(token) => req.bearer_auth(token),
            None => req,
        }
    }

    /// POSTs a form to the token endpoint.
    pub async fn post_token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form("/oauth2/token", &[], form).await
    }

    /// POSTs a form to the token endpoint with `X-Forwarded-For: <xff>` when given.
    pub async fn post_token_from(
        &self,
        xff: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form("/oauth2/token", &[("x-forwarded-for", xff)], form)
            .await
    }

    /// POSTs a form to the token endpoint with `Authorization: <authorization>`.
    pub async fn post_token_as(
        &self,
        authorization: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form_as("/oauth2/token", authorization, form)
            .await
    }

    /// POSTs a form to the token endpoint from a browser page of `origin` (CORS).
    pub async fn post_token_with_origin(
        &self,
        origin: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form("/oauth2/token", &[("origin", Some(origin))], form)
            .await
    }

    /// POSTs `body` to the token endpoint as `content_type`.
    pub async fn post_token_raw(
        &self,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/token"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// POSTs to the token endpoint with no body (and no content type) at all.
    pub async fn post_token_without_body(&self) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/token"))
            .send()
            .await
            .unwrap()
    }

    /// POSTs a JSON body to the token endpoint.
    pub async fn post_token_json(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/token"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Password grant for a public client, with `scope` when given.
    pub async fn password_grant(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
        scope: Option<&str>,
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "password"),
            ("client_id", client_id),
            ("username", username),
            ("password", password),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.post_token(&form).await
    }

    /// Password grant for a public client through a proxy that sends `X-Forwarded-For: <xff>`
    /// (when given).
    pub async fn password_grant_from(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
        xff: Option<&str>,
    ) -> reqwest::Response {
        let form = [
            ("grant_type", "password"),
            ("client_id", client_id),
            ("username", username),
            ("password", password),
        ];
        self.post_token_from(xff, &form).await
    }

    /// Password grant for a public client asking for every scope the client is registered
    /// with (a request without `scope` gets no `openid` or `offline_access`); returns the JSON
    /// body (asserting 200).
    pub async fn login(&self, client_id: &str, username: &str, password: &str) -> Value {
        let scope = self.registered_scopes(client_id).await;
        let res = self
            .password_grant(client_id, username, password, Some(&scope))
            .await;
        assert_eq!(res.status(), 200, "login failed");
        res.json().await.unwrap()
    }

    /// Password grant with `scope`; returns the JSON body (asserting 200).
    pub async fn login_scoped(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
        scope: &str,
    ) -> Value {
        let res = self
            .password_grant(client_id, username, password, Some(scope))
            .await;
        assert_eq!(res.status(), 200, "login with scope `{scope}` failed");
        res.json().await.unwrap()
    }

    /// Password grant; returns the access token (for the bearer-protected endpoints).
    pub async fn bearer_login(&self, client_id: &str, username: &str, password: &str) -> String {
        super::access_token(&self.login(client_id, username, password).await)
    }

    /// Client credentials grant with `client_secret_basic`, plus the `extra` parameters.
    pub async fn client_credentials(
        &self,
        client_id: &str,
        secret: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(extra);
        self.post_token_as(&basic(client_id, secret), &form).await
    }

    /// Authorization code grant for a public client (PKCE `code_verifier`).
    pub async fn authorization_code_grant(
        &self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> reqwest::Response {
        self.post_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// Refresh grant for a public client, optionally narrowing `scope`.
    pub async fn refresh(
        &self,
        client_id: &str,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.post_token(&form).await
    }

    /// `n` refreshes of `refresh_token` sent at once; their (status, body) in no order.
    pub async fn parallel_refreshes(
        &self,
        client_id: &str,
        refresh_token: &str,
        n: usize,
    ) -> Vec<(u16, Value)> {
        let mut tasks = Vec::new();
        for _ in 0..n {
            let http = self.http.clone();
            let url = self.url("/oauth2/token");
            let form = [
                ("grant_type", "refresh_token".to_owned()),
                ("client_id", client_id.to_owned()),
                ("refresh_token", refresh_token.to_owned()),
            ];
            tasks.push(tokio::spawn(async move {
                let res = http.post(url).form(&form).send().await.unwrap();
                let status = res.status().as_u16();
                (status, res.json().await.unwrap())
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    }

    /// Refreshes and asserts 200; returns the body.
    pub async fn refresh_ok(&self, client_id: &str, refresh_token: &str) -> Value {
        let res = self.refresh(client_id, refresh_token, None).await;
        assert_eq!(res.status(), 200, "refresh failed");
        assert_no_store(&res);
        res.json().await.unwrap()
    }

    /// Asserts that `refresh_token` is dead: 400 `invalid_grant` (RFC 6749 §5.2).
    pub async fn assert_refresh_dead(&self, client_id: &str, refresh_token: &str) {
        let res = self.refresh(client_id, refresh_token, None).await;
        expect_error(res, 400, "invalid_grant").await;
    }

    /// POSTs a form to the revocation endpoint.
    pub async fn post_revoke(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form("/oauth2/revoke", &[], form).await
    }

    /// POSTs a form to the revocation endpoint with `Authorization: <authorization>`.
    pub async fn post_revoke_as(
        &self,
        authorization: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form_as("/oauth2/revoke", authorization, form)
            .await
    }

    /// POSTs a form to the introspection endpoint, with `Authorization` when given.
    pub async fn post_introspect(
        &self,
        authorization: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form(
            "/oauth2/introspect",
            &[("authorization", authorization)],
            form,
        )
        .await
    }

    /// Introspects `token` as the confidential client `id`; asserts 200, returns the answer.
    pub async fn introspect(&self, id: &str, secret: &str, token: &str) -> Value {
        let res = self
            .post_introspect(Some(&basic(id, secret)), &[("token", token)])
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// `<method> /oauth2/userinfo` with a bearer token when given.
    pub async fn userinfo(
        &self,
        method: reqwest::Method,
        bearer: Option<&str>,
    ) -> reqwest::Response {
        let req = self.with_bearer(method, "/oauth2/userinfo", bearer);
        req.send().await.unwrap()
    }

    /// `GET /oauth2/userinfo` with a bearer token when given.
    pub async fn get_userinfo(&self, bearer: Option<&str>) -> reqwest::Response {
        self.userinfo(reqwest::Method::GET, bearer).await
    }

    /// `POST /account/logout-all` with `Authorization: <authorization>` when given.
    pub async fn post_logout_all(&self, authorization: Option<&str>) -> reqwest::Response {
        // No body at all (not an empty form).
        let mut req = self.http.post(self.url("/account/logout-all"));
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        req.send().await.unwrap()
    }

    /// `<method> /admin<path>` with a bearer token and a JSON body when given.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self.with_bearer(method, &format!("/admin{path}"), bearer);
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.unwrap()
    }

    /// `GET /metrics` with a bearer token when given.
    pub async fn get_metrics(&self, bearer: Option<&str>) -> reqwest::Response {
        let req = self.with_bearer(reqwest::Method::GET, "/metrics", bearer);
        req.send().await.unwrap()
    }

    /// `GET /.well-known/jwks.json` with `If-None-Match` when given.
    pub async fn get_jwks(&self, if_none_match: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url("/.well-known/jwks.json"));
        if let Some(etag) = if_none_match {
            req = req.header("if-none-match", etag);
        }
        req.send().await.unwrap()
    }

    /// The kids the JWKS endpoint publishes.
    pub async fn jwks_kids(&self) -> Vec<String> {
        let jwks: Value = self.get_jwks(None).await.json().await.unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Verifies an access token the way a backend would: fetch the JWKS, pick the key by
    /// `kid`, check the algorithm is the JWK's `alg` (RS256 unless `expected` says otherwise),
    /// `typ` `at+jwt`, issuer and audience; returns the claims.
    pub async fn verify_with_jwks(&self, token: &str) -> Value {
        self.verify_with_jwks_as(token, "RS256").await
    }

    /// As [`TestApp::verify_with_jwks`] for a token of the JOSE algorithm `expected`.
    pub async fn verify_with_jwks_as(&self, token: &str, expected: &str) -> Value {
        use jsonwebtoken::{
            decode, decode_header, jwk::JwkSet, Algorithm, DecodingKey, Validation,
        };
        let jwks: JwkSet = self.get_jwks(None).await.json().await.unwrap();
        let header = decode_header(token).unwrap();
        let expected: Algorithm = expected.parse().unwrap();
        assert_eq!(header.alg, expected);
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let jwk = jwks
            .find(header.kid.as_deref().unwrap())
            .expect("kid in JWKS");
        let published = serde_json::to_value(jwk.common.key_algorithm).unwrap();
        assert_eq!(
            published,
            serde_json::to_value(expected).unwrap(),
            "the JWK's alg"
        );
        let mut validation = Validation::new(expected);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap()
            .claims
    }

    /// A CORS preflight for a POST with a `content-type` header from `origin`.
    pub async fn preflight(&self, origin: &str, path: &str) -> reqwest::Response {
        self.http
            .request(reqwest::Method::OPTIONS, self.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .unwrap()
    }
}
