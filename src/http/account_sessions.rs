//! The account page's sessions section (form posts): end one session, or every session of
//! the user. The list itself is [`crate::session_list`]; ending a session revokes its
//! refresh-token family, which queues its back-channel logout notices (OIDC Back-Channel
//! Logout 1.0 §2.7). Each post needs the browser's login session and the page's CSRF token.

use actix_web::{web, HttpRequest, HttpResponse};

use super::account_forms::account_or_answer;
use super::account_page::{back, unavailable};
use super::extract::Params;
use super::pages::{cookie_value, render, SESSION_COOKIE};
use crate::account::ACCOUNT_CLIENT;
use crate::sessions::end_login_session;
use crate::signin::{Outcome, Step};
use crate::state::AppState;
use crate::users::logout_all;

/// `POST /account/session/end` with `sid`: ends that session of the signed-in user (a `sid`
/// that is not theirs changes nothing), then 303 back to the page.
pub async fn end(state: web::Data<AppState>, req: HttpRequest, form: Params) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    let sid = form.get("sid").unwrap_or("");
    match crate::session_list::end(&state.store, &account.user.sub, sid, ACCOUNT_CLIENT).await {
        Ok(true) => back("session-ended"),
        Ok(false) => back("session-gone"),
        Err(_) => unavailable(),
    }
}

/// `POST /account/sign-out-everywhere`: ends every session of the user and this browser's
/// login session; answers "You are signed out."
pub async fn everywhere(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Params,
) -> HttpResponse {
    let account = account_or_answer!(state, req, form);
    if logout_all(&state.store, &account.user.sub).await.is_err() {
        return unavailable();
    }
    if let Some(cookie) = cookie_value(&state, &req, SESSION_COOKIE) {
        if end_login_session(&state.store, &cookie).await.is_err() {
            return unavailable();
        }
    }
    tracing::info!(target: "audit", event = "browser_logout", sub = %account.user.sub, page = "account", everywhere = true);
    render(&state, Outcome::from(Step::SignedOut(None)))
}
