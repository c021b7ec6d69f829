//! Every error path of the token endpoint (RFC 6749 §5.2): status, body and headers.

use crate::helpers::{
    access_token, assert_no_store, basic, claims, expect_error, header, unique, TestApp,
};

const SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// A server, a public client and a user.
async fn setup() -> (TestApp, String, String, String) {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    (app, client, username, password)
}

async fn raw_post(
    app: &TestApp,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.http
        .post(app.url("/oauth2/token"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn success_carries_no_store_headers() {
    let (app, client, username, password) = setup().await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", &client),
            ("username", &username),
            ("password", &password),
        ])
        .await;
    assert_eq!(res.status(), 200);
    // RFC 6749 §5.1: Cache-Control: no-store and Pragma: no-cache on token responses.
    assert_no_store(&res);
    assert!(header(&res, "content-type").starts_with("application/json"));
}

#[tokio::test]
async fn missing_grant_type_is_invalid_request() {
    let (app, client, _, _) = setup().await;
    let res = app.token(&[("client_id", &client)]).await;
    expect_error(res, 400, "invalid_request").await;
    // An empty value counts as absent (RFC 6749 §3.1).
    let res = app
        .token(&[("grant_type", ""), ("client_id", &client)])
        .await;
    expect_error(res, 400, "invalid_request").await;
    // No body at all.
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn unknown_grant_type_is_unsupported_grant_type() {
    let (app, client, _, _) = setup().await;
    for grant in ["implicit", "urn:example:unsupported"] {
        let res = app
            .token(&[("grant_type", grant), ("client_id", &client)])
            .await;
        // RFC 6749 §5.2 unsupported_grant_type.
        expect_error(res, 400, "unsupported_grant_type").await;
    }
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let (app, client, username, password) = setup().await;
    // RFC 6749 §3.2: request and response parameters MUST NOT be included more than once.
    let base = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("client_id", &client)
        .append_pair("username", &username)
        .append_pair("password", &password)
        .finish();
    let ok = raw_post(&app, "application/x-www-form-urlencoded", base.clone()).await;
    assert_eq!(ok.status(), 200, "the body without repetition is valid");
    for extra in [
        "&scope=openid&scope=profile",
        "&scope=openid&scope=openid",
        "&grant_type=password",
        "&password=other",
    ] {
        let res = raw_post(
            &app,
            "application/x-www-form-urlencoded",
            format!("{base}{extra}"),
        )
        .await;
        expect_error(res, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_indistinguishable() {
    let (app, client, username, _) = setup().await;
    let attempt = |username: String| {
        let (app, client) = (&app, &client);
        async move {
            app.token(&[
                ("grant_type", "password"),
                ("client_id", client),
                ("username", &username),
                ("password", "definitely-wrong"),
            ])
            .await
        }
    };
    let wrong = expect_error(attempt(username).await, 400, "invalid_grant").await;
    let unknown = expect_error(attempt(unique("ghost")).await, 400, "invalid_grant").await;
    // No user enumeration: byte-identical bodies.
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn usernames_are_normalised() {
    let (app, client, username, password) = setup().await;
    let expected = claims(&access_token(
        &app.login(&client, &username, &password).await,
    ))["sub"]
        .clone();
    let full_width: String = username
        .chars()
        .map(|c| char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap())
        .collect();
    for variant in [
        username.to_uppercase(),
        format!(" {username} "),
        format!("\t{}\u{3000}", username.to_uppercase()),
        full_width,
    ] {
        let body = app.login(&client, &variant, &password).await;
        assert_eq!(
            claims(&access_token(&body))["sub"],
            expected,
            "`{variant}` is the same account"
        );
    }
}

#[tokio::test]
async fn a_password_over_1024_bytes_is_invalid_request() {
    let (app, client, username, _) = setup().await;
    let attempt = |password: String| {
        let (app, client, username) = (&app, &client, &username);
        async move {
            app.token(&[
                ("grant_type", "password"),
                ("client_id", client),
                ("username", username),
                ("password", &password),
            ])
            .await
        }
    };
    expect_error(attempt("x".repeat(1025)).await, 400, "invalid_request").await;
    // Bytes, not characters: 513 × "é" is 1026 bytes.
    expect_error(attempt("é".repeat(513)).await, 400, "invalid_request").await;
    // At the limit the password is checked (and wrong).
    expect_error(attempt("x".repeat(1024)).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_body_over_16_kib_is_a_4xx_oauth_error() {
    let (app, client, username, password) = setup().await;
    let body = |padding: usize| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "password")
            .append_pair("client_id", &client)
            .append_pair("username", &username)
            .append_pair("password", &password)
            .append_pair("padding", &"p".repeat(padding))
            .finish()
    };
    // Just under the limit is accepted (the unknown parameter is ignored, RFC 6749 §3.2).
    let res = raw_post(&app, "application/x-www-form-urlencoded", body(15 * 1024)).await;
    assert_eq!(res.status(), 200);

    let res = raw_post(&app, "application/x-www-form-urlencoded", body(17 * 1024)).await;
    assert!(
        res.status().is_client_error(),
        "oversized body: {}",
        res.status()
    );
    assert!(!header(&res, "x-request-id").is_empty());
    // Like every token-endpoint error: RFC 6749 §5.2 JSON body, and no-store (RFC 6749 §5.1,
    // the spec: "same no-store headers").
    assert_no_store(&res);
    let raw = res.text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&raw)
        .unwrap_or_else(|_| panic!("RFC 6749 §5.2 JSON error body, got {raw:?}"));
    assert!(body["error"].is_string(), "{raw}");
}

#[tokio::test]
async fn an_unknown_client_is_invalid_client_with_a_basic_challenge() {
    let (app, _, username, password) = setup().await;
    let nobody = unique("nobody");
    let form = [
        ("grant_type", "password"),
        ("username", username.as_str()),
        ("password", password.as_str()),
    ];
    let mut with_id = form.to_vec();
    with_id.push(("client_id", &nobody));
    let by_body = app.token(&with_id).await;
    let by_basic = app
        .http
        .post(app.url("/oauth2/token"))
        .header("authorization", basic(&nobody, "secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let no_client = app.token(&form).await;
    for res in [by_body, by_basic, no_client] {
        // RFC 6749 §5.2: 401 invalid_client with WWW-Authenticate matching the scheme (Basic).
        let challenge = header(&res, "www-authenticate").to_owned();
        assert!(
            challenge.starts_with("Basic ") && challenge.contains("realm=\"tessera\""),
            "{challenge}"
        );
        expect_error(res, 401, "invalid_client").await;
    }
}

#[tokio::test]
async fn confidential_client_authentication() {
    let (app, _, username, password) = setup().await;
    let (client, secret) = app
        .client(false, &["password", "refresh_token"], SCOPES)
        .await;
    let secret = secret.unwrap();
    let form = [
        ("grant_type", "password"),
        ("username", username.as_str()),
        ("password", password.as_str()),
    ];
    let with_basic = |auth: String| {
        let app = &app;
        async move {
            app.http
                .post(app.url("/oauth2/token"))
                .header("authorization", auth)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let post = |secret: Option<String>| {
        let (app, client, username, password) = (&app, &client, &username, &password);
        async move {
            let mut form = vec![
                ("grant_type", "password"),
                ("username", username.as_str()),
                ("password", password.as_str()),
                ("client_id", client.as_str()),
            ];
            if let Some(secret) = &secret {
                form.push(("client_secret", secret.as_str()));
            }
            app.token(&form).await
        }
    };

    // The right secret works both ways (RFC 6749 §2.3.1).
    assert_eq!(with_basic(basic(&client, &secret)).await.status(), 200);
    assert_eq!(post(Some(secret.clone())).await.status(), 200);

    // Wrong secret, either way: 401 invalid_client.
    let wrong = format!("{secret}x");
    expect_error(
        with_basic(basic(&client, &wrong)).await,
        401,
        "invalid_client",
    )
    .await;
    expect_error(post(Some(wrong.clone())).await, 401, "invalid_client").await;
    // No secret at all for a confidential client (RFC 6749 §3.2.1).
    expect_error(post(None).await, 401, "invalid_client").await;
    // Malformed Basic credentials.
    expect_error(with_basic("Basic !!!".into()).await, 401, "invalid_client").await;
    expect_error(
        with_basic(format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "no-colon")
        ))
        .await,
        401,
        "invalid_client",
    )
    .await;

    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
    let both = app
        .http
        .post(app.url("/oauth2/token"))
        .header("authorization", basic(&client, &secret))
        .form(&[
            ("grant_type", "password"),
            ("username", username.as_str()),
            ("password", password.as_str()),
            ("client_id", client.as_str()),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    expect_error(both, 400, "invalid_request").await;
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded() {
    let (app, _, username, password) = setup().await;
    // An id and an operator-supplied secret with characters that form-urlencoding changes
    // (`:` splits Basic credentials, `+` decodes to a space, `%` starts an escape); add_client
    // allows any printable ASCII id and any secret of 256 bits.
    let client = format!("a:b+c%d/{}", unique("x"));
    let secret = format!("{}:+% &=/?{}", tessera::secret::random_token(), "Zz9!");
    let registration = tessera::clients::Registration {
        client_id: client.clone(),
        client_secret: Some(secret.clone()),
        policy: tessera::store::ClientPolicy {
            grant_types: vec!["password".into()],
            scopes: vec!["openid".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    tessera::clients::add_client(&app.state.store, registration)
        .await
        .unwrap();
    let form = [
        ("grant_type", "password"),
        ("username", username.as_str()),
        ("password", password.as_str()),
    ];
    let with_basic = |auth: String| {
        let app = &app;
        async move {
            app.http
                .post(app.url("/oauth2/token"))
                .header("authorization", auth)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    // RFC 6749 §2.3.1: id and secret are encoded with application/x-www-form-urlencoded first.
    let res = with_basic(basic(&client, &secret)).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(claims(&access_token(&body))["client_id"], client.as_str());

    // Not encoded, the id is cut at its first `:`: an unknown client.
    let raw = |id: &str, secret: &str| {
        format!(
            "Basic {}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{id}:{secret}")
            )
        )
    };
    expect_error(
        with_basic(raw(&client, &secret)).await,
        401,
        "invalid_client",
    )
    .await;
    // Only the id encoded: the raw secret's `+` and `%` decode to something else.
    let encoded_id: String = form_urlencoded::byte_serialize(client.as_bytes()).collect();
    expect_error(
        with_basic(raw(&encoded_id, &secret)).await,
        401,
        "invalid_client",
    )
    .await;

    // client_secret_post with the same credentials.
    let mut post = form.to_vec();
    post.push(("client_id", &client));
    post.push(("client_secret", &secret));
    assert_eq!(app.token(&post).await.status(), 200);
}

#[tokio::test]
async fn a_client_without_the_grant_is_unauthorized_client() {
    let (app, _, username, password) = setup().await;
    let (client, _) = app.client(true, &["refresh_token"], SCOPES).await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", &client),
            ("username", &username),
            ("password", &password),
        ])
        .await;
    // RFC 6749 §5.2 unauthorized_client.
    expect_error(res, 400, "unauthorized_client").await;

    // A client with only the password grant gets no refresh token and may not refresh.
    let (client, _) = app.client(true, &["password"], SCOPES).await;
    let body = app.login(&client, &username, &password).await;
    assert!(body.get("refresh_token").is_none(), "{body}");
    let res = app
        .refresh(
            &client,
            &format!("{}.{}", "A".repeat(22), "B".repeat(43)),
            None,
        )
        .await;
    expect_error(res, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn a_scope_not_allowed_is_invalid_scope() {
    let (app, _, username, password) = setup().await;
    let (client, _) = app
        .client(true, &["password", "refresh_token"], &["openid", "profile"])
        .await;
    let attempt = |scope: &'static str| {
        let (app, client, username, password) = (&app, &client, &username, &password);
        async move {
            app.token(&[
                ("grant_type", "password"),
                ("client_id", client),
                ("username", username),
                ("password", password),
                ("scope", scope),
            ])
            .await
        }
    };
    // RFC 6749 §5.2 invalid_scope.
    expect_error(attempt("admin").await, 400, "invalid_scope").await;
    expect_error(attempt("openid email").await, 400, "invalid_scope").await;
    // Allowed scopes pass, deduplicated; none requested means the registered ones (§3.3).
    let ok = attempt("profile  openid profile").await;
    assert_eq!(ok.status(), 200);
    let ok: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(ok["scope"], "profile openid");
    let default = app.login(&client, &username, &password).await;
    assert_eq!(default["scope"], "openid profile");
}

#[tokio::test]
async fn a_json_body_works_for_the_password_grant() {
    let (app, client, username, password) = setup().await;
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .json(&serde_json::json!({
            "grant_type": "password",
            "client_id": client,
            "username": username,
            "password": password,
            "scope": "openid",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_no_store(&res);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "openid");
    assert_eq!(claims(&access_token(&body))["client_id"], client.as_str());

    // Non-string values and non-objects are invalid_request.
    for bad in [
        serde_json::json!({"grant_type": "password", "client_id": client, "username": username, "password": 1234}),
        serde_json::json!(["grant_type", "password"]),
    ] {
        let res = app
            .http
            .post(app.url("/oauth2/token"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        expect_error(res, 400, "invalid_request").await;
    }
    let res = raw_post(&app, "application/json", "{not json").await;
    expect_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn an_unsupported_content_type_is_invalid_request() {
    let (app, client, username, password) = setup().await;
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("client_id", &client)
        .append_pair("username", &username)
        .append_pair("password", &password)
        .finish();
    for content_type in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
    ] {
        let res = raw_post(&app, content_type, body.clone()).await;
        expect_error(res, 400, "invalid_request").await;
    }
    // Media type matching is case-insensitive and ignores parameters (RFC 9110 §8.3.1).
    let res = raw_post(
        &app,
        "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
        body,
    )
    .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_public_client_sending_a_secret_is_invalid_client() {
    let (app, client, username, password) = setup().await;
    let form = [
        ("grant_type", "password"),
        ("username", username.as_str()),
        ("password", password.as_str()),
    ];
    let mut post = form.to_vec();
    post.push(("client_id", &client));
    post.push(("client_secret", "anything"));
    expect_error(app.token(&post).await, 401, "invalid_client").await;
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header("authorization", basic(&client, "anything"))
        .form(&form)
        .send()
        .await
        .unwrap();
    expect_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn basic_and_a_different_body_client_id_is_invalid_request() {
    let (app, client, username, password) = setup().await;
    let (confidential, secret) = app.client(false, &["password"], SCOPES).await;
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header("authorization", basic(&confidential, &secret.unwrap()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", client.as_str()),
            ("username", username.as_str()),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn missing_username_or_password_is_invalid_request() {
    let (app, client, username, password) = setup().await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", &client),
            ("password", &password),
        ])
        .await;
    expect_error(res, 400, "invalid_request").await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", &client),
            ("username", &username),
        ])
        .await;
    expect_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn the_basic_scheme_name_is_case_insensitive() {
    let (app, _, username, password) = setup().await;
    let (client, secret) = app.client(false, &["password"], SCOPES).await;
    let credentials = basic(&client, &secret.unwrap());
    let encoded = credentials.strip_prefix("Basic ").unwrap();
    // RFC 9110 §11.1: the authentication scheme is a case-insensitive token.
    for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
        let res = app
            .http
            .post(app.url("/oauth2/token"))
            .header("authorization", format!("{scheme} {encoded}"))
            .form(&[
                ("grant_type", "password"),
                ("username", username.as_str()),
                ("password", password.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "scheme `{scheme}`");
    }
}

#[tokio::test]
async fn a_repeated_json_member_is_invalid_request() {
    let (app, client, username, password) = setup().await;
    // A repeated member is a repeated parameter (RFC 6749 §3.2; the spec applies it to JSON
    // bodies too): it must not silently take the last value.
    let repeated = format!(
        r#"{{"grant_type":"password","client_id":"{client}","username":"{username}","password":"wrong","password":"{password}"}}"#
    );
    let res = raw_post(&app, "application/json", repeated).await;
    expect_error(res, 400, "invalid_request").await;
}
