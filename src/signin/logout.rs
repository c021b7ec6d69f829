//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2, §3).

use subtle::ConstantTimeEq;

use super::step::{LogoutConfirmation, PageError, Redirect, Step};
use crate::secret::SecretHash;
use crate::sessions::{end_login_session, login_session};
use crate::state::AppState;

/// A logout request's parameters as received (query or form). No `Debug`: the
/// `id_token_hint` is a token.
#[derive(Default, Clone, Copy)]
pub struct LogoutRequest<'a> {
    /// `client_id`.
    pub client_id: Option<&'a str>,
    /// `id_token_hint`: one of our ID tokens, naming the client by its `aud`.
    pub id_token_hint: Option<&'a str>,
    /// `post_logout_redirect_uri`, compared exactly with the client's registered ones.
    pub post_logout_redirect_uri: Option<&'a str>,
    /// `state`, echoed on the redirect.
    pub state: Option<&'a str>,
    /// `confirm`: the confirmation form's token (see [`Step::ConfirmLogout`]).
    pub confirm: Option<&'a str>,
}

/// The confirmation token of the login session behind `session_cookie`: a domain-separated
/// hash of the cookie, so only a page that was sent the cookie's session can post it (CSRF).
fn confirmation_token(session_cookie: &str) -> String {
    SecretHash::of(&format!("logout-confirmation:{session_cookie}"))
        .as_str()
        .to_owned()
}

/// Ends the login session behind `session_cookie`, revoking the refresh-token families it
/// opened, and returns to `post_logout_redirect_uri` only when it is registered for the client
/// named by `client_id` or the `id_token_hint`'s audience. Without an `id_token_hint` for this
/// session's user, or the confirmation form's token, the user is asked first
/// ([`Step::ConfirmLogout`]; RP-Initiated Logout 1.0 §2: a cross-site link cannot sign a
/// user out).
///
/// # Errors
/// [`PageError::LogoutClientMismatch`] when `client_id` is not the `id_token_hint`'s audience,
/// [`PageError::UnregisteredLogoutUri`], [`PageError::LogoutNeedsClient`], or
/// [`PageError::Unavailable`]; then the session is untouched.
pub async fn logout(
    state: &AppState,
    req: LogoutRequest<'_>,
    session_cookie: Option<&str>,
) -> Result<Step, PageError> {
    let hint = req
        .id_token_hint
        .and_then(|t| state.tokens.id_token_hint(t));
    // RP-Initiated Logout 1.0 §2: with both, the client_id must be the hint's audience; a
    // mismatch is refused outright, whichever of the two a redirect would trust.
    if let (Some(id), Some(hint)) = (req.client_id, &hint) {
        if hint.aud != id {
            tracing::info!(target: "audit", event = "logout_refused", client_id = %id);
            return Err(PageError::LogoutClientMismatch);
        }
    }
    let client_id = req
        .client_id
        .map(str::to_owned)
        .or_else(|| hint.as_ref().map(|h| h.aud.clone()));
    let client = match &client_id {
        Some(id) => state.clients.get(id).await?,
        None => None,
    };
    let target = match (req.post_logout_redirect_uri, &client_id) {
        (None, _) => None,
        (Some(uri), Some(_)) => match &client {
            Some(client)
                if client
                    .policy
                    .post_logout_redirect_uris
                    .iter()
                    .any(|u| u == uri) =>
            {
                let mut params = Vec::new();
                if let Some(s) = req.state {
                    params.push(("state", s.to_owned()));
                }
                Some(Redirect {
                    uri: uri.to_owned(),
                    params,
                    after_post: req.confirm.is_some(),
                })
            }
            _ => return Err(PageError::UnregisteredLogoutUri),
        },
        (Some(_), None) => return Err(PageError::LogoutNeedsClient),
    };
    if let Some(cookie) = session_cookie {
        if let Some(session) = login_session(&state.store, cookie).await? {
            let token = confirmation_token(cookie);
            let confirmed = req
                .confirm
                .is_some_and(|c| bool::from(c.as_bytes().ct_eq(token.as_bytes())));
            let hinted = hint.is_some_and(|h| h.sub == session.sub);
            if !(confirmed || hinted) {
                return Ok(Step::ConfirmLogout(LogoutConfirmation {
                    token,
                    client_name: client.as_ref().map(|c| c.display_name().to_owned()),
                    client_id,
                    post_logout_redirect_uri: target.as_ref().map(|t| t.uri.clone()),
                    state: req.state.map(str::to_owned),
                }));
            }
        }
        let revoked = end_login_session(&state.store, cookie).await?;
        tracing::info!(target: "audit", event = "logout", revoked);
    }
    Ok(Step::SignedOut(target))
}
