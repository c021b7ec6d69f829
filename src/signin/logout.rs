//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2, §3).

use super::step::{PageError, Redirect, Step};
use crate::sessions::end_login_session;
use crate::state::AppState;

/// A logout request's parameters as received (query or form).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogoutRequest<'a> {
    /// `client_id`.
    pub client_id: Option<&'a str>,
    /// `id_token_hint`: one of our ID tokens, naming the client by its `aud`.
    pub id_token_hint: Option<&'a str>,
    /// `post_logout_redirect_uri`, compared exactly with the client's registered ones.
    pub post_logout_redirect_uri: Option<&'a str>,
    /// `state`, echoed on the redirect.
    pub state: Option<&'a str>,
}

/// Ends the login session behind `session_cookie`, revoking the refresh-token families it
/// opened, and returns to `post_logout_redirect_uri` only when it is registered for the client
/// named by `client_id` or the `id_token_hint`'s audience.
///
/// # Errors
/// [`PageError::UnregisteredLogoutUri`], [`PageError::LogoutNeedsClient`], or
/// [`PageError::Unavailable`]; then the session is untouched.
pub async fn logout(
    state: &AppState,
    req: LogoutRequest<'_>,
    session_cookie: Option<&str>,
) -> Result<Step, PageError> {
    let client_id = req.client_id.map(str::to_owned).or_else(|| {
        req.id_token_hint
            .and_then(|t| state.tokens.id_token_audience(t))
    });
    let target = match (req.post_logout_redirect_uri, &client_id) {
        (None, _) => None,
        (Some(uri), Some(id)) => match state.clients.get(id).await? {
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
                    after_post: false,
                })
            }
            _ => return Err(PageError::UnregisteredLogoutUri),
        },
        (Some(_), None) => return Err(PageError::LogoutNeedsClient),
    };
    if let Some(cookie) = session_cookie {
        let revoked = end_login_session(&state.store, cookie).await?;
        tracing::info!(target: "audit", event = "logout", revoked);
    }
    Ok(Step::SignedOut(target))
}
