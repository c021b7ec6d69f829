//! What a sign-in step answers: the next [`Step`], or a [`PageError`].

use std::sync::Arc;

use crate::error::{error_description, OAuthError, StoreError};
use crate::sessions::AuthRequest;
use crate::store::Client;

/// A pending authorization request as the page forms carry it. `Debug` leaves out the id.
pub struct Pending {
    /// The request's id: the forms' hidden `request_id` (256 random bits; stored hashed).
    pub id: String,
    /// The validated request.
    pub request: AuthRequest,
}

/// Why a form is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A username or password is missing or malformed (400).
    MissingCredentials,
    /// Unknown user, wrong password or disabled user, indistinguishably (400).
    InvalidCredentials,
    /// A login limit refused the attempt (429).
    TooManyAttempts,
    /// The store or the password hashing pool is unavailable (503).
    Unavailable,
    /// The second factor does not check out (400).
    InvalidCode,
    /// The user code is malformed, unknown, expired or already answered (400).
    InvalidUserCode,
    /// The passkey was refused: not registered, not verified, or its challenge expired (400).
    PasskeyRefused,
}

/// The second factors a user can answer the second step with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Factors {
    /// A TOTP code (RFC 6238) or a recovery code.
    pub totp: bool,
    /// One of the user's passkeys (WebAuthn).
    pub passkey: bool,
}

impl Factors {
    /// Whether the user has any second factor.
    pub fn any(self) -> bool {
        self.totp || self.passkey
    }
}

impl Notice {
    /// The notice for a limiter or credential-check failure: 429 stays "too many attempts",
    /// anything else is "unavailable".
    pub(super) fn of(e: &OAuthError) -> Self {
        if e.is_rate_limit() {
            Notice::TooManyAttempts
        } else {
            Notice::Unavailable
        }
    }
}

/// Where the browser goes next: the client's redirect URI with `params` added to its query
/// (RFC 6749 §4.1.2; the renderer adds `iss`, RFC 9207).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// A registered redirect URI (or post-logout URI).
    pub uri: String,
    /// Query parameters to add, in order.
    pub params: Vec<(&'static str, String)>,
    /// 303 after a form POST, 302 after a GET.
    pub after_post: bool,
}

impl Redirect {
    /// An error for a verified client and redirect URI, sent back to the client
    /// (RFC 6749 §4.1.2.1) with its `state`; the description is sanitized as every
    /// `error_description` is ([`error_description`], RFC 6749 §4.1.2.1 allows the same
    /// characters as §5.2).
    pub(super) fn error(
        uri: &str,
        state: Option<&str>,
        code: &'static str,
        description: &str,
        after_post: bool,
    ) -> Self {
        let mut params = vec![
            ("error", code.to_owned()),
            ("error_description", error_description(description)),
        ];
        if let Some(s) = state {
            params.push(("state", s.to_owned()));
        }
        Self {
            uri: uri.to_owned(),
            params,
            after_post,
        }
    }
}

/// One scope a consent or device approval page lists: `new` when the login session has not
/// granted it to the client yet (OIDC Core §3.1.2.4: the page shows what is new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeChoice {
    /// The scope.
    pub scope: String,
    /// Not granted yet.
    pub new: bool,
}

/// The next step of a browser sign-in.
#[derive(Debug)]
pub enum Step {
    /// Show the login form of `pending` for `client`, with the typed username and, after a
    /// failed attempt, a notice.
    Login {
        /// The pending request.
        pending: Pending,
        /// Its client.
        client: Arc<Client>,
        /// What the user typed (empty at first).
        username: String,
        /// Why the form is shown again.
        notice: Option<Notice>,
    },
    /// Ask for the second factor of `pending`.
    SecondFactor {
        /// The pending request.
        pending: Pending,
        /// The factors the user can answer with.
        factors: Factors,
        /// Why the form is shown again.
        notice: Option<Notice>,
    },
    /// Ask the signed-in user whether a third-party client may have the request's scope.
    Consent {
        /// The pending request.
        pending: Pending,
        /// Its client.
        client: Arc<Client>,
        /// The signed-in user's username.
        username: String,
        /// The request's scopes, marked new or already granted (OIDC Core §3.1.2.4).
        scopes: Vec<ScopeChoice>,
    },
    /// Ask for a device's user code (RFC 8628 §3.3), with what was typed and, after a failed
    /// entry, a notice.
    DeviceCode {
        /// What the user typed (empty at first).
        user_code: String,
        /// Why the form is shown again.
        notice: Option<Notice>,
    },
    /// Ask the signed-in user to approve or deny the device authorization of `pending`, with
    /// the client's name, the scopes and the remote-phishing warning of RFC 8628 §5.4.
    DeviceApproval {
        /// The pending device approval.
        pending: Pending,
        /// Its client.
        client: Arc<Client>,
        /// The signed-in user's username.
        username: String,
        /// The request's scopes, marked new or already granted to the client in this login
        /// session, as on the consent page.
        scopes: Vec<ScopeChoice>,
        /// The user code, as displayed, to compare with the device's.
        user_code: String,
    },
    /// The device authorization has been answered: the device gets its tokens (`approved`)
    /// or `access_denied` at its next poll.
    DeviceDone {
        /// Whether the user approved.
        approved: bool,
    },
    /// Send the browser back to the client: a code, or an error.
    Redirect(Redirect),
    /// The login session has ended (its cookie is to be removed); return to the client, or
    /// show a confirmation.
    SignedOut(Option<Redirect>),
    /// Ask the user to confirm signing out (RP-Initiated Logout 1.0 §2): a form that posts the
    /// logout parameters back with the confirmation token.
    ConfirmLogout(LogoutConfirmation),
}

/// The logout confirmation form's content. `Debug` leaves out the token.
#[derive(Clone, PartialEq, Eq)]
pub struct LogoutConfirmation {
    /// The `confirm` field: bound to the login session (CSRF).
    pub token: String,
    /// The client the logout named (directly or through its `id_token_hint`).
    pub client_id: Option<String>,
    /// That client's display name (`Client::display_name`), when it is registered.
    pub client_name: Option<String>,
    /// The registered `post_logout_redirect_uri` to return to.
    pub post_logout_redirect_uri: Option<String>,
    /// `state`, echoed on the redirect.
    pub state: Option<String>,
}

/// A step, and the login session it opened: the value of the new session cookie. `Debug`
/// leaves out the cookie.
pub struct Outcome {
    /// What to show or where to go.
    pub step: Step,
    /// Set when the user has just authenticated.
    pub new_session: Option<String>,
}

impl From<Step> for Outcome {
    fn from(step: Step) -> Self {
        Self {
            step,
            new_session: None,
        }
    }
}

/// A sign-in that cannot go on: shown to the user as a page, never redirected (RFC 6749
/// §4.1.2.1 forbids redirecting to an unverified URI). The renderer in `http/` gives each its
/// status and words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The request is malformed (for example a repeated parameter); the text says how.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The request names no `client_id`.
    #[error("the request names no client")]
    NoClient,
    /// The `client_id` is not registered.
    #[error("the client is not registered")]
    UnknownClient,
    /// The pending request's client was removed meanwhile.
    #[error("the client is no longer registered")]
    ClientGone,
    /// The `redirect_uri` is missing or not registered for the client (RFC 9700 §2.1).
    #[error("the redirect URI is not registered")]
    UnregisteredRedirectUri,
    /// RFC 9126 §4: the `request_uri` is unknown, expired, used, or another client's.
    #[error("the request_uri is invalid")]
    InvalidRequestUri,
    /// RFC 9126 §6: the client must push its authorization requests.
    #[error("pushed authorization requests are required")]
    PushRequired,
    /// A registered redirect URI that does not parse.
    #[error("the redirect URI is invalid")]
    InvalidRedirectUri,
    /// The form's pending request is unknown or expired.
    #[error("the sign-in request expired")]
    Expired,
    /// The form's CSRF token does not match the pending request's (403).
    #[error("the form could not be verified")]
    Forged,
    /// A step was submitted out of order, or the user went away meanwhile.
    #[error("the sign-in must start again")]
    StartAgain,
    /// Too many wrong second factors ended the pending request.
    #[error("too many wrong codes")]
    TooManyCodes,
    /// The consent form came without a live login session.
    #[error("the login session ended")]
    SignInAgain,
    /// `post_logout_redirect_uri` is not registered for the named client.
    #[error("the post-logout redirect URI is not registered")]
    UnregisteredLogoutUri,
    /// RP-Initiated Logout 1.0 §2: `client_id` and `id_token_hint` are both given and the
    /// hint was issued to another client (its `aud`).
    #[error("the client_id is not the id_token_hint's audience")]
    LogoutClientMismatch,
    /// `post_logout_redirect_uri` without `client_id` or `id_token_hint`.
    #[error("logout names no client")]
    LogoutNeedsClient,
    /// The device authorization expired or was answered while the approval page was open.
    #[error("the device code expired or was already answered")]
    DeviceCodeGone,
    /// Passkeys are off on this server, or the user has none.
    #[error("passkeys are not available")]
    PasskeysOff,
    /// The store is unavailable (503).
    #[error("the store is unavailable")]
    Unavailable,
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store unavailable");
        PageError::Unavailable
    }
}

/// For the parse errors of a request's parameters (`Params`), whose text says what is wrong.
impl From<OAuthError> for PageError {
    fn from(e: OAuthError) -> Self {
        PageError::Malformed(e.description)
    }
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LogoutConfirmation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogoutConfirmation")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("step", &self.step)
            .field("new_session", &self.new_session.is_some())
            .finish()
    }
}
