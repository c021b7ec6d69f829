//! Client authentication at the token endpoint (RFC 6749 §2.3, §3.2.1, §5.2): Basic and
//! body credentials, their encoding, and the errors of every wrong combination.

use crate::helpers::{
    access_token, basic, basic_raw, claims, expect_error, header, random_token, unique, NewClient,
    TestApp, SCOPES,
};

#[tokio::test]
async fn an_unknown_client_is_invalid_client_with_a_basic_challenge() {
    let (app, _, username, password) = TestApp::with_client_and_user().await;
    let nobody = unique("nobody");
    let form = [
        ("grant_type", "password"),
        ("username", username.as_str()),
        ("password", password.as_str()),
    ];
    let mut with_id = form.to_vec();
    with_id.push(("client_id", &nobody));
    let by_body = app.post_token(&with_id).await;
    let by_basic = app.post_token_as(&basic(&nobody, "secret"), &form).await;
    let no_client = app.post_token(&form).await;
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
    let (app, _, username, password) = TestApp::with_client_and_user().await;
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
        async move { app.post_token_as(&auth, &form).await }
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
            app.post_token(&form).await
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
        with_basic(basic_raw("no-colon")).await,
        401,
        "invalid_client",
    )
    .await;

    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
    let both = app
        .post_token_as(
            &basic(&client, &secret),
            &[
                ("grant_type", "password"),
                ("username", username.as_str()),
                ("password", password.as_str()),
                ("client_id", client.as_str()),
                ("client_secret", secret.as_str()),
            ],
        )
        .await;
    expect_error(both, 400, "invalid_request").await;
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded() {
    let (app, _, username, password) = TestApp::with_client_and_user().await;
    // An id and an operator-supplied secret with characters that form-urlencoding changes
    // (`:` splits Basic credentials, `+` decodes to a space, `%` starts an escape); add_client
    // allows any printable ASCII id and any secret of 256 bits.
    let client = format!("a:b+c%d/{}", unique("x"));
    let secret = format!("{}:+% &=/?{}", random_token(), "Zz9!");
    app.register(
        NewClient::confidential(&["password"], &["openid"])
            .id(client.clone())
            .secret(&secret),
    )
    .await;
    let form = [
        ("grant_type", "password"),
        ("username", username.as_str()),
        ("password", password.as_str()),
    ];
    let with_basic = |auth: String| {
        let app = &app;
        async move { app.post_token_as(&auth, &form).await }
    };
    // RFC 6749 §2.3.1: id and secret are encoded with application/x-www-form-urlencoded first.
    let res = with_basic(basic(&client, &secret)).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(claims(&access_token(&body))["client_id"], client.as_str());

    // Not encoded, the id is cut at its first `:`: an unknown client.
    let raw = |id: &str, secret: &str| basic_raw(&format!("{id}:{secret}"));
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
    assert_eq!(app.post_token(&post).await.status(), 200);
}

#[tokio::test]
async fn a_public_client_sending_a_secret_is_invalid_client() {
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    let form = [
        ("grant_type", "password"),
        ("username", username.as_str()),
        ("password", password.as_str()),
    ];
    let mut post = form.to_vec();
    post.push(("client_id", &client));
    post.push(("client_secret", "anything"));
    expect_error(app.post_token(&post).await, 401, "invalid_client").await;
    let res = app.post_token_as(&basic(&client, "anything"), &form).await;
    expect_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn basic_and_a_different_body_client_id_is_invalid_request() {
    let (app, client, username, password) = TestApp::with_client_and_user().await;
    let (confidential, secret) = app.client(false, &["password"], SCOPES).await;
    let res = app
        .post_token_as(
            &basic(&confidential, &secret.unwrap()),
            &[
                ("grant_type", "password"),
                ("client_id", client.as_str()),
                ("username", username.as_str()),
                ("password", password.as_str()),
            ],
        )
        .await;
    expect_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn the_basic_scheme_name_is_case_insensitive() {
    let (app, _, username, password) = TestApp::with_client_and_user().await;
    let (client, secret) = app.client(false, &["password"], SCOPES).await;
    let credentials = basic(&client, &secret.unwrap());
    let encoded = credentials.strip_prefix("Basic ").unwrap();
    // RFC 9110 §11.1: the authentication scheme is a case-insensitive token.
    for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
        let res = app
            .post_token_as(
                &format!("{scheme} {encoded}"),
                &[
                    ("grant_type", "password"),
                    ("username", username.as_str()),
                    ("password", password.as_str()),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "scheme `{scheme}`");
    }
}
