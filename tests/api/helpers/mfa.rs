//! TOTP (RFC 6238) codes from Python's pyotp (`TESSERA_TEST_PYTHON`, set up by .ci/run), an
//! implementation independent of ours, so a shared bug cannot hide; and the MFA endpoints.

use serde_json::{json, Value};

use super::TestApp;

/// The 6-digit code pyotp computes for `secret` (base32) at unix time `at`.
pub fn pyotp(secret: &str, at: u64) -> String {
    let python = std::env::var("TESSERA_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("TESSERA_TEST_PYTHON is not set: run the tests with .ci/run (a venv with pyotp)")
    });
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))",
            secret,
            &at.to_string(),
        ])
        .output()
        .expect("run pyotp");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The server's clock (unix seconds).
pub fn now() -> u64 {
    tessera::clock::now()
}

impl TestApp {
    /// `POST /account/mfa/totp` (start an enrollment), with a bearer token when given.
    pub async fn post_totp(&self, bearer: Option<&str>) -> reqwest::Response {
        let req = self.with_bearer(reqwest::Method::POST, "/account/mfa/totp", bearer);
        req.send().await.unwrap()
    }

    /// `POST /account/mfa/totp/confirm` with `{"code": code}`.
    pub async fn post_totp_confirm(&self, bearer: &str, code: &str) -> reqwest::Response {
        self.http
            .post(self.url("/account/mfa/totp/confirm"))
            .bearer_auth(bearer)
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap()
    }

    /// `DELETE /account/mfa/totp` with a JSON body (password and second factor).
    pub async fn delete_totp(&self, bearer: &str, body: &Value) -> reqwest::Response {
        self.http
            .delete(self.url("/account/mfa/totp"))
            .bearer_auth(bearer)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// The second login step: the mfa-otp grant with `field` (`otp` or `recovery_code`).
    pub async fn post_mfa_step(
        &self,
        client: &str,
        mfa_token: &str,
        field: &str,
        code: &str,
    ) -> reqwest::Response {
        self.post_token(&[
            ("grant_type", "urn:tessera:params:oauth:grant-type:mfa-otp"),
            ("client_id", client),
            ("mfa_token", mfa_token),
            (field, code),
        ])
        .await
    }
}
