//! Test data and server state through the library: users, clients, sessions, signing keys.

use std::path::Path;

use serde_json::Value;
use tessera::clients::Registration;
use tessera::store::{Backend as _, ClientPolicy, SigningAlg};

use super::{unique, TestApp, TokenType};

/// The scopes of [`TestApp::public_client`].
pub const SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// A client to register. Built with [`NewClient::public`] or [`NewClient::confidential`] and
/// the setters below; unset fields take the library's defaults.
#[derive(Default)]
pub struct NewClient {
    registration: Registration,
}

impl NewClient {
    fn new(public: bool, grants: &[&str], scopes: &[&str]) -> Self {
        Self {
            registration: Registration {
                client_id: unique("client"),
                public,
                policy: ClientPolicy {
                    grant_types: grants.iter().map(|s| s.to_string()).collect(),
                    scopes: scopes.iter().map(|s| s.to_string()).collect(),
                    ..Default::default()
                },
                ..Default::default()
            },
        }
    }

    /// A public client with a unique id.
    pub fn public(grants: &[&str], scopes: &[&str]) -> Self {
        Self::new(true, grants, scopes)
    }

    /// A confidential client with a unique id (the server generates its secret unless
    /// [`NewClient::secret`] supplies one).
    pub fn confidential(grants: &[&str], scopes: &[&str]) -> Self {
        Self::new(false, grants, scopes)
    }

    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.registration.client_id = id.into();
        self
    }

    /// An operator-supplied secret.
    pub fn secret(mut self, secret: &str) -> Self {
        self.registration.client_secret = Some(secret.into());
        self
    }

    /// The default audience and the other allowed ones (RFC 8707 resources).
    pub fn audiences(mut self, default: &str, others: &[&str]) -> Self {
        self.registration.policy.audience = Some(default.into());
        self.registration.policy.audiences = others.iter().map(|s| s.to_string()).collect();
        self
    }

    /// The browser flow's registration: redirect URI, CORS origin, post-logout URI.
    pub fn browser(mut self, redirect: &str, origin: &str, after_logout: &str) -> Self {
        self.registration.policy.redirect_uris = vec![redirect.into()];
        self.registration.policy.allowed_origins = vec![origin.into()];
        self.registration.policy.post_logout_redirect_uris = vec![after_logout.into()];
        self
    }

    /// The client's access-token and ID-token signing algorithms (`None`: server default).
    pub fn algs(mut self, access: Option<SigningAlg>, id: Option<SigningAlg>) -> Self {
        self.registration.policy.access_token_signed_response_alg = access;
        self.registration.policy.id_token_signed_response_alg = id;
        self
    }

    /// A third-party client (asks for consent).
    pub fn third_party(mut self, third_party: bool) -> Self {
        self.registration.policy.third_party = third_party;
        self
    }

    /// OIDC Dynamic Client Registration 1.0 §2 display metadata: `client_name`, `logo_uri`
    /// and the `policy_uri` / `tos_uri` links.
    pub fn display(mut self, name: &str, logo: &str, policy: &str, tos: &str) -> Self {
        let p = &mut self.registration.policy;
        p.client_name = Some(name.into());
        p.logo_uri = Some(logo.into());
        p.policy_uri = Some(policy.into());
        p.tos_uri = Some(tos.into());
        self
    }

    /// OIDC Back-Channel Logout 1.0 `backchannel_logout_uri` (session required).
    pub fn backchannel(mut self, uri: &str) -> Self {
        self.registration.policy.backchannel_logout_uri = Some(uri.into());
        self.registration.policy.backchannel_logout_session_required = true;
        self
    }

    /// RFC 9449 `dpop_bound_access_tokens` and RFC 9126 `require_pushed_authorization_requests`.
    pub fn require(mut self, dpop: bool, par: bool) -> Self {
        self.registration.policy.dpop_bound_access_tokens = dpop;
        self.registration
            .policy
            .require_pushed_authorization_requests = par;
        self
    }
}

/// A random 256-bit token as the library makes client secrets.
pub fn random_token() -> String {
    tessera::secret::random_token()
}

/// Generates an RSA-2048 signing key in `dir`; returns its kid.
pub fn generate_key(dir: &Path) -> String {
    generate_key_for(dir, SigningAlg::Rs256)
}

/// Generates a signing key for `alg` in `dir` (RSA: 2048 bits); returns its kid.
pub fn generate_key_for(dir: &Path, alg: SigningAlg) -> String {
    tessera::keys::generate_key(dir, alg, 2048).unwrap()
}

/// The served routes as (name, method, path).
pub fn served_routes() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    tessera::http::paths::all()
}

impl TestApp {
    /// A server on Redis with a [`TestApp::public_client`] and a user; returns (server,
    /// client_id, username, password).
    pub async fn with_client_and_user() -> (Self, String, String, String) {
        let app = Self::spawn().await;
        let client = app.public_client().await;
        let (username, password, _) = app.user().await;
        (app, client, username, password)
    }

    /// Creates a user with a unique name; returns (username, password, sub).
    pub async fn user(&self) -> (String, String, String) {
        let username = unique("user");
        let password = format!("pw-{}", uuid::Uuid::new_v4());
        let user = tessera::users::add_user(
            &self.state.store,
            &self.state.hasher,
            &username,
            Some(format!("{username}@example.test")),
            Some(&password),
        )
        .await
        .unwrap();
        (username, password, user.sub)
    }

    /// Changes a user's password; returns the user's `sub`.
    pub async fn change_password(&self, username: &str, new_password: &str) -> String {
        tessera::users::change_password(
            &self.state.store,
            &self.state.hasher,
            username,
            new_password,
        )
        .await
        .unwrap()
        .sub
    }

    /// Disables a user.
    pub async fn disable_user(&self, username: &str) {
        tessera::users::disable(&self.state.store, username)
            .await
            .unwrap();
    }

    /// The stored password hash of a user.
    pub async fn password_hash(&self, username: &str) -> String {
        self.state
            .store
            .user(username)
            .await
            .unwrap()
            .unwrap()
            .password_hash
    }

    /// Registers `client` (panics if its id exists); returns (client_id, generated secret).
    pub async fn register(&self, client: NewClient) -> (String, Option<String>) {
        let id = client.registration.client_id.clone();
        let secret = tessera::clients::add_client(&self.state.store, client.registration)
            .await
            .unwrap();
        (id, secret)
    }

    /// Registers a client with a unique id; returns (client_id, secret for confidential).
    pub async fn client(
        &self,
        public: bool,
        grants: &[&str],
        scopes: &[&str],
    ) -> (String, Option<String>) {
        self.register(NewClient::new(public, grants, scopes)).await
    }

    /// A public client allowed the password and refresh grants with `openid profile email`.
    pub async fn public_client(&self) -> String {
        self.client(true, &["password", "refresh_token"], SCOPES)
            .await
            .0
    }

    /// A confidential `client_credentials` client (id prefixed `svc`) with the operator-supplied
    /// `secret`, `scopes`, the default audience `urn:test:default` and `urn:test:other` allowed.
    pub async fn service_client_with(&self, secret: &str, scopes: &[&str]) -> String {
        let client = NewClient::confidential(&["client_credentials"], scopes)
            .id(unique("svc"))
            .secret(secret)
            .audiences("urn:test:default", &["urn:test:other"]);
        self.register(client).await.0
    }

    /// A service client allowed `api:read api:write` whose secret holds characters that
    /// form-urlencoding changes; returns (client_id, secret).
    pub async fn service_client(&self) -> (String, String) {
        let secret = format!("{}+/:=%", random_token());
        let id = self
            .service_client_with(&secret, &["api:read", "api:write"])
            .await;
        (id, secret)
    }

    /// The scopes client `client_id` is registered with, space-separated.
    pub async fn registered_scopes(&self, client_id: &str) -> String {
        let client = self.state.store.client(client_id).await.unwrap().unwrap();
        client.policy.scopes.join(" ")
    }

    /// Whether the store holds a client with this id.
    pub async fn client_stored(&self, client_id: &str) -> bool {
        self.state.store.client(client_id).await.unwrap().is_some()
    }

    /// The library's hash of a client secret (as stored).
    pub fn hash_secret(&self, secret: &str) -> String {
        tessera::secret::SecretHash::of(secret).as_str().to_owned()
    }

    /// Whether the refresh family (session) `sid` is alive in the store.
    pub async fn family_alive(&self, sid: &str) -> bool {
        self.state.store.family_alive(sid).await.unwrap()
    }

    /// Signs `claims` as a token of `typ` with the server's current RS256 signing key.
    pub fn sign(&self, typ: TokenType, claims: &Value) -> String {
        self.sign_as(SigningAlg::Rs256, typ, claims)
    }

    /// Signs `claims` as a token of `typ` with the server's current `alg` signing key.
    pub fn sign_as(&self, alg: SigningAlg, typ: TokenType, claims: &Value) -> String {
        self.state
            .tokens
            .keys()
            .require(alg)
            .unwrap()
            .sign(typ, claims)
            .unwrap()
    }

    /// The kid of the server's current `alg` signing key.
    pub fn signing_kid(&self, alg: SigningAlg) -> String {
        self.state.tokens.keys().require(alg).unwrap().kid.clone()
    }

    /// Signs `claims` as an access token with a fresh key the server never published.
    pub fn sign_with_unpublished_key(&self, claims: &Value) -> String {
        let dir = tempfile::tempdir().unwrap();
        generate_key(dir.path());
        let other = tessera::keys::KeySet::load(dir.path()).unwrap();
        other
            .require(SigningAlg::Rs256)
            .unwrap()
            .sign(TokenType::Access, claims)
            .unwrap()
    }

    /// The server's JWKS as it holds it (not through HTTP).
    pub fn key_set_jwks(&self) -> Value {
        serde_json::from_slice(self.state.tokens.keys().jwks()).unwrap()
    }

    /// Rotates the RS256 signing key in `dir` through this server's store with a
    /// pre-publication `delay` in seconds; returns the new kid.
    pub async fn rotate_keys(&self, dir: &Path, delay: u64) -> String {
        self.rotate_keys_for(dir, SigningAlg::Rs256, delay).await
    }

    /// As [`TestApp::rotate_keys`] for the `alg` key only.
    pub async fn rotate_keys_for(&self, dir: &Path, alg: SigningAlg, delay: u64) -> String {
        tessera::keys::rotation::rotate(&self.state.store, dir, alg, 2048, delay)
            .await
            .unwrap()
            .0
    }

    /// Prunes keys retired more than `retention` seconds ago; returns the pruned kids.
    pub async fn prune_keys(&self, dir: &Path, retention: u64) -> Vec<String> {
        tessera::keys::rotation::prune(&self.state.store, dir, retention)
            .await
            .unwrap()
    }
}
