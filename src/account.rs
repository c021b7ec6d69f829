//! The hosted account page's domain, HTTP-free: tessera is its own client there
//! ([`ACCOUNT_CLIENT`], public, authorization code with PKCE S256), so the page signs the user
//! in through the normal sign-in flow (password, passkey, second factor) and then relies on
//! the browser's login session. The page's forms carry a CSRF token bound to that session.
//! Changing a factor needs a recent authentication (`passkey_reauth_max_age`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::now;
use crate::config::Settings;
use crate::grants::authorization_code::pkce_s256_matches;
use crate::secret::{random_token, SecretHash};
use crate::sessions::{code_grant, login_session, redeem_code, LoginSession};
use crate::state::AppState;
use crate::store::{Backend, Redemption, User};

use crate::clients::{build_client, Registration};
use crate::store::{Client, ClientPolicy};

/// The account page's own client id.
pub const ACCOUNT_CLIENT: &str = "tessera-account";
/// Where the page's sign-in returns to (the client's one redirect URI), relative to the issuer.
pub const CALLBACK_PATH: &str = "/account/callback";

/// The account page's client, declared by the server itself (added to the declared clients at
/// start-up): public, authorization code with PKCE only, `openid`, first party (no consent),
/// redirecting to [`CALLBACK_PATH`]. `None` when the issuer makes no acceptable URI.
pub fn client(settings: &Settings) -> Option<Client> {
    let registration = Registration {
        client_id: ACCOUNT_CLIENT.into(),
        public: true,
        policy: ClientPolicy {
            grant_types: vec!["authorization_code".into()],
            scopes: vec!["openid".into()],
            redirect_uris: vec![settings.endpoint(CALLBACK_PATH)],
            ..Default::default()
        },
        ..Default::default()
    };
    build_client(registration).ok().map(|(client, _)| client)
}

/// A sign-in the page starts: where to send the browser, and the value of the cookie that
/// carries the `state` and PKCE verifier until the callback (the "flow cookie").
pub struct SignIn {
    /// The authorization request URL (OIDC Core §3.1.2.1).
    pub url: String,
    /// `<state>.<code_verifier>`: both random, 256 bits.
    pub flow: String,
}

/// Starts the page's sign-in; `again` asks for a fresh authentication (`prompt=login`, OIDC
/// Core §3.1.2.1), for changes that need a recent one.
pub fn start_sign_in(settings: &Settings, again: bool) -> SignIn {
    let (state, verifier) = (random_token(), random_token());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", ACCOUNT_CLIENT)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("redirect_uri", &settings.endpoint(CALLBACK_PATH))
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if again {
        query.append_pair("prompt", "login");
    }
    SignIn {
        url: format!(
            "{}?{}",
            settings.endpoint("/oauth2/authorize"),
            query.finish()
        ),
        flow: format!("{state}.{verifier}"),
    }
}

/// Finishes the page's sign-in at the callback: the `state` must be the flow cookie's, and the
/// code (single use, redeemed here) must be the account client's, for the callback URI, the
/// flow's PKCE verifier (RFC 7636 §4.6) and the browser's login session. No tokens are issued:
/// the page works with the login session.
///
/// # Errors
/// `false`-like: `Ok(false)` when anything does not match (the page starts over).
pub async fn finish_sign_in(
    state: &AppState,
    flow: Option<&str>,
    returned_state: Option<&str>,
    code: Option<&str>,
    session_cookie: Option<&str>,
) -> Result<bool, crate::error::StoreError> {
    let (Some(flow), Some(returned), Some(code), Some(cookie)) =
        (flow, returned_state, code, session_cookie)
    else {
        return Ok(false);
    };
    let Some((expected, verifier)) = flow.split_once('.') else {
        return Ok(false);
    };
    if !bool::from(expected.as_bytes().ct_eq(returned.as_bytes())) {
        return Ok(false);
    }
    let Some(grant) = code_grant(&state.store, code).await? else {
        return Ok(false);
    };
    let ok = grant.client_id == ACCOUNT_CLIENT
        && grant.redirect_uri == state.settings.endpoint(CALLBACK_PATH)
        && pkce_s256_matches(verifier, &grant.code_challenge)
        && grant.session == SecretHash::of(cookie);
    if !ok {
        return Ok(false);
    }
    let redeemed = redeem_code(&state.store, code, &random_token()).await?;
    Ok(matches!(redeemed, Redemption::Fresh(_)))
}

/// The signed-in user of the account page.
pub struct Account {
    /// The user.
    pub user: User,
    /// Their browser login session.
    pub session: LoginSession,
    /// The page forms' CSRF token (bound to the session).
    pub csrf: String,
    /// Whether the authentication is recent enough to change factors.
    pub recent: bool,
}

/// The account behind the login session `cookie`, if it is live and its user enabled.
///
/// # Errors
/// Store failures.
pub async fn account(
    state: &AppState,
    cookie: Option<&str>,
) -> Result<Option<Account>, crate::error::StoreError> {
    let Some(cookie) = cookie else {
        return Ok(None);
    };
    let Some(session) = login_session(&state.store, cookie).await? else {
        return Ok(None);
    };
    let Some(user) = state
        .store
        .user(&session.username)
        .await?
        .filter(|u| !u.disabled && u.sub == session.sub)
    else {
        return Ok(None);
    };
    let recent = now().saturating_sub(session.auth_time) <= state.settings.passkey_reauth_max_age;
    Ok(Some(Account {
        user,
        recent,
        csrf: csrf_token(cookie),
        session,
    }))
}

/// The CSRF token of the page forms of login session `cookie`: a hash of the secret cookie,
/// so only the page that was served to this browser knows it.
fn csrf_token(cookie: &str) -> String {
    SecretHash::of(&format!("account-form:{cookie}"))
        .as_str()
        .to_owned()
}

/// Whether `submitted` is the CSRF token of `account` (constant time).
pub fn csrf_ok(account: &Account, submitted: Option<&str>) -> bool {
    bool::from(
        submitted
            .unwrap_or("")
            .as_bytes()
            .ct_eq(account.csrf.as_bytes()),
    )
}
