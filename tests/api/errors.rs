//! Every error path of the token endpoint (RFC 6749 §5.2): status, body and headers.

use crate::helpers::{
    access_token, assert_no_store, claims, expect_error, header, password_form, unique, TestApp,
    SCOPES,
};

#[tokio::test]
async fn success_carries_no_store_headers() {
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    let res = app
        .password_grant(&client, &username, &password, None)
        .await;
    assert_eq!(res.status(), 200);
    // RFC 6749 §5.1: Cache-Control: no-store and Pragma: no-cache on token responses.
    assert_no_store(&res);
    assert!(header(&res, "content-type").starts_with("application/json"));
}

#[tokio::test]
async fn missing_grant_type_is_invalid_request() {
    let (app, client, _, _) = TestApp::with_client_and_user().await;
    let res = app.post_token(&[("client_id", &client)]).await;
    expect_error(res, 400, "invalid_request").await;
    // An empty value counts as absent (RFC 6749 §3.1).
    let res = app
        .post_token(&[("grant_type", ""), ("client_id", &client)])
        .await;
    expect_error(res, 400, "invalid_request").await;
    // No body at all.
    let res = app.post_token_without_body().await;
    expect_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn unknown_grant_type_is_unsupported_grant_type() {
    let (app, client, _, _) = TestApp::with_client_and_user().await;
    for grant in ["implicit", "urn:example:unsupported"] {
        let res = app
            .post_token(&[("grant_type", grant), ("client_id", &client)])
            .await;
        // RFC 6749 §5.2 unsupported_grant_type.
        expect_error(res, 400, "unsupported_grant_type").await;
    }
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    // RFC 6749 §3.2: request and response parameters MUST NOT be included more than once.
    let base = password_form(&client, &username, &password, &[]);
    let ok = app
        .post_token_raw("application/x-www-form-urlencoded", base.clone())
        .await;
    assert_eq!(ok.status(), 200, "the body without repetition is valid");
    for extra in [
        "&scope=openid&scope=profile",
        "&scope=openid&scope=openid",
        "&grant_type=password",
        "&password=other",
    ] {
        let res = app
            .post_token_raw(
                "application/x-www-form-urlencoded",
                format!("{base}{extra}"),
            )
            .await;
        expect_error(res, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_indistinguishable() {
    let (app, client, username, _) = TestApp::with_client_and_user().await;
    let attempt = |username: String| {
        let (app, client) = (&app, &client);
        async move {
            app.password_grant(client, &username, "definitely-wrong", None)
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
    let (app, client, username, password) = TestApp::with_client_and_user().await;
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
    let (app, client, username, _) = TestApp::with_client_and_user().await;
    let attempt = |password: String| {
        let (app, client, username) = (&app, &client, &username);
        async move { app.password_grant(client, username, &password, None).await }
    };
    expect_error(attempt("x".repeat(1025)).await, 400, "invalid_request").await;
    // Bytes, not characters: 513 × "é" is 1026 bytes.
    expect_error(attempt("é".repeat(513)).await, 400, "invalid_request").await;
    // At the limit the password is checked (and wrong).
    expect_error(attempt("x".repeat(1024)).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_body_over_16_kib_is_a_4xx_oauth_error() {
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    let body = |padding: usize| {
        password_form(
            &client,
            &username,
            &password,
            &[("padding", &"p".repeat(padding))],
        )
    };
    // Just under the limit is accepted (the unknown parameter is ignored, RFC 6749 §3.2).
    let res = app
        .post_token_raw("application/x-www-form-urlencoded", body(15 * 1024))
        .await;
    assert_eq!(res.status(), 200);

    let res = app
        .post_token_raw("application/x-www-form-urlencoded", body(17 * 1024))
        .await;
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
async fn a_client_without_the_grant_is_unauthorized_client() {
    let (app, _, username, password) = TestApp::with_client_and_user().await;
    let (client, _) = app.client(true, &["refresh_token"], SCOPES).await;
    let res = app
        .post_token(&[
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
    let (app, _, username, password) = TestApp::with_client_and_user().await;
    let (client, _) = app
        .client(true, &["password", "refresh_token"], &["openid", "profile"])
        .await;
    let attempt = |scope: &'static str| {
        let (app, client, username, password) = (&app, &client, &username, &password);
        async move {
            app.password_grant(client, username, password, Some(scope))
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
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    let res = app
        .post_token_json(&serde_json::json!({
            "grant_type": "password",
            "client_id": client,
            "username": username,
            "password": password,
            "scope": "openid",
        }))
        .await;
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
        let res = app.post_token_json(&bad).await;
        expect_error(res, 400, "invalid_request").await;
    }
    let res = app.post_token_raw("application/json", "{not json").await;
    expect_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn an_unsupported_content_type_is_invalid_request() {
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    let body = password_form(&client, &username, &password, &[]);
    for content_type in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
    ] {
        let res = app.post_token_raw(content_type, body.clone()).await;
        expect_error(res, 400, "invalid_request").await;
    }
    // Media type matching is case-insensitive and ignores parameters (RFC 9110 §8.3.1).
    let res = app
        .post_token_raw("Application/X-WWW-Form-Urlencoded; charset=UTF-8", body)
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn missing_username_or_password_is_invalid_request() {
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    let res = app
        .post_token(&[
            ("grant_type", "password"),
            ("client_id", &client),
            ("password", &password),
        ])
        .await;
    expect_error(res, 400, "invalid_request").await;
    let res = app
        .post_token(&[
            ("grant_type", "password"),
            ("client_id", &client),
            ("username", &username),
        ])
        .await;
    expect_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_repeated_json_member_is_invalid_request() {
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    // A repeated member is a repeated parameter (RFC 6749 §3.2; the spec applies it to JSON
    // bodies too): it must not silently take the last value.
    let repeated = format!(
        r#"{{"grant_type":"password","client_id":"{client}","username":"{username}","password":"wrong","password":"{password}"}}"#
    );
    let res = app.post_token_raw("application/json", repeated).await;
    expect_error(res, 400, "invalid_request").await;
}
