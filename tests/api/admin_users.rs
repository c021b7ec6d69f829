//! User administration over HTTP (`/admin/users`): create (409 on a taken name), find, list
//! with cursors stable under inserts, change (signing out), reset factors, delete.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{assert_bearer_challenge, captured_logs, now, Backend, TestApp};

/// Asserts the admin API's JSON error shape with `status` and `code`.
async fn assert_error(res: reqwest::Response, status: u16, code: &str) {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}

/// Asserts the password grant refuses `username` with `password`.
async fn assert_refused(app: &TestApp, client: &str, username: &str, password: &str) {
    let res = app.password_grant(client, username, password, None).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn admin_creates_finds_and_refuses_taken_usernames() {
    let app = TestApp::spawn().await;
    let (admin, token) = app.admin_token().await;
    let name = crate::helpers::unique("Ann");
    let res = app
        .admin_users_create(&token, &json!({"username": format!(" {name} "), "password": "pw-1234", "email": "ann@example.test"}))
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let sub = created["sub"].as_str().unwrap().to_owned();
    assert_eq!(created["username"], name.to_lowercase());
    assert_eq!(created["disabled"], false);
    assert!(created["created_at"].as_u64().unwrap() >= now() - 5);
    assert_eq!(
        created["second_factors"],
        json!({"totp": false, "recovery_codes_left": 0, "passkeys": 0})
    );
    assert!(!created.to_string().contains("argon2"), "never a hash");
    assert!(
        captured_logs().contains(&admin),
        "the audit event names the admin client"
    );

    // The same name, normalised: 409, and nothing changed.
    let res = app
        .admin_users_create(
            &token,
            &json!({"username": name.to_uppercase(), "password": "other"}),
        )
        .await;
    assert_error(res, 409, "conflict").await;
    let client = app.public_client().await;
    assert!(app.login(&client, &name, "pw-1234").await["access_token"].is_string());

    let res = app.admin_users_get(&token, &sub).await;
    assert_eq!(res.json::<Value>().await.unwrap(), created);
    let res = app
        .admin_users_list(&token, &format!("username={}", name.to_uppercase()))
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["users"],
        json!([created])
    );
    let res = app.admin_users_list(&token, "username=nobody-at-all").await;
    assert_eq!(res.json::<Value>().await.unwrap()["users"], json!([]));
    assert_error(
        app.admin_users_get(&token, "no-such-sub").await,
        404,
        "not_found",
    )
    .await;

    // Without a password the account exists but cannot sign in.
    let res = app
        .admin_users_create(&token, &json!({"username": crate::helpers::unique("nopw")}))
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn admin_users_refuses_bad_input_and_non_admins() {
    let app = TestApp::spawn().await;
    let (_, token) = app.admin_token().await;
    for body in [
        json!({"username": "", "password": "x"}),
        json!({"username": "a\u{0}b"}),
        json!({"username": "ok-name", "password": ""}),
        json!({"username": "ok-name", "password": "x".repeat(1025)}),
        json!({"username": "ok-name", "email": "not-an-email"}),
        json!({"username": "ok-name", "admin": true}),
        json!({"username": 5}),
        json!([]),
    ] {
        assert_error(
            app.admin_users_create(&token, &body).await,
            400,
            "invalid_request",
        )
        .await;
    }
    let listed: Value = app
        .admin_users_list(&token, "username=ok-name")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["users"],
        json!([]),
        "a refused create stored nothing"
    );
    for query in [
        "limit=0",
        "limit=101",
        "limit=x",
        "cursor=bogus",
        "limit=5&limit=6",
    ] {
        assert_error(
            app.admin_users_list(&token, query).await,
            400,
            "invalid_request",
        )
        .await;
    }
    let res = app.admin(reqwest::Method::GET, "/users", None, None).await;
    assert_bearer_challenge(&res, 401, None);
    let (svc, secret) = app.service_client().await;
    let svc_token: Value = app
        .client_credentials(&svc, &secret, &[])
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .admin_users_list(svc_token["access_token"].as_str().unwrap(), "")
        .await;
    assert_bearer_challenge(&res, 403, Some("insufficient_scope"));
}

#[tokio::test]
async fn admin_lists_a_thousand_users_across_pages_with_inserts_between() {
    // An own (memory) store, so the listing holds exactly this test's users; the store
    // contract runs the same listing on Redis and Redis Cluster.
    let app = TestApp::spawn_with(Backend::Memory, |_| {}).await;
    let (_, token) = app.admin_token().await;
    let t = now() - 10_000;
    let mut existing = HashSet::new();
    for i in 0..1000 {
        existing.insert(app.stored_user(t + i / 7).await.sub);
    }
    let mut seen = Vec::new();
    let mut inserted = Vec::new();
    let mut query = "limit=100".to_owned();
    loop {
        let res = app.admin_users_list(&token, &query).await;
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        let users = page["users"].as_array().unwrap();
        assert!(users.len() <= 100);
        for user in users {
            assert!(user.get("password_hash").is_none());
            seen.push(user["sub"].as_str().unwrap().to_owned());
        }
        // Inserts between pages: one new user each time, created after every listed one.
        // (Time moves on between pages; see `store::names::USER_INDEX` for same-second inserts.)
        let created_at = now() + inserted.len() as u64;
        inserted.push(app.stored_user(created_at).await.sub);
        match page["next_cursor"].as_str() {
            Some(next) => query = format!("limit=100&cursor={}", urlencoding(next)),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user listed twice");
    assert!(
        existing.iter().all(|s| unique.contains(s)),
        "every user listed"
    );
    assert!(
        inserted[..inserted.len() - 1]
            .iter()
            .all(|s| unique.contains(s)),
        "inserts are listed"
    );
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn admin_changes_sign_the_user_out() {
    let app = TestApp::spawn().await;
    let (_, token) = app.admin_token().await;
    let client = app.public_client().await;
    let (username, password, sub) = app.user().await;

    // A password change signs out every session; the new password works, the old does not.
    let before = app.login(&client, &username, &password).await;
    let res = app
        .admin_users_put_password(&token, &sub, &json!({"password": "pw-new-1"}))
        .await;
    assert_eq!(res.status(), 204);
    app.assert_refresh_dead(&client, before["refresh_token"].as_str().unwrap())
        .await;
    assert_refused(&app, &client, &username, &password).await;
    let after = app.login(&client, &username, "pw-new-1").await;
    assert_error(
        app.admin_users_put_password(&token, &sub, &json!({"password": ""}))
            .await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        app.admin_users_put_password(&token, "nobody", &json!({"password": "x"}))
            .await,
        404,
        "not_found",
    )
    .await;

    // A bad patch changes nothing; an email change signs out.
    let res = app
        .admin_users_patch(&token, &sub, &json!({"email": "bad", "disabled": true}))
        .await;
    assert_error(res, 400, "invalid_request").await;
    let view = app.admin_user_view(&token, &sub).await;
    assert_eq!(view["disabled"], false);
    let refresh = after["refresh_token"].as_str().unwrap();
    app.refresh_ok(&client, refresh).await;
    let res = app
        .admin_users_patch(&token, &sub, &json!({"email": "new@example.test"}))
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["email"],
        "new@example.test"
    );
    app.assert_refresh_dead(&client, refresh).await;

    // Disabling signs out and refuses logins; `null` removes the email; re-enabling works.
    let live = app.login(&client, &username, "pw-new-1").await;
    let res = app
        .admin_users_patch(&token, &sub, &json!({"disabled": true, "email": null}))
        .await;
    let view: Value = res.json().await.unwrap();
    assert_eq!(
        (view["disabled"].clone(), view["email"].clone()),
        (json!(true), Value::Null)
    );
    app.assert_refresh_dead(&client, live["refresh_token"].as_str().unwrap())
        .await;
    assert_refused(&app, &client, &username, "pw-new-1").await;
    app.admin_users_patch(&token, &sub, &json!({"disabled": false}))
        .await;
    assert!(app.login(&client, &username, "pw-new-1").await["access_token"].is_string());
}

#[tokio::test]
async fn admin_resets_second_factors_and_deletes_users() {
    let app = TestApp::spawn().await;
    let (_, token) = app.admin_token().await;
    let client = app.public_client().await;
    let (username, password, sub) = app.user().await;
    app.give_second_factors(&username, 3).await;
    let view = app.admin_user_view(&token, &sub).await;
    assert_eq!(
        view["second_factors"],
        json!({"totp": true, "recovery_codes_left": 3, "passkeys": 0})
    );
    assert!(
        !view.to_string().contains("sealed-placeholder"),
        "never a secret"
    );

    assert_eq!(
        app.admin_users_delete_factors(&token, &sub).await.status(),
        204
    );
    let view = app.admin_user_view(&token, &sub).await;
    assert_eq!(
        view["second_factors"],
        json!({"totp": false, "recovery_codes_left": 0, "passkeys": 0})
    );

    // Deleting removes the user and every session, and frees the username.
    let tokens = app.login(&client, &username, &password).await;
    assert_eq!(app.admin_users_delete(&token, &sub).await.status(), 204);
    assert_error(app.admin_users_get(&token, &sub).await, 404, "not_found").await;
    app.assert_refresh_dead(&client, tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_refused(&app, &client, &username, &password).await;
    assert_error(app.admin_users_delete(&token, &sub).await, 404, "not_found").await;
    assert_error(
        app.admin_users_delete_factors(&token, &sub).await,
        404,
        "not_found",
    )
    .await;
    let res = app
        .admin_users_create(
            &token,
            &json!({"username": username, "password": "again-1"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_ne!(res.json::<Value>().await.unwrap()["sub"], sub.as_str());
}
