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

/// A 6-digit code that is none of the codes of `secret` accepted at unix time `at` (±1 step).
pub fn wrong_code(secret: &str, at: u64) -> String {
    let window = [
        pyotp(secret, at - 30),
        pyotp(secret, at),
        pyotp(secret, at + 30),
    ];
    (0..)
        .map(|n: u32| format!("{:06}", n * 111_111 % 1_000_000))
        .find(|code| !window.contains(code))
        .unwrap()
}

/// A confirmed TOTP enrollment: the secret (base32), the recovery codes, and the time whose
/// step confirmed it (consumed: the next step's code is the one to sign in with).
pub struct Totp {
    pub secret: String,
    pub recovery: Vec<String>,
    pub t0: u64,
}

impl TestApp {
    /// `POST /account/mfa/totp` (start an enrollment), with a bearer token when given.
    pub async fn post_totp(&self, bearer: Option<&str>) -> reqwest::Response {
        let req = self.with_bearer(reqwest::Method::POST, "/account/mfa/totp", bearer);
        req.send().await.unwrap()
    }

    /// `POST /account/mfa/totp` with `bearer` and the JSON `proof` (password, code).
    pub async fn post_totp_with(&self, bearer: &str, proof: &Value) -> reqwest::Response {
        let req = self.with_bearer(reqwest::Method::POST, "/account/mfa/totp", Some(bearer));
        req.json(proof).send().await.unwrap()
    }

    /// Enrolls TOTP with `bearer` (a recent sign-in) and confirms it with the current code.
    pub async fn enroll_totp(&self, bearer: &str) -> Totp {
        self.enroll_totp_at(bearer, now()).await
    }

    /// [`TestApp::enroll_totp`], confirmed with the code of unix time `t0` (within a step of
    /// now: the step after an earlier enrollment's, whose step is used up).
    pub async fn enroll_totp_at(&self, bearer: &str, t0: u64) -> Totp {
        let res = self.post_totp(Some(bearer)).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        let uri = url::Url::parse(body["otpauth_uri"].as_str().unwrap()).unwrap();
        let (_, secret) = uri.query_pairs().find(|(k, _)| k == "secret").unwrap();
        let secret = secret.into_owned();
        let res = self.post_totp_confirm(bearer, &pyotp(&secret, t0)).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        let recovery = serde_json::from_value(body["recovery_codes"].clone()).unwrap();
        Totp {
            secret,
            recovery,
            t0,
        }
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
        self.post_mfa_step_from(None, client, mfa_token, field, code)
            .await
    }

    /// [`TestApp::post_mfa_step`] through a proxy sending `X-Forwarded-For: <xff>` (if given).
    pub async fn post_mfa_step_from(
        &self,
        xff: Option<&str>,
        client: &str,
        mfa_token: &str,
        field: &str,
        code: &str,
    ) -> reqwest::Response {
        let form = [
            ("grant_type", "urn:tessera:params:oauth:grant-type:mfa-otp"),
            ("client_id", client),
            ("mfa_token", mfa_token),
            (field, code),
        ];
        self.post_token_from(xff, &form).await
    }
}
