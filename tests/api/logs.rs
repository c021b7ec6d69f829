//! No secret ever reaches the logs, while the audit trail does.

use crate::helpers::{
    access_token, basic, captured_logs, expect_error, refresh_token, NewClient, TestApp,
};

#[tokio::test]
async fn a_full_flow_logs_no_secret_but_logs_the_audit_trail() {
    let app = TestApp::spawn().await;
    let (username, password, sub) = app.user().await;
    let (client, secret) = app
        .register(NewClient::confidential(
            &["password", "refresh_token"],
            &["openid", "profile", "email"],
        ))
        .await;
    let secret = secret.unwrap();
    let basic_auth = basic(&client, &secret);
    let wrong_password = format!("wrong-{}", uuid::Uuid::new_v4());
    let wrong_secret = format!("wrong-secret-{}", uuid::Uuid::new_v4());

    // Password grant with client_secret_basic.
    let res = app
        .post_token_as(
            &basic_auth,
            &[
                ("grant_type", "password"),
                ("username", username.as_str()),
                ("password", password.as_str()),
                ("scope", "openid profile email"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let login: serde_json::Value = res.json().await.unwrap();
    let at = access_token(&login);
    let rt0 = refresh_token(&login);
    let id_token = login["id_token"]
        .as_str()
        .expect("an ID token with the openid scope")
        .to_owned();

    // Refresh with client_secret_post.
    let refresh_post = |client_secret: String| {
        let (app, client, rt0) = (&app, &client, &rt0);
        async move {
            app.post_token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt0),
                ("client_id", client),
                ("client_secret", &client_secret),
            ])
            .await
        }
    };
    let res = refresh_post(secret.clone()).await;
    assert_eq!(res.status(), 200);
    let refreshed: serde_json::Value = res.json().await.unwrap();
    let at1 = access_token(&refreshed);
    let rt1 = refresh_token(&refreshed);

    // Revocation, a wrong password and a wrong client secret.
    let res = app
        .post_revoke_as(&basic_auth, &[("token", rt1.as_str())])
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_token_as(
            &basic_auth,
            &[
                ("grant_type", "password"),
                ("username", username.as_str()),
                ("password", wrong_password.as_str()),
            ],
        )
        .await;
    expect_error(res, 400, "invalid_grant").await;
    let res = refresh_post(wrong_secret.clone()).await;
    expect_error(res, 401, "invalid_client").await;

    let stored_hash = app.password_hash(&username).await;
    let logs = captured_logs();
    let secrets = [
        ("password", password.as_str()),
        ("wrong password", wrong_password.as_str()),
        ("access token", at.as_str()),
        ("access token signature", at.rsplit('.').next().unwrap()),
        ("refreshed access token", at1.as_str()),
        ("ID token", id_token.as_str()),
        ("ID token signature", id_token.rsplit('.').next().unwrap()),
        ("refresh token", rt0.as_str()),
        ("refresh token secret", rt0.split('.').nth(1).unwrap()),
        ("second refresh token", rt1.as_str()),
        (
            "second refresh token secret",
            rt1.split('.').nth(1).unwrap(),
        ),
        ("client secret", secret.as_str()),
        ("wrong client secret", wrong_secret.as_str()),
        ("password hash", stored_hash.as_str()),
        ("client secret hash", &app.hash_secret(&secret)),
    ];
    for (what, value) in secrets {
        assert!(value.len() >= 20, "{what} is long enough to be unique");
        assert!(!logs.contains(value), "the {what} was logged");
    }

    // The capture works: this flow's login is in the audit trail.
    assert!(
        logs.lines()
            .any(|line| line.contains(r#""event":"login_success""#)
                && line.contains(&sub)
                && line.contains(&client)),
        "no login_success audit record for {sub}"
    );
}
