//! The user administration API (`/admin/users`): an admin token, one method per endpoint, and
//! fast user creation through the store (no Argon2) for the listing tests.

use reqwest::Method;
use serde_json::Value;
use tessera::secret::SecretHash;
use tessera::store::{Backend, User};

use super::{random_token, unique, TestApp};

impl TestApp {
    /// An admin client (`tessera:admin`) and its access token: (client_id, token).
    pub async fn admin_token(&self) -> (String, String) {
        let secret = random_token();
        let admin = self.service_client_with(&secret, &["tessera:admin"]).await;
        let token: Value = self
            .client_credentials(&admin, &secret, &[("scope", "tessera:admin")])
            .await
            .json()
            .await
            .unwrap();
        (admin, token["access_token"].as_str().unwrap().to_owned())
    }

    /// `POST /admin/users` with `body`.
    pub async fn admin_users_create(&self, token: &str, body: &Value) -> reqwest::Response {
        self.admin(Method::POST, "/users", Some(token), Some(body))
            .await
    }

    /// `GET /admin/users?<query>` (query already encoded).
    pub async fn admin_users_list(&self, token: &str, query: &str) -> reqwest::Response {
        self.admin(Method::GET, &format!("/users?{query}"), Some(token), None)
            .await
    }

    /// `GET /admin/users/{sub}`.
    pub async fn admin_users_get(&self, token: &str, sub: &str) -> reqwest::Response {
        self.admin(Method::GET, &format!("/users/{sub}"), Some(token), None)
            .await
    }

    /// `GET /admin/users/{sub}`, asserting 200: the user's view.
    pub async fn admin_user_view(&self, token: &str, sub: &str) -> Value {
        let res = self.admin_users_get(token, sub).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// `GET /admin/clients/{client_id}`, asserting 200: the client's view.
    pub async fn admin_client_view(&self, token: &str, client_id: &str) -> Value {
        let path = format!("/clients/{client_id}");
        let res = self.admin(Method::GET, &path, Some(token), None).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// `PATCH /admin/users/{sub}` with `body`.
    pub async fn admin_users_patch(
        &self,
        token: &str,
        sub: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.admin(
            Method::PATCH,
            &format!("/users/{sub}"),
            Some(token),
            Some(body),
        )
        .await
    }

    /// `PUT /admin/users/{sub}/password` with `body`.
    pub async fn admin_users_put_password(
        &self,
        token: &str,
        sub: &str,
        body: &Value,
    ) -> reqwest::Response {
        let path = format!("/users/{sub}/password");
        self.admin(Method::PUT, &path, Some(token), Some(body))
            .await
    }

    /// `DELETE /admin/users/{sub}/second-factors`.
    pub async fn admin_users_delete_factors(&self, token: &str, sub: &str) -> reqwest::Response {
        let path = format!("/users/{sub}/second-factors");
        self.admin(Method::DELETE, &path, Some(token), None).await
    }

    /// `DELETE /admin/users/{sub}`.
    pub async fn admin_users_delete(&self, token: &str, sub: &str) -> reqwest::Response {
        self.admin(Method::DELETE, &format!("/users/{sub}"), Some(token), None)
            .await
    }

    /// Marks `username` as having TOTP (a placeholder sealed secret) and `codes` recovery codes.
    pub async fn give_second_factors(&self, username: &str, codes: usize) {
        let store = &self.state.store;
        let mut user = store.user(username).await.unwrap().unwrap();
        user.totp = Some("sealed-placeholder".into());
        store.put_user(&user, false).await.unwrap();
        let hashes: Vec<SecretHash> = (0..codes)
            .map(|_| SecretHash::of(&random_token()))
            .collect();
        store.set_recovery_codes(&user.sub, &hashes).await.unwrap();
    }

    /// Stores [`bulk_user`] directly (no Argon2), created at `created_at`.
    pub async fn stored_user(&self, created_at: u64) -> User {
        let user = bulk_user(created_at);
        assert!(self.state.store.put_user(&user, true).await.unwrap());
        user
    }
}

/// A user with a unique name, no password and no email, created at `created_at` (unix s).
pub fn bulk_user(created_at: u64) -> User {
    User {
        sub: uuid::Uuid::new_v4().to_string(),
        username: unique("bulk"),
        email: None,
        password_hash: String::new(),
        disabled: false,
        totp: None,
        totp_pending: None,
        created_at,
    }
}
