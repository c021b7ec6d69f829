//! Session lists: `GET/DELETE /account/sessions[/{sid}]` for the bearer's own sessions and
//! `GET/DELETE /admin/users/{sub}/sessions[/{sid}]` for admins.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{access_token, claims, refresh_token, TestApp};

fn sid_of(tokens: &Value) -> String {
    claims(&access_token(tokens))["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_user_lists_and_ends_their_own_sessions() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, _) = app.user().await;
    let mine = app.login(&client, &username, &password).await;
    let other = app.login(&client, &username, &password).await;
    app.refresh_ok(&client, &refresh_token(&other)).await;
    let token = access_token(&mine);

    let res = app.get_account_sessions(&token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{body}");
    let find = |sid: &str| sessions.iter().find(|s| s["sid"] == sid).unwrap().clone();
    let current = find(&sid_of(&mine));
    assert_eq!(current["current"], true);
    assert_eq!(current["client_id"], client.as_str());
    assert_eq!(current["amr"], serde_json::json!(["pwd"]));
    assert!(current["created_at"].as_u64().unwrap() > 1_700_000_000);
    assert!(current["last_refreshed_at"].is_null());
    let refreshed = find(&sid_of(&other));
    assert_eq!(refreshed["current"], false);
    assert!(
        refreshed["last_refreshed_at"].as_u64().unwrap()
            >= refreshed["created_at"].as_u64().unwrap()
    );

    // Ending the other one: it is gone, its refresh token dead, mine alive.
    let res = app.delete_account_session(&token, &sid_of(&other)).await;
    assert_eq!(res.status(), 204);
    assert!(!app.family_alive(&sid_of(&other)).await);
    assert!(app.family_alive(&sid_of(&mine)).await);
    let body: Value = app.get_account_sessions(&token).await.json().await.unwrap();
    assert_eq!(body["sessions"].as_array().unwrap().len(), 1);
    // Gone now, or never mine: 404, and nothing else changes.
    let res = app.delete_account_session(&token, &sid_of(&other)).await;
    assert_eq!(res.status(), 404);
    let (name2, pw2, _) = app.user().await;
    let stranger = app.login(&client, &name2, &pw2).await;
    let res = app.delete_account_session(&token, &sid_of(&stranger)).await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "not_found");
    assert!(app.family_alive(&sid_of(&stranger)).await);

    // Ending its own session ends the token's use for the account endpoints too.
    let res = app.delete_account_session(&token, &sid_of(&mine)).await;
    assert_eq!(res.status(), 204);
    let res = app.get_account_sessions(&token).await;
    assert_eq!(res.status(), 401);
    // Without a token: 401.
    let res = app
        .http
        .get(app.url("/account/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn admins_list_and_end_a_users_sessions() {
    let app = TestApp::spawn().await;
    let client = app.public_client().await;
    let (username, password, sub) = app.user().await;
    let login = app.login(&client, &username, &password).await;
    let (_, admin) = app.admin_token().await;

    let path = format!("/users/{sub}/sessions");
    let res = app.admin(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["sessions"][0]["sid"], sid_of(&login).as_str());
    assert_eq!(body["sessions"][0]["current"], false);

    let one = format!("/users/{sub}/sessions/{}", sid_of(&login));
    let res = app.admin(Method::DELETE, &one, Some(&admin), None).await;
    assert_eq!(res.status(), 204);
    app.assert_refresh_dead(&client, &refresh_token(&login))
        .await;
    let res = app.admin(Method::DELETE, &one, Some(&admin), None).await;
    assert_eq!(res.status(), 404);
    let res = app.admin(Method::GET, &path, Some(&admin), None).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["sessions"], serde_json::json!([]));

    let res = app
        .admin(Method::GET, "/users/nobody/sessions", Some(&admin), None)
        .await;
    assert_eq!(res.status(), 404);
    // A user's own token is not an admin token.
    let user_token = access_token(&app.login(&client, &username, &password).await);
    let res = app.admin(Method::GET, &path, Some(&user_token), None).await;
    assert!(matches!(res.status().as_u16(), 401 | 403));
}
