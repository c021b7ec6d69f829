//! Passkeys in tests: a software authenticator (`webauthn-authenticator-rs`'s soft passkey)
//! driven through the JSON registration API and the hosted sign-in's passkey step, like a
//! browser would. The soft passkey keeps no resident keys and returns no user handle, so the
//! "browser" here names the credential in `allowCredentials` and fills in the user handle a
//! discoverable authenticator returns (neither is covered by the signature).

use serde_json::{json, Value};
use tessera::store::Backend as _;
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs_proto::{
    AllowCredentials, CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse,
};

use super::browser::{Browser, Page};
use super::{Backend, TestApp};

/// A user's authenticator: a soft passkey (user verification reported) and the credential
/// ids it registered.
pub struct Authenticator {
    soft: SoftPasskey,
    pub credentials: Vec<Vec<u8>>,
}

impl Default for Authenticator {
    fn default() -> Self {
        Self {
            soft: SoftPasskey::new(true),
            credentials: Vec::new(),
        }
    }
}

impl Authenticator {
    /// Answers the server's creation options as seen from `origin`.
    pub fn create(&mut self, origin: &str, options: Value) -> Value {
        let mut options: CreationChallengeResponse = serde_json::from_value(options).unwrap();
        let selection = options.public_key.authenticator_selection.as_mut().unwrap();
        assert!(selection.require_resident_key, "a passkey is discoverable");
        // The soft passkey stores no resident keys; the server cannot tell (WebAuthn L3 §5.4.6).
        selection.require_resident_key = false;
        let credential = self
            .soft
            .do_registration(Url::parse(origin).unwrap(), options)
            .unwrap();
        self.credentials.push(credential.raw_id.to_vec());
        serde_json::to_value(credential).unwrap()
    }

    /// Answers the server's request options with credential `index`, as seen from `origin`,
    /// with the user handle `user_handle` (a discoverable authenticator's `sub`).
    pub fn get(&mut self, origin: &str, options: Value, index: usize, user_handle: &str) -> Value {
        let mut options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
        if options.public_key.allow_credentials.is_empty() {
            options.public_key.allow_credentials = vec![AllowCredentials {
                type_: "public-key".into(),
                id: self.credentials[index].clone(),
                transports: None,
            }];
        }
        let mut credential: PublicKeyCredential = self
            .soft
            .do_authentication(Url::parse(origin).unwrap(), options)
            .unwrap();
        let handle = uuid::Uuid::parse_str(user_handle).unwrap();
        credential.response.user_handle = Some(handle.as_bytes().to_vec());
        serde_json::to_value(credential).unwrap()
    }
}

impl TestApp {
    /// A server whose issuer is `http://localhost:<port>` (an RP ID must be a domain), so its
    /// relying party is `localhost` with that origin.
    pub async fn spawn_passkeys() -> Self {
        Self::spawn_passkeys_with(|_| {}).await
    }

    /// [`TestApp::spawn_passkeys`], letting `tweak` adjust the raw settings too.
    pub async fn spawn_passkeys_with(tweak: impl FnOnce(&mut super::RawSettings)) -> Self {
        Self::spawn_with(Backend::Redis, |raw| {
            raw.issuer = raw.issuer.replace("127.0.0.1", "localhost");
            tweak(raw);
        })
        .await
    }

    /// `POST /account/passkeys/register/start`.
    pub async fn passkey_start(&self, bearer: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/account/passkeys/register/start", self.base))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
    }

    /// `POST /account/passkeys/register/finish`.
    pub async fn passkey_finish(
        &self,
        bearer: &str,
        credential: &Value,
        name: &str,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/account/passkeys/register/finish", self.base))
            .bearer_auth(bearer)
            .json(&json!({"credential": credential, "name": name}))
            .send()
            .await
            .unwrap()
    }

    /// Registers a passkey of `authenticator` for the bearer's user; returns the new item.
    pub async fn register_passkey(
        &self,
        bearer: &str,
        authenticator: &mut Authenticator,
        name: &str,
    ) -> Value {
        let res = self.passkey_start(bearer).await;
        assert_eq!(res.status(), 200);
        let options: Value = res.json().await.unwrap();
        let credential = authenticator.create(self.issuer(), options);
        let res = self.passkey_finish(bearer, &credential, name).await;
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    }

    /// `GET /account/passkeys`: the `passkeys` array.
    pub async fn passkey_list(&self, bearer: &str) -> Vec<Value> {
        let res = self
            .http
            .get(format!("{}/account/passkeys", self.base))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["passkeys"].as_array().unwrap().clone()
    }

    /// `PATCH` (with `name`) or `DELETE` (without) `/account/passkeys/{id}`.
    pub async fn passkey_item(
        &self,
        bearer: &str,
        id: &str,
        name: Option<&str>,
    ) -> reqwest::Response {
        let url = format!("{}/account/passkeys/{id}", self.base);
        let req = match name {
            Some(name) => self.http.patch(url).json(&json!({"name": name})),
            None => self.http.delete(url),
        };
        req.bearer_auth(bearer).send().await.unwrap()
    }

    /// An access token like `bearer` whose `auth_time` is `age` seconds earlier: a sign-in that
    /// is no longer recent.
    pub fn aged_token(&self, bearer: &str, age: u64) -> String {
        let mut claims = self.state.tokens.verify_access_token(bearer).unwrap();
        claims.auth_time = claims.auth_time.map(|t| t - age);
        self.state.tokens.sign_access_token(&claims, None).unwrap()
    }

    /// Makes the login session `cookie` `age` seconds older: a sign-in that is no longer
    /// recent.
    pub async fn age_login_session(&self, cookie: &str, age: u64) {
        let store = &self.state.store;
        let mut session = tessera::sessions::login_session(store, cookie)
            .await
            .unwrap()
            .unwrap();
        session.auth_time -= age;
        let ttl = self.settings.login_session_ttl;
        tessera::sessions::save_login_session(store, cookie, &session, ttl)
            .await
            .unwrap();
    }

    /// The `sub` of `username`.
    pub async fn sub_of(&self, username: &str) -> String {
        self.state.store.user(username).await.unwrap().unwrap().sub
    }
}

impl Browser {
    /// `POST /oauth2/authorize/passkey/options` for the form on `page`: the JSON options.
    pub async fn passkey_options(&mut self, page: &Page) -> Value {
        let form = [
            ("request_id", page.field("request_id")),
            ("csrf", page.field("csrf")),
        ];
        let req = self
            .http
            .post(format!("{}/oauth2/authorize/passkey/options", self.base))
            .form(&form);
        let answer = self.send(req).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        serde_json::from_str(&answer.body).unwrap()
    }

    /// `POST /oauth2/authorize/passkey` with `credential` for the form on `page`.
    pub async fn passkey_answer(&mut self, page: &Page, credential: &Value) -> Page {
        let form = [
            ("request_id", page.field("request_id")),
            ("csrf", page.field("csrf")),
            ("credential", credential.to_string()),
        ];
        let req = self
            .http
            .post(format!("{}/oauth2/authorize/passkey", self.base))
            .form(&form);
        self.send(req).await
    }
}
