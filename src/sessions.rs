//! Browser sign-in state, HTTP-free: pending sign-ins (authorization requests and device
//! approvals), login sessions (the server side of the session cookie) and authorization codes. All are short-lived store
//! records keyed by the SHA-256 of a random value only the browser or client holds.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::secret::{random_token, SecretHash};
use crate::store::{Attempt, Backend, Record, Redemption, Store};

/// Seconds an authorization request may wait for the user to sign in.
pub const AUTH_REQUEST_TTL: u64 = 600;

/// A sign-in waiting for the user, on behalf of `client_id` for `scope`: an authorization
/// request (OIDC Core §3.1.2.1, RFC 7636) or a device approval (RFC 8628 §3.3); what follows
/// once the user is signed in is [`AuthRequest::then`]. `Debug` leaves out the CSRF token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    /// The client.
    pub client_id: String,
    /// The scope to grant.
    pub scope: String,
    /// The CSRF token the pages' forms must carry (also in a cookie: double submit).
    pub csrf: String,
    /// After a correct password for a user with MFA: who, waiting for the second factor.
    pub mfa_user: Option<String>,
    /// What the signed-in user continues to.
    pub then: Continuation,
}

/// What a pending sign-in continues to once the user is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Continuation {
    /// The authorization code flow: consent for a third-party client, then the browser goes
    /// back to the client with a code.
    Code(CodeRequest),
    /// The device flow: the approval page of the device authorization `device` (the hash of
    /// its device code), showing its `user_code` to compare with the device's.
    Device {
        /// The device authorization's id.
        device: SecretHash,
        /// Its user code, as displayed.
        user_code: String,
    },
}

/// The redirect part of an authorization request (OIDC Core §3.1.2.1, RFC 7636).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRequest {
    /// The registered redirect URI it named.
    pub redirect_uri: String,
    /// Opaque client state, echoed on the redirect.
    pub state: Option<String>,
    /// Echoed in the ID token.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: String,
    /// RFC 9449 §10 `dpop_jkt`: the key the code will be bound to.
    #[serde(default)]
    pub dpop_jkt: Option<String>,
    /// OIDC Core §3.1.2.1 `prompt=consent`: ask for consent even when the session already
    /// consented (or the client is first-party); cleared once the user has answered.
    #[serde(default)]
    pub prompt_consent: bool,
    /// OIDC Core §3.1.2.1 `ui_locales`: the languages the pages should speak, space-separated
    /// BCP 47 tags in order of preference.
    #[serde(default)]
    pub ui_locales: Option<String>,
}

impl AuthRequest {
    /// The redirect URI the sign-in ends at, for an authorization request.
    pub fn redirect_uri(&self) -> Option<&str> {
        match &self.then {
            Continuation::Code(code) => Some(&code.redirect_uri),
            Continuation::Device { .. } => None,
        }
    }

    /// The `ui_locales` of an authorization request (OIDC Core §3.1.2.1).
    pub fn ui_locales(&self) -> Option<&str> {
        match &self.then {
            Continuation::Code(code) => code.ui_locales.as_deref(),
            Continuation::Device { .. } => None,
        }
    }
}

impl std::fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRequest")
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .field("redirect_uri", &self.redirect_uri())
            .finish_non_exhaustive()
    }
}

/// The CSRF token of a new pending sign-in in a browser whose CSRF cookie holds `cookie`: that
/// value when it has the shape of ours (43 URL-safe base64 characters: 32 random bytes), so a
/// sign-in page already open in another tab keeps working (the browser holds one CSRF cookie,
/// and a new page would otherwise replace the value that tab's form carries); a new random
/// token otherwise. The double-submit check is unchanged: a form must carry the value of both
/// the cookie and its own pending request, whose id only its page knows.
pub fn csrf_token(cookie: Option<&str>) -> String {
    let ours = |c: &&str| {
        c.len() == 43
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    cookie.filter(ours).map_or_else(random_token, str::to_owned)
}

/// A signed-in browser: the server side of the session cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginSession {
    /// The user's normalised username.
    pub username: String,
    /// The user's `sub`.
    pub sub: String,
    /// When the user authenticated, unix seconds.
    pub auth_time: u64,
    /// RFC 8176 methods, space-separated.
    pub amr: String,
    /// What the user consented to in this session (OIDC Core §3.1.2.4): by third-party
    /// client id, the scopes granted to it. A session stored before consent was kept per scope
    /// (a `consented` list of client ids) reads as no consent at all, so its user is asked
    /// again.
    #[serde(default)]
    pub consents: BTreeMap<String, BTreeSet<String>>,
}

impl LoginSession {
    /// The scopes of `scope` (space-separated) the user has not yet granted `client_id` in this
    /// session, in request order; `None` when nothing at all was granted to it yet (a client
    /// asking for no scope still needs its first consent).
    pub fn ungranted<'a>(&self, client_id: &str, scope: &'a str) -> Option<Vec<&'a str>> {
        let granted = self.consents.get(client_id)?;
        Some(
            scope
                .split(' ')
                .filter(|s| !s.is_empty() && !granted.contains(*s))
                .collect(),
        )
    }

    /// Records that the user granted `client_id` the scopes of `scope` (space-separated), on
    /// top of what it had.
    pub fn grant(&mut self, client_id: &str, scope: &str) {
        self.consents
            .entry(client_id.to_owned())
            .or_default()
            .extend(
                scope
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
    }
}

/// What an authorization code stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeGrant {
    /// Bound client.
    pub client_id: String,
    /// Bound redirect URI (RFC 6749 §4.1.3).
    pub redirect_uri: String,
    /// Bound PKCE challenge (RFC 7636 §4.4).
    pub code_challenge: String,
    /// Granted scope.
    pub scope: String,
    /// For the ID token.
    pub nonce: Option<String>,
    /// The user's normalised username.
    pub username: String,
    /// When the user authenticated.
    pub auth_time: u64,
    /// RFC 8176 methods.
    pub amr: String,
    /// The login session (hash of its cookie), so RP-initiated logout reaches the tokens.
    pub session: SecretHash,
    /// RFC 9449 §10: the DPoP key the exchange must prove.
    #[serde(default)]
    pub dpop_jkt: Option<String>,
}

impl Record for AuthRequest {
    const KIND: &'static str = "authreq";
}

impl Record for LoginSession {
    const KIND: &'static str = "session";
}

impl Record for CodeGrant {
    const KIND: &'static str = "code";
}

/// Stores `request` and returns its id (256 random bits; the store keeps only its hash).
///
/// # Errors
/// [`StoreError`].
pub async fn save_auth_request(store: &Store, request: &AuthRequest) -> Result<String, StoreError> {
    let id = random_token();
    update_auth_request(store, &id, request).await?;
    Ok(id)
}

/// Replaces the stored request `id` (its second-factor attempts stay spent).
///
/// # Errors
/// [`StoreError`].
pub async fn update_auth_request(
    store: &Store,
    id: &str,
    request: &AuthRequest,
) -> Result<(), StoreError> {
    store
        .put(&SecretHash::of(id), request, AUTH_REQUEST_TTL)
        .await
}

/// The pending request `id`, if alive.
///
/// # Errors
/// [`StoreError`].
pub async fn auth_request(store: &Store, id: &str) -> Result<Option<AuthRequest>, StoreError> {
    store.get(&SecretHash::of(id)).await
}

/// Spends one of the `max` second-factor attempts of the pending request `id`, before the
/// factor is checked (atomic: parallel guesses never get more than `max` evaluations).
///
/// # Errors
/// [`StoreError`].
pub async fn auth_request_attempt(
    store: &Store,
    id: &str,
    max: u32,
) -> Result<Attempt, StoreError> {
    store
        .spend_attempt::<AuthRequest>(&SecretHash::of(id), max)
        .await
}

/// Ends the pending request `id`.
///
/// # Errors
/// [`StoreError`].
pub async fn finish_auth_request(store: &Store, id: &str) -> Result<(), StoreError> {
    store
        .take::<AuthRequest>(&SecretHash::of(id))
        .await
        .map(drop)
}

/// Opens (or replaces) a login session; returns the cookie value (256 random bits).
///
/// # Errors
/// [`StoreError`].
pub async fn open_login_session(
    store: &Store,
    session: &LoginSession,
    ttl: u64,
) -> Result<String, StoreError> {
    let cookie = random_token();
    save_login_session(store, &cookie, session, ttl).await?;
    Ok(cookie)
}

/// Stores `session` under `cookie`.
///
/// # Errors
/// [`StoreError`].
pub async fn save_login_session(
    store: &Store,
    cookie: &str,
    session: &LoginSession,
    ttl: u64,
) -> Result<(), StoreError> {
    store.put(&SecretHash::of(cookie), session, ttl).await
}

/// The login session behind a cookie value.
///
/// # Errors
/// [`StoreError`].
pub async fn login_session(
    store: &Store,
    cookie: &str,
) -> Result<Option<LoginSession>, StoreError> {
    store.get(&SecretHash::of(cookie)).await
}

/// Ends the login session behind `cookie` and revokes every refresh-token family it opened
/// (OpenID Connect RP-Initiated Logout). Returns how many families were alive.
///
/// # Errors
/// [`StoreError`].
pub async fn end_login_session(store: &Store, cookie: &str) -> Result<usize, StoreError> {
    let id = SecretHash::of(cookie);
    store.take::<LoginSession>(&id).await?;
    let mut revoked = 0;
    for family in store.take_session_families(&id).await? {
        if store.revoke_family(&family).await? {
            revoked += 1;
        }
    }
    Ok(revoked)
}

/// Issues a single-use authorization code for `grant`, valid `ttl` seconds.
///
/// # Errors
/// [`StoreError`].
pub async fn issue_code(store: &Store, grant: &CodeGrant, ttl: u64) -> Result<String, StoreError> {
    let code = random_token();
    store.put(&SecretHash::of(&code), grant, ttl).await?;
    Ok(code)
}

/// Reads the grant behind `code` without redeeming it.
///
/// # Errors
/// [`StoreError`].
pub async fn code_grant(store: &Store, code: &str) -> Result<Option<CodeGrant>, StoreError> {
    store.get(&SecretHash::of(code)).await
}

/// Redeems `code` for the new family `family_id`: `Fresh` once, then `Reused` with the family
/// its first redemption opened.
///
/// # Errors
/// [`StoreError`].
pub async fn redeem_code(
    store: &Store,
    code: &str,
    family_id: &str,
) -> Result<Redemption<CodeGrant>, StoreError> {
    store.redeem(&SecretHash::of(code), family_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_is_kept_per_client_and_scope_and_old_sessions_still_read() {
        // A session stored before consents were kept per scope.
        let old = r#"{"username":"ann","sub":"s","auth_time":1,"amr":"pwd","consented":["rp"]}"#;
        let mut session: LoginSession = serde_json::from_str(old).unwrap();
        assert_eq!(session.ungranted("rp", "openid"), None);
        session.grant("rp", "openid");
        assert_eq!(session.ungranted("rp", "openid"), Some(vec![]));
        assert_eq!(
            session.ungranted("rp", "openid profile email"),
            Some(vec!["profile", "email"])
        );
        assert_eq!(session.ungranted("other", "openid"), None);
        session.grant("rp", "email");
        assert_eq!(session.ungranted("rp", "email openid"), Some(vec![]));
    }
}
