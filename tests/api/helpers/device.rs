//! The device authorization grant (RFC 8628): the device authorization endpoint, the polling
//! token request, and the verification page as a person's browser drives it.

use serde_json::Value;

use super::browser::{Browser, Page};
use super::{NewClient, TestApp};

/// The grant type URI of RFC 8628 §3.4.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

impl TestApp {
    /// `POST /oauth2/device_authorization` with `form`.
    pub async fn post_device_authorization(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/device_authorization"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A public client with the device-code and refresh grants and `openid profile email`.
    pub async fn device_client(&self) -> String {
        let client = NewClient::public(
            &[DEVICE_GRANT, "refresh_token"],
            &["openid", "profile", "email"],
        )
        .id(super::unique("tv"));
        self.register(client).await.0
    }

    /// Starts a device authorization for the public `client` (200 asserted); returns the
    /// response body.
    pub async fn start_device(&self, client: &str) -> Value {
        let res = self
            .post_device_authorization(&[("client_id", client)])
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// One poll of the token endpoint by the public `client` with `device_code`.
    pub async fn poll_device(&self, client: &str, device_code: &str) -> reqwest::Response {
        self.post_token(&[
            ("grant_type", DEVICE_GRANT),
            ("client_id", client),
            ("device_code", device_code),
        ])
        .await
    }
}

impl Browser {
    /// `GET /device`, with `?user_code=` when given.
    pub async fn get_device(&mut self, user_code: Option<&str>) -> Page {
        let mut url = url::Url::parse(&format!("{}/device", self.base)).unwrap();
        if let Some(code) = user_code {
            url.query_pairs_mut().append_pair("user_code", code);
        }
        self.get(url.as_str()).await
    }

    /// Types `user_code` into the code form (`POST /device`).
    pub async fn enter_user_code(&mut self, user_code: &str) -> Page {
        let req = self.http.post(format!("{}/device", self.base));
        self.send(req.form(&[("user_code", user_code)])).await
    }

    /// [`Browser::enter_user_code`] through a trusted proxy that names the client `ip`.
    pub async fn enter_user_code_from(&mut self, ip: &str, user_code: &str) -> Page {
        let req = self.http.post(format!("{}/device", self.base));
        let req = req.header("x-forwarded-for", ip);
        self.send(req.form(&[("user_code", user_code)])).await
    }

    /// `POST /device/approve` with these fields.
    pub async fn post_device_decision(
        &mut self,
        request_id: &str,
        csrf: &str,
        decision: &str,
    ) -> Page {
        let req = self
            .http
            .post(format!("{}/device/approve", self.base))
            .form(&[
                ("request_id", request_id),
                ("csrf", csrf),
                ("decision", decision),
            ]);
        self.send(req).await
    }

    /// Answers the approval page `page` with `decision` (`approve` or `deny`).
    pub async fn submit_device_decision(&mut self, page: &Page, decision: &str) -> Page {
        let (request_id, csrf) = (page.field("request_id"), page.field("csrf"));
        self.post_device_decision(&request_id, &csrf, decision)
            .await
    }

    /// Enters `user_code`, signs in as `username`, and answers the approval page with
    /// `decision`; returns the final page (200 asserted at each step).
    pub async fn answer_device(
        &mut self,
        user_code: &str,
        username: &str,
        password: &str,
        decision: &str,
    ) -> Page {
        let login = self.enter_user_code(user_code).await;
        assert_eq!(login.status, 200, "{}", login.body);
        let approval = self.submit_login(&login, username, password).await;
        assert_eq!(approval.status, 200, "{}", approval.body);
        let done = self.submit_device_decision(&approval, decision).await;
        assert_eq!(done.status, 200, "{}", done.body);
        done
    }
}
