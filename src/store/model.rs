//! The store's own model: what it keeps and what its atomic steps answer. Every type here is
//! defined by the store and used by the layers above it, never the other way round.

use serde::{Deserialize, Serialize};

use crate::secret::SecretHash;

/// A registered user.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    /// Stable subject identifier (UUID v4), the `sub` of tokens.
    pub sub: String,
    /// Normalised username (trimmed, NFKC, lowercase; normalised above the store).
    pub username: String,
    /// Email address, if known.
    pub email: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// A disabled user cannot log in or refresh.
    pub disabled: bool,
    /// Active TOTP secret, sealed with the data key.
    #[serde(default)]
    pub totp: Option<String>,
    /// TOTP secret awaiting confirmation, sealed.
    #[serde(default)]
    pub totp_pending: Option<String>,
    /// When the user was created, unix seconds (0 for users stored before this field existed).
    #[serde(default)]
    pub created_at: u64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("sub", &self.sub)
            .field("username", &self.username)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// One page of the user listing ([`super::Backend::users_page`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersPage {
    /// The users, in index order (creation time, then `sub`).
    pub users: Vec<User>,
    /// The cursor to pass for the next page; `None` when the listing is complete.
    pub next: Option<String>,
}

/// What a client may do: the one definition of a client's policy (RFC 6749 §2 registration
/// metadata). It is flattened into the stored [`Client`], the registration input (CLI, admin
/// API, config file) and the admin API's JSON, so a new field is one edit here plus its
/// validation in `clients`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, clap::Args)]
pub struct ClientPolicy {
    /// Allowed grant type (authorization_code, refresh_token, client_credentials, password,
    /// urn:ietf:params:oauth:grant-type:device_code); repeatable.
    #[arg(long = "grant-type", required = true, value_name = "G")]
    pub grant_types: Vec<String>,
    /// Allowed scope; repeatable. Also the default when a request names none, except openid,
    /// offline_access and tessera:admin (asked for by name; tessera:admin only with
    /// client_credentials).
    #[serde(default)]
    #[arg(long = "scope", value_name = "S")]
    pub scopes: Vec<String>,
    /// Default `aud` of the client's access tokens; the server default when absent.
    #[serde(default)]
    #[arg(long)]
    pub audience: Option<String>,
    /// Further audience the client may request with an RFC 8707 `resource`; repeatable.
    #[serde(default)]
    #[arg(long = "allowed-audience", value_name = "A")]
    pub audiences: Vec<String>,
    /// Redirect URI for the authorization code flow, compared exactly (RFC 9700 §2.1);
    /// repeatable.
    #[serde(default)]
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    /// Browser origin allowed to call the token, revocation and userinfo endpoints (CORS);
    /// repeatable.
    #[serde(default)]
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
    /// Where RP-initiated logout may return to; repeatable.
    #[serde(default)]
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// A third-party client: users are asked for consent.
    #[serde(default)]
    #[arg(long)]
    pub third_party: bool,
    /// JWS algorithm of the client's access tokens (tessera's registration metadata, named
    /// after OIDC Dynamic Client Registration's `id_token_signed_response_alg`); the server's
    /// `access_token_signing_alg` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long = "access-token-alg", value_name = "ALG", value_enum)]
    pub access_token_signed_response_alg: Option<SigningAlg>,
    /// JWS algorithm of the client's ID tokens (OIDC Dynamic Client Registration 1.0 §2
    /// `id_token_signed_response_alg`); the server's `id_token_signing_alg` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long = "id-token-alg", value_name = "ALG", value_enum)]
    pub id_token_signed_response_alg: Option<SigningAlg>,
    /// RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof.
    #[serde(default)]
    #[arg(long = "require-dpop")]
    pub dpop_bound_access_tokens: bool,
    /// RFC 9126 §6 `require_pushed_authorization_requests`: authorization requests must be
    /// pushed first (`/oauth2/par`).
    #[serde(default)]
    #[arg(long = "require-par")]
    pub require_pushed_authorization_requests: bool,
    /// OIDC Back-Channel Logout 1.0 §2.2 `backchannel_logout_uri`: where a logout token is
    /// POSTed when a session of the client ends (https, or http on a loopback address).
    #[serde(default)]
    #[arg(long = "backchannel-logout-uri", value_name = "URI")]
    pub backchannel_logout_uri: Option<String>,
    /// OIDC Back-Channel Logout 1.0 §2.2 `backchannel_logout_session_required`: the client
    /// needs the `sid` claim in logout tokens (tessera always sends it).
    #[serde(default)]
    #[arg(long = "backchannel-logout-session-required")]
    pub backchannel_logout_session_required: bool,
    /// OIDC Dynamic Client Registration 1.0 §2 `client_name`: the name the hosted pages show
    /// for the client (1 to 100 characters, no control characters); its `client_id` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long = "client-name", value_name = "NAME")]
    pub client_name: Option<String>,
    /// OIDC Dynamic Client Registration 1.0 §2 `logo_uri`: the client's logo, shown on the
    /// hosted pages at a fixed size (an absolute `https` URL; the pages' CSP allows its origin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long = "logo-uri", value_name = "URI")]
    pub logo_uri: Option<String>,
    /// OIDC Dynamic Client Registration 1.0 §2 `client_uri`: the client's home page (`https`,
    /// or `http` on a loopback address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long = "client-uri", value_name = "URI")]
    pub client_uri: Option<String>,
    /// OIDC Dynamic Client Registration 1.0 §2 `policy_uri`: how the client uses the data it
    /// gets, linked from the consent page (`https`, or `http` on a loopback address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long = "policy-uri", value_name = "URI")]
    pub policy_uri: Option<String>,
    /// OIDC Dynamic Client Registration 1.0 §2 `tos_uri`: the client's terms of service,
    /// linked from the consent page (`https`, or `http` on a loopback address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long = "tos-uri", value_name = "URI")]
    pub tos_uri: Option<String>,
}

/// A JWS signing algorithm tessera signs with (RFC 7518 §3.1 / RFC 8037 §3.1 names); each has
/// its own key type: RSA, EC P-256, Ed25519. `none` and HMAC are not offered: tokens are
/// verified by third parties from the JWKS.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum, Default,
)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), RSA keys of 2048 bits or more.
    #[default]
    #[serde(rename = "RS256")]
    #[value(name = "RS256")]
    Rs256,
    /// ECDSA P-256 with SHA-256 (RFC 7518 §3.4), signature `r || s`, 64 octets.
    #[serde(rename = "ES256")]
    #[value(name = "ES256")]
    Es256,
    /// Ed25519 (RFC 8037 §3.1).
    #[serde(rename = "EdDSA")]
    #[value(name = "EdDSA")]
    EdDsa,
}

impl SigningAlg {
    /// Every algorithm, in the order of [`SigningAlg::index`].
    pub const ALL: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa];

    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Es256 => "ES256",
            SigningAlg::EdDsa => "EdDSA",
        }
    }

    /// Position in [`SigningAlg::ALL`] (for per-algorithm arrays).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Parses a JOSE `alg` name exactly (case-sensitive, RFC 7515 §4.1.1).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ClientPolicy {
    /// Whether the client is registered for `grant_type`.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

/// A registered OAuth client (RFC 6749 §2).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Client {
    /// The `client_id`.
    pub client_id: String,
    /// Hash of the client secret; `None` for a public client.
    pub secret_hash: Option<SecretHash>,
    /// When this registration was added, unix milliseconds (0 for clients declared in the
    /// config file and for records stored before this field existed). It names the
    /// registration: every grant records the registration it was issued under
    /// ([`Family::client_registered_at`], the access token's `client_registered_at`), and is
    /// valid only while the client's current registration is that one, so removing a client
    /// and registering its `client_id` again never brings an old grant back.
    #[serde(default)]
    pub registered_at: u64,
    /// What the client may do.
    #[serde(flatten)]
    pub policy: ClientPolicy,
}

impl Client {
    /// The name the hosted pages show: `client_name` (OIDC Registration §2), else `client_id`.
    pub fn display_name(&self) -> &str {
        self.policy
            .client_name
            .as_deref()
            .unwrap_or(&self.client_id)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.client_id)
            .field("public", &self.secret_hash.is_none())
            .field("grant_types", &self.policy.grant_types)
            .finish_non_exhaustive()
    }
}

/// A refresh-token family: one login session (`sid`) and the chain of refresh tokens it rotates
/// through (RFC 9700 §4.14.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// The user's `sub`.
    pub sub: String,
    /// The client the family is bound to.
    pub client_id: String,
    /// The granted scope (space-separated); refreshes may only narrow it.
    pub scope: String,
    /// Time of the original authentication, unix seconds.
    pub auth_time: u64,
    /// Authentication methods used (RFC 8176 values, space-separated, e.g. `pwd`).
    pub amr: String,
    /// The user's username at login, for the `preferred_username` claim.
    pub username: String,
    /// The user's email at login, for the `email` claim.
    pub email: Option<String>,
    /// RFC 9449 §5: the RFC 7638 thumbprint of the DPoP key a public client's refresh tokens
    /// are bound to; every rotation must prove that key.
    pub jkt: Option<String>,
    /// The [`Client::registered_at`] of the registration the family was opened under (0 for
    /// families stored before this field existed); it rotates only for that registration.
    pub client_registered_at: u64,
}

/// The result of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now dead and its successor's hash is stored.
    Rotated(Family),
    /// The token is the parent of the current one, presented again within the refresh grace
    /// window before the current one was used: nothing changed, and the answer is the same
    /// successor, as it was sealed for the window ([`Successor::grace`]).
    Repeated {
        /// The family.
        family: Family,
        /// The successor refresh token, sealed with the data key by the rotation.
        sealed: String,
    },
    /// The token had already been rotated: the whole family is now revoked.
    Reused {
        /// The family's user.
        sub: String,
        /// The family's client.
        client_id: String,
    },
    /// The scope asked for is not within the granted scope; nothing changed.
    ScopeExceeded,
    /// RFC 9449 §5: the family is bound to a DPoP key the request did not prove; nothing
    /// changed (this is not reuse: the family lives on).
    KeyMismatch,
    /// Unknown, expired, revoked, bound to another client or opened under another
    /// registration of it; nothing changed.
    Invalid,
}

/// The token a rotation moves to.
#[derive(Debug, Clone, Copy)]
pub struct Successor<'a> {
    /// The hash of the new refresh token.
    pub hash: &'a SecretHash,
    /// With a refresh grace window: the new token sealed with the data key, and the window in
    /// milliseconds; the sealed copy is kept only that long. `None` when the grace is 0.
    pub grace: Option<(&'a str, u64)>,
}

/// One live session (refresh-token family) of a user, as session lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session id (`sid`): the family id.
    pub sid: String,
    /// The client it belongs to.
    pub client_id: String,
    /// When it was opened, unix seconds.
    pub created_at: u64,
    /// When it last rotated its refresh token, unix seconds (`None`: never).
    pub last_refreshed_at: Option<u64>,
    /// RFC 8176 methods of its authentication, space-separated.
    pub amr: String,
}

/// Who presents a refresh token for rotation, and what they ask for.
#[derive(Debug, Clone, Copy)]
pub struct Presenter<'a> {
    /// The authenticated client; a family rotates only for its own client.
    pub client_id: &'a str,
    /// The client's [`Client::registered_at`]; a family opened under another registration of
    /// that `client_id` is [`Rotation::Invalid`].
    pub client_registered_at: u64,
    /// The RFC 7638 thumbprint of the DPoP proof's key, when one came (RFC 9449 §5).
    pub jkt: Option<&'a str>,
    /// The scope asked for; empty means no narrowing (RFC 6749 §6).
    pub scope: &'a [&'a str],
}

/// What a stored refresh token is, for introspection and revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// The current token of a live family.
    Current(Family),
    /// A rotated-away token of a live family.
    Rotated(Family),
    /// Nothing known (never issued, expired or revoked).
    Unknown,
}

/// Rotation metadata of one signing key, shared by all instances (keys are published before
/// they sign and after they stop; see `keys::rotation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMeta {
    /// Unix seconds from which the key may sign.
    pub not_before: u64,
    /// Unix seconds from which it no longer signs (`None`: not retired).
    pub retired_at: Option<u64>,
}
