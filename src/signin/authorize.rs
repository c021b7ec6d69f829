//! The authorization endpoint's decisions (OIDC Core §3.1.2.1, RFC 6749 §4.1.1, RFC 7636), and
//! what follows once a user is signed in: consent for third-party clients, then the code.

use std::sync::Arc;

use super::par::{take_pushed, REQUEST_URI_PREFIX};
use super::passkey::factors_of;
use super::step::{Factors, Outcome, PageError, Pending, Redirect, ScopeChoice, Step};
use crate::acr::Level;
use crate::clock::now;
use crate::grants::{grant_scope, require_grant, Grantee};
use crate::secret::SecretHash;
use crate::sessions::{
    csrf_token, finish_auth_request, issue_code, login_session, save_auth_request, AuthRequest,
    CodeGrant, CodeRequest, Continuation, LoginSession,
};
use crate::state::AppState;
use crate::store::{Backend, Client};

/// An authorization request's parameters as received (query or form); empty values are absent.
#[derive(Debug, Default, Clone, Copy)]
pub struct AuthorizationRequest<'a> {
    /// `client_id`.
    pub client_id: Option<&'a str>,
    /// `redirect_uri`, compared exactly with the registered ones.
    pub redirect_uri: Option<&'a str>,
    /// `response_type`; only `code`.
    pub response_type: Option<&'a str>,
    /// `scope`, space-separated.
    pub scope: Option<&'a str>,
    /// `state`, echoed on the redirect.
    pub state: Option<&'a str>,
    /// `nonce`, echoed in the ID token.
    pub nonce: Option<&'a str>,
    /// `code_challenge` (RFC 7636 §4.2).
    pub code_challenge: Option<&'a str>,
    /// `code_challenge_method`; only `S256`.
    pub code_challenge_method: Option<&'a str>,
    /// `prompt`, space-separated (`login`, `none`).
    pub prompt: Option<&'a str>,
    /// `max_age`, seconds.
    pub max_age: Option<&'a str>,
    /// `acr_values`, space-separated in order of preference (OIDC Core §3.1.2.1; see
    /// [`crate::acr`]).
    pub acr_values: Option<&'a str>,
    /// RFC 9449 §10 `dpop_jkt`: binds the code to a DPoP key.
    pub dpop_jkt: Option<&'a str>,
    /// RFC 9126 §4 `request_uri` of a pushed request; any other `request_uri` (OIDC Core §6.2)
    /// is refused with `request_uri_not_supported`.
    pub request_uri: Option<&'a str>,
    /// OIDC Core §6.1 `request` object: refused with `request_not_supported`.
    pub request: Option<&'a str>,
    /// OAuth 2.0 Multiple Response Type Encoding Practices `response_mode`: only `query`.
    pub response_mode: Option<&'a str>,
    /// `ui_locales` (OIDC Core §3.1.2.1): the pages' languages, space-separated BCP 47 tags
    /// in order of preference.
    pub ui_locales: Option<&'a str>,
}

/// An authorization request that passed [`check_request`]: what the sign-in needs of it.
pub struct CheckedRequest<'a> {
    /// The registered redirect URI named.
    pub redirect_uri: &'a str,
    /// The scope to grant.
    pub scope: String,
    /// The PKCE S256 challenge.
    pub code_challenge: &'a str,
    /// `prompt` values.
    pub prompt: Vec<&'a str>,
    /// The class `acr_values` demands.
    pub required: Option<Level>,
    /// `max_age`, seconds.
    pub max_age: Option<u64>,
}

/// The registered redirect URI `req` names (RFC 9700 §2.1: exact string match).
///
/// # Errors
/// [`PageError::UnregisteredRedirectUri`].
pub fn trusted_redirect<'a>(
    client: &Client,
    req: &AuthorizationRequest<'a>,
) -> Result<&'a str, PageError> {
    req.redirect_uri
        .filter(|uri| client.policy.redirect_uris.iter().any(|r| r == uri))
        .ok_or(PageError::UnregisteredRedirectUri)
}

/// The checks of an authorization request of `client` after its redirect URI is trusted,
/// the same for `/oauth2/authorize` and `/oauth2/par` (RFC 9126 §2.1): response type, grant,
/// scope, PKCE S256, `prompt`, `max_age`, `dpop_jkt`.
///
/// # Errors
/// The RFC 6749 §4.1.2.1 error code and description.
pub fn check_request<'a>(
    client: &Client,
    redirect_uri: &'a str,
    req: &AuthorizationRequest<'a>,
) -> Result<CheckedRequest<'a>, (&'static str, String)> {
    let fail = |code, description: &str| Err((code, description.to_owned()));
    if req.response_type != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    // OIDC Core §6.1: the request object is optional; discovery says
    // `request_parameter_supported: false`.
    if req.request.is_some() {
        return fail(
            "request_not_supported",
            "request objects (the request parameter) are not supported",
        );
    }
    // Discovery lists `response_modes_supported: ["query"]`: another mode is refused rather
    // than answered in a form the client does not expect.
    if req.response_mode.is_some_and(|mode| mode != "query") {
        return fail("invalid_request", "only response_mode=query is supported");
    }
    if let Err(e) = require_grant(client, "authorization_code") {
        return Err(("unauthorized_client", e.description));
    }
    let scope = grant_scope(client, req.scope, Grantee::User)
        .map_err(|e| ("invalid_scope", e.description))?;
    // RFC 7636 §4.3 and RFC 9700 §2.1.1: PKCE with S256 for every client; plain is refused.
    let Some(code_challenge) = req.code_challenge.filter(|c| valid_challenge(c)) else {
        return fail(
            "invalid_request",
            "PKCE is required: send code_challenge (S256)",
        );
    };
    if req.code_challenge_method != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    // RFC 9449 §10: dpop_jkt is an RFC 7638 SHA-256 thumbprint, same shape as a challenge.
    if req.dpop_jkt.is_some_and(|j| !valid_challenge(j)) {
        return fail(
            "invalid_request",
            "dpop_jkt must be a JWK SHA-256 thumbprint",
        );
    }
    let prompt: Vec<&str> = req.prompt.unwrap_or("").split_whitespace().collect();
    // OIDC Core §3.1.2.1: `none` with any other value is an error.
    if prompt.contains(&"none") && prompt.len() > 1 {
        return fail("invalid_request", "prompt=none cannot be combined");
    }
    let max_age = match req.max_age.map(str::parse::<u64>) {
        None => None,
        Some(Ok(age)) => Some(age),
        Some(Err(_)) => return fail("invalid_request", "max_age must be a number of seconds"),
    };
    Ok(CheckedRequest {
        redirect_uri,
        scope,
        code_challenge,
        prompt,
        required: req.acr_values.and_then(Level::required_by),
        max_age,
    })
}

/// RFC 7636 §4.2: a S256 challenge is BASE64URL of 32 bytes, 43 characters.
fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the login session `session` must still ask the user's consent for third-party
/// `client` to have `scope`: consent is remembered per client and per scope, so a request for a
/// scope not granted yet asks again (OIDC Core §3.1.2.4).
fn needs_consent(client: &Client, session: &LoginSession, scope: &str) -> bool {
    client.policy.third_party
        && session
            .ungranted(&client.client_id, scope)
            .is_none_or(|new| !new.is_empty())
}

/// The scopes of `scope` as a consent or approval page lists them, each marked `new` unless
/// the session already granted it to `client_id`.
fn scope_choices(session: &LoginSession, client_id: &str, scope: &str) -> Vec<ScopeChoice> {
    let ungranted = session.ungranted(client_id, scope);
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| ScopeChoice {
            scope: s.to_owned(),
            new: ungranted.as_ref().is_none_or(|new| new.contains(&s)),
        })
        .collect()
}

/// What a live, fresh login session lacks for a request demanding `required`.
enum Missing {
    /// Nothing: the session is reused.
    Nothing,
    /// A second factor the user has (the session is password-only): ask for it.
    SecondFactor(Factors),
    /// The user is gone or disabled: sign in again.
    SignIn,
}

/// Compares the session's authentication (its `amr`) with the class the request demands. A
/// weaker session asks for the missing factor when the user has one; when the user has none the
/// session is reused, since `acr_values` is voluntary (OIDC Core §3.1.2.1) and the token's
/// `acr` says what was reached.
async fn missing(
    state: &AppState,
    session: &LoginSession,
    required: Option<Level>,
) -> Result<Missing, PageError> {
    if required.is_none_or(|r| Level::of_amr(&session.amr) >= r) {
        return Ok(Missing::Nothing);
    }
    Ok(match state.store.user(&session.username).await? {
        Some(user) if user.disabled || user.sub != session.sub => Missing::SignIn,
        Some(user) => match factors_of(state, &user).await? {
            factors if factors.any() => Missing::SecondFactor(factors),
            _ => Missing::Nothing,
        },
        None => Missing::SignIn,
    })
}

/// Validates an authorization request. With a live login session (and no `prompt=login`,
/// `max_age` respected, and the `acr_values` class reached) the user continues at once; a
/// password-only session that needs two factors goes to the second-factor step (step-up);
/// otherwise the login form is shown. With `prompt=none` every case that needs the user
/// answers an error to the redirect URI (OIDC Core §3.1.2.6). The pending request keeps the
/// browser's CSRF token (`csrf_cookie`, see [`csrf_token`]).
///
/// # Errors
/// A [`PageError`] when the client or redirect URI cannot be trusted (RFC 6749 §4.1.2.1) or
/// the store is down; errors for a trusted redirect URI are redirects (a [`Step::Redirect`]).
pub async fn authorize(
    state: &AppState,
    req: AuthorizationRequest<'_>,
    session_cookie: Option<&str>,
    csrf_cookie: Option<&str>,
) -> Result<Outcome, PageError> {
    let client_id = req.client_id.ok_or(PageError::NoClient)?;
    let client = state
        .clients
        .get(client_id)
        .await?
        .ok_or(PageError::UnknownClient)?;
    let pushed = match req.request_uri {
        Some(uri) if uri.starts_with(REQUEST_URI_PREFIX) => {
            Some(take_pushed(state, &client, uri).await?)
        }
        // OIDC Core §6.2 request objects by reference are not supported (discovery:
        // `request_uri_parameter_supported: false`); the error goes to a trusted redirect URI.
        Some(_) => {
            let redirect_uri = trusted_redirect(&client, &req)?;
            return Ok(Step::Redirect(Redirect::error(
                redirect_uri,
                req.state,
                "request_uri_not_supported",
                "only request_uri values from the pushed authorization request endpoint are supported",
                false,
            ))
            .into());
        }
        None => None,
    };
    // RFC 9126 §4: the pushed request's parameters, and no others, make the request.
    let req = match &pushed {
        Some(pushed) => pushed.as_request(),
        None => req,
    };
    let must_push = state.settings.require_pushed_authorization_requests
        || client.policy.require_pushed_authorization_requests;
    let redirect_uri = match trusted_redirect(&client, &req) {
        Err(_) if must_push && pushed.is_none() => return Err(PageError::PushRequired),
        other => other?,
    };
    let fail = |code, description: &str| {
        Ok(Step::Redirect(Redirect::error(
            redirect_uri,
            req.state,
            code,
            description,
            false,
        ))
        .into())
    };
    if must_push && pushed.is_none() {
        return fail(
            "invalid_request",
            "this client must push its authorization requests (RFC 9126)",
        );
    }
    let CheckedRequest {
        scope,
        code_challenge,
        prompt,
        required,
        max_age,
        ..
    } = match check_request(&client, redirect_uri, &req) {
        Ok(checked) => checked,
        Err((code, description)) => return fail(code, &description),
    };
    let silent = prompt.contains(&"none");
    let mut request = AuthRequest {
        client_id: client.client_id.clone(),
        scope,
        csrf: csrf_token(csrf_cookie),
        mfa_user: None,
        then: Continuation::Code(CodeRequest {
            redirect_uri: redirect_uri.to_owned(),
            state: req.state.map(str::to_owned),
            nonce: req.nonce.map(str::to_owned),
            code_challenge: code_challenge.to_owned(),
            dpop_jkt: req.dpop_jkt.map(str::to_owned),
            prompt_consent: prompt.contains(&"consent"),
            ui_locales: req.ui_locales.map(str::to_owned),
        }),
    };
    let session = match session_cookie {
        Some(cookie) => match login_session(&state.store, cookie).await {
            Ok(session) => session.map(|s| (cookie, s)),
            Err(_) => return fail("temporarily_unavailable", "please try again shortly"),
        },
        None => None,
    };
    // OIDC Core §3.1.2.1: prompt=login and max_age force re-authentication. A browser holds
    // one login session, so `select_account` is answered with the sign-in form too, where the
    // person signs in with the account of their choice (§3.1.2.1 allows any way of
    // obtaining the choice).
    if let Some((cookie, session)) = session {
        let fresh = max_age.is_none_or(|age| now().saturating_sub(session.auth_time) <= age);
        let reauthenticate = prompt.contains(&"login") || prompt.contains(&"select_account");
        if !reauthenticate && fresh {
            match missing(state, &session, required).await? {
                Missing::Nothing => {
                    // OIDC Core §3.1.2.6: consent cannot be asked for silently.
                    if silent && needs_consent(&client, &session, &request.scope) {
                        return fail("consent_required", "the user has not consented");
                    }
                    let step =
                        continue_signed_in(state, client, request, None, cookie, session, false);
                    return step.await.map(Outcome::from);
                }
                Missing::SecondFactor(_) if silent => {
                    return fail("interaction_required", "a second factor is required");
                }
                Missing::SecondFactor(factors) => {
                    // Step-up: the password is fresh, only the second factor is asked for.
                    request.mfa_user = Some(session.username);
                    let id = save_auth_request(&state.store, &request).await?;
                    let pending = Pending { id, request };
                    return Ok(Step::SecondFactor {
                        pending,
                        factors,
                        notice: None,
                    }
                    .into());
                }
                Missing::SignIn => {}
            }
        }
    }
    if silent {
        return fail("login_required", "the user must sign in");
    }
    login_form(state, client, request).await
}

/// Stores `request` and shows its (empty) login form.
///
/// # Errors
/// [`PageError::Unavailable`] when the request cannot be stored.
pub(super) async fn login_form(
    state: &AppState,
    client: Arc<Client>,
    request: AuthRequest,
) -> Result<Outcome, PageError> {
    let id = save_auth_request(&state.store, &request).await?;
    Ok(Step::Login {
        pending: Pending { id, request },
        client,
        username: String::new(),
        notice: None,
    }
    .into())
}

/// The registered client `client_id` of a pending sign-in.
///
/// # Errors
/// [`PageError::ClientGone`] when it was removed meanwhile; [`PageError::Unavailable`].
pub(super) async fn client_of(state: &AppState, client_id: &str) -> Result<Arc<Client>, PageError> {
    state
        .clients
        .get(client_id)
        .await?
        .ok_or(PageError::ClientGone)
}

/// A signed-in user continues `request` (stored under `request_id`, if it was): for a device
/// authorization its approval page; for an authorization request consent for a third-party
/// client not yet granted every requested scope in this session (or `prompt=consent`), else a
/// single-use code.
///
/// # Errors
/// [`PageError::Unavailable`] when the request cannot be stored for the page's form.
pub(super) async fn continue_signed_in(
    state: &AppState,
    client: Arc<Client>,
    request: AuthRequest,
    request_id: Option<String>,
    session_cookie: &str,
    session: LoginSession,
    after_post: bool,
) -> Result<Step, PageError> {
    let code = match request.then.clone() {
        Continuation::Code(code)
            if !code.prompt_consent && !needs_consent(&client, &session, &request.scope) =>
        {
            code
        }
        then => {
            // A page first, whose form needs the request stored.
            let id = match request_id {
                Some(id) => id,
                None => save_auth_request(&state.store, &request).await?,
            };
            let scopes = scope_choices(&session, &client.client_id, &request.scope);
            let pending = Pending { id, request };
            let username = session.username;
            return Ok(match then {
                Continuation::Device { user_code, .. } => Step::DeviceApproval {
                    pending,
                    client,
                    username,
                    scopes,
                    user_code,
                },
                Continuation::Code(_) => Step::Consent {
                    pending,
                    client,
                    username,
                    scopes,
                },
            });
        }
    };
    if let Some(id) = &request_id {
        // Best effort: the request expires by itself, and its code is single use anyway.
        let _ = finish_auth_request(&state.store, id).await;
    }
    let grant = CodeGrant {
        client_id: request.client_id,
        redirect_uri: code.redirect_uri.clone(),
        code_challenge: code.code_challenge,
        dpop_jkt: code.dpop_jkt,
        scope: request.scope,
        nonce: code.nonce,
        username: session.username,
        auth_time: session.auth_time,
        amr: session.amr,
        session: SecretHash::of(session_cookie),
    };
    let uri = code.redirect_uri;
    let client_state = code.state;
    Ok(Step::Redirect(
        match issue_code(&state.store, &grant, state.settings.authorization_code_ttl).await {
            Ok(code) => {
                let mut params = vec![("code", code)];
                if let Some(s) = client_state {
                    params.push(("state", s));
                }
                Redirect {
                    uri,
                    params,
                    after_post,
                }
            }
            Err(_) => Redirect::error(
                &uri,
                client_state.as_deref(),
                "temporarily_unavailable",
                "please try again",
                after_post,
            ),
        },
    ))
}
