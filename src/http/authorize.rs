//! Browser sign-in: the authorization endpoint (OIDC Core §3.1.2, RFC 6749 §4.1, RFC 7636),
//! the hosted login, second-factor and consent pages, and RP-initiated logout (OpenID Connect
//! RP-Initiated Logout 1.0). Pages are server-rendered (askama), work without JavaScript, carry
//! a CSRF token (double submit: form field and cookie, both bound to the pending request) and
//! strict security headers.

use std::net::IpAddr;

use actix_web::cookie::SameSite;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use subtle::ConstantTimeEq;

use super::pages::{
    cookie, cookie_name, error_page, origin_of, page, redirect_error, redirect_to, secure_headers,
    session_cookie_value, ConsentPage, LoginPage, MessagePage, MfaPage,
};
use super::{client_ip, read_body, Params};
use crate::clock::now;
use crate::error::OAuthError;
use crate::grants::{grant_scope, require_grant};
use crate::mfa::{verify_second_factor, MFA_TOKEN_ATTEMPTS};
use crate::secret::random_token;
use crate::sessions::{
    auth_request, end_login_session, finish_auth_request, issue_code, login_session,
    open_login_session, save_auth_request, save_login_session, update_auth_request, AuthRequest,
    CodeGrant, LoginSession,
};
use crate::state::AppState;
use crate::store::{Backend, Client, User};
use crate::users::{authenticate, normalize_password, normalize_username};

/// `GET /oauth2/authorize`: validates the request; with a live login session (and no
/// `prompt=login`, and `max_age` respected) answers at once, else shows the login page.
pub async fn authorize(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let params = match Params::from_query(&req) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.description),
    };
    let Some(client_id) = params.get("client_id") else {
        return error_page(StatusCode::BAD_REQUEST, "The request names no client.");
    };
    let client = match state.clients.get(client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The application is not registered.",
            )
        }
        Err(_) => return error_page(StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly."),
    };
    // RFC 9700 §2.1: exact string match against a registered redirect URI.
    let Some(redirect_uri) = params
        .get("redirect_uri")
        .filter(|uri| client.policy.redirect_uris.iter().any(|r| r == uri))
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The redirect URI is not registered for this application.",
        );
    };
    let client_state = params.get("state");
    let fail = |code: &str, description: &str| {
        redirect_error(&state, redirect_uri, client_state, code, description, false)
    };
    if params.get("response_type") != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    if let Err(e) = require_grant(&client, "authorization_code") {
        return fail("unauthorized_client", &e.description);
    }
    let scope = match grant_scope(&client, params.get("scope")) {
        Ok(scope) => scope,
        Err(e) => return fail("invalid_scope", &e.description),
    };
    // RFC 7636 §4.3 and RFC 9700 §2.1.1: PKCE with S256 for every client; plain is refused.
    let challenge = params.get("code_challenge");
    let method = params.get("code_challenge_method");
    let Some(code_challenge) = challenge.filter(|c| {
        c.len() == 43
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) else {
        return fail(
            "invalid_request",
            "PKCE is required: send code_challenge (S256)",
        );
    };
    if method != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    let prompt: Vec<&str> = params.get("prompt").unwrap_or("").split(' ').collect();
    let max_age = match params.get("max_age").map(str::parse::<u64>) {
        None => None,
        Some(Ok(age)) => Some(age),
        Some(Err(_)) => return fail("invalid_request", "max_age must be a number of seconds"),
    };
    let request = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: client_state.map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        csrf: random_token(),
        mfa_user: None,
    };
    let session_cookie = session_cookie_value(&state, &req);
    let session = match &session_cookie {
        Some(cookie) => match login_session(&state.store, cookie).await {
            Ok(session) => session,
            Err(_) => return fail("temporarily_unavailable", "please try again shortly"),
        },
        None => None,
    };
    // OIDC Core §3.1.2.1: prompt=login and max_age force re-authentication.
    let fresh_enough =
        |s: &LoginSession| max_age.is_none_or(|age| now().saturating_sub(s.auth_time) <= age);
    if let (Some(cookie), Some(session)) = (&session_cookie, session) {
        if !prompt.contains(&"login") && fresh_enough(&session) {
            return finish(&state, &client, request, None, cookie, session, false).await;
        }
    }
    if prompt.contains(&"none") {
        return fail("login_required", "the user is not signed in");
    }
    show_login(&state, request, &client).await
}

async fn show_login(state: &AppState, request: AuthRequest, client: &Client) -> HttpResponse {
    let request_id = match save_auth_request(&state.store, &request).await {
        Ok(id) => id,
        Err(_) => return error_page(StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly."),
    };
    let mut response = page(
        StatusCode::OK,
        origin_of(&request.redirect_uri).as_deref(),
        LoginPage {
            client_id: &client.client_id,
            request_id: &request_id,
            csrf: &request.csrf,
            username: "",
            error: None,
        }
        .render(),
    );
    let csrf = cookie(
        state,
        "tessera-csrf",
        request.csrf.clone(),
        crate::sessions::AUTH_REQUEST_TTL,
        SameSite::Strict,
    );
    let _ = response.add_cookie(&csrf);
    response
}

/// The pending request a form belongs to, after the CSRF check (form field and cookie must
/// both equal the token stored with the request).
async fn form_request(
    state: &AppState,
    req: &HttpRequest,
    params: &Params,
) -> Result<(String, AuthRequest), HttpResponse> {
    let expired = || {
        error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in request has expired or is invalid. Please start again from the application.",
        )
    };
    let request_id = params.get("request_id").ok_or_else(expired)?;
    let request = auth_request(&state.store, request_id)
        .await
        .map_err(|_| error_page(StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly."))?
        .ok_or_else(expired)?;
    let form_csrf = params.get("csrf").unwrap_or("");
    let cookie_csrf = req
        .cookie(&cookie_name(state, "tessera-csrf"))
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let same = |a: &str| bool::from(a.as_bytes().ct_eq(request.csrf.as_bytes()));
    if !(same(form_csrf) && same(&cookie_csrf)) {
        tracing::warn!(target: "audit", event = "csrf_rejected", client_id = %request.client_id);
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "The form could not be verified. Please start again from the application.",
        ));
    }
    Ok((request_id.to_owned(), request))
}

async fn form_params(req: &HttpRequest, mut payload: web::Payload) -> Result<Params, HttpResponse> {
    let body = read_body(&mut payload)
        .await
        .map_err(|e| error_page(StatusCode::BAD_REQUEST, &e.description))?;
    Params::parse(req, &body).map_err(|e| error_page(StatusCode::BAD_REQUEST, &e.description))
}

async fn request_client(
    state: &AppState,
    request: &AuthRequest,
) -> Result<std::sync::Arc<Client>, HttpResponse> {
    match state.clients.get(&request.client_id).await {
        Ok(Some(client)) => Ok(client),
        Ok(None) => Err(error_page(
            StatusCode::BAD_REQUEST,
            "The application is no longer registered.",
        )),
        Err(_) => Err(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Please try again shortly.",
        )),
    }
}

/// A submitted page form: its parameters, the pending request it belongs to (CSRF-checked)
/// and that request's client.
struct PageForm {
    params: Params,
    request_id: String,
    request: AuthRequest,
    client: std::sync::Arc<Client>,
}

async fn page_form(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<PageForm, HttpResponse> {
    let params = form_params(req, payload).await?;
    let (request_id, request) = form_request(state, req, &params).await?;
    let client = request_client(state, &request).await?;
    Ok(PageForm {
        params,
        request_id,
        request,
        client,
    })
}

/// `POST /oauth2/authorize/login`: the password step, with the same checks, limits and audit
/// events as the password grant.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let PageForm {
        params,
        request_id,
        mut request,
        client,
    } = match page_form(&state, &req, payload).await {
        Ok(form) => form,
        Err(page) => return page,
    };
    let typed_username = params.get("username").unwrap_or("");
    let retry = |status: StatusCode, message: &str| {
        page(
            status,
            origin_of(&request.redirect_uri).as_deref(),
            LoginPage {
                client_id: &client.client_id,
                request_id: &request_id,
                csrf: &request.csrf,
                username: typed_username,
                error: Some(message),
            }
            .render(),
        )
    };
    let (Ok(username), Ok(password)) = (
        normalize_username(typed_username),
        normalize_password(params.get("password").unwrap_or("")),
    ) else {
        return retry(StatusCode::BAD_REQUEST, "Enter your username and password.");
    };
    let ip = client_ip(&state, &req);
    if let Err(e) = state.limiter.check_login(&username, ip).await {
        return retry(
            e.status(),
            "Too many attempts. Please wait a moment and try again.",
        );
    }
    let user = match authenticate(&state.store, &state.hasher, &username, password).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::info!(target: "audit", event = "login_failure", client_id = %client.client_id, %ip);
            return retry(StatusCode::BAD_REQUEST, "Invalid username or password.");
        }
        Err(e) => {
            let e: OAuthError = e.into();
            return retry(
                e.status(),
                "Sign-in is temporarily unavailable. Please try again.",
            );
        }
    };
    if state.limiter.login_succeeded(&username, ip).await.is_err() {
        return retry(StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly.");
    }
    if user.totp.is_some() {
        request.mfa_user = Some(user.username.clone());
        if update_auth_request(&state.store, &request_id, &request)
            .await
            .is_err()
        {
            return retry(StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly.");
        }
        return mfa_page(&request_id, &request, None, StatusCode::OK);
    }
    signed_in(&state, &client, request_id, request, &user, "pwd").await
}

fn mfa_page(
    request_id: &str,
    request: &AuthRequest,
    error: Option<&str>,
    status: StatusCode,
) -> HttpResponse {
    page(
        status,
        origin_of(&request.redirect_uri).as_deref(),
        MfaPage {
            request_id,
            csrf: &request.csrf,
            error,
        }
        .render(),
    )
}

/// `POST /oauth2/authorize/mfa`: the second step, with the same replay protection as the
/// mfa-otp grant; five wrong codes end the request.
pub async fn mfa(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let PageForm {
        params,
        request_id,
        request,
        client,
    } = match page_form(&state, &req, payload).await {
        Ok(form) => form,
        Err(page) => return page,
    };
    let Some(username) = request.mfa_user.clone() else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Please start again from the application.",
        );
    };
    let ip: IpAddr = client_ip(&state, &req);
    if let Err(e) = state.limiter.check_ip(ip).await {
        return mfa_page(
            &request_id,
            &request,
            Some("Too many attempts. Please wait a moment."),
            e.status(),
        );
    }
    let user = match state.store.user(&username).await {
        Ok(Some(user)) if !user.disabled => user,
        Ok(_) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Please start again from the application.",
            )
        }
        Err(_) => {
            return mfa_page(
                &request_id,
                &request,
                Some("Please try again shortly."),
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    };
    let verified = verify_second_factor(
        &state.store,
        &state.data_key,
        &user,
        params.get("otp"),
        params.get("recovery_code"),
    )
    .await;
    match verified {
        Ok(factor) => {
            let amr = format!("pwd {factor}");
            signed_in(&state, &client, request_id, request, &user, &amr).await
        }
        Err(_) => {
            tracing::info!(target: "audit", event = "mfa_failure", sub = %user.sub, %ip);
            let failures =
                crate::sessions::auth_request_failed(&state.store, &request_id, MFA_TOKEN_ATTEMPTS)
                    .await
                    .unwrap_or(MFA_TOKEN_ATTEMPTS);
            if failures == 0 || failures >= MFA_TOKEN_ATTEMPTS {
                let _ = finish_auth_request(&state.store, &request_id).await;
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "Too many wrong codes. Please start again from the application.",
                );
            }
            mfa_page(
                &request_id,
                &request,
                Some("That code is not valid."),
                StatusCode::BAD_REQUEST,
            )
        }
    }
}

/// The user has authenticated: open a login session (cookie) and continue the request.
async fn signed_in(
    state: &AppState,
    client: &Client,
    request_id: String,
    request: AuthRequest,
    user: &User,
    amr: &str,
) -> HttpResponse {
    let session = LoginSession {
        username: user.username.clone(),
        sub: user.sub.clone(),
        auth_time: now(),
        amr: amr.to_owned(),
        consented: Vec::new(),
    };
    let cookie_value =
        match open_login_session(&state.store, &session, state.settings.login_session_ttl).await {
            Ok(c) => c,
            Err(_) => {
                return error_page(StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly.")
            }
        };
    tracing::info!(target: "audit", event = "browser_login", sub = %user.sub, client_id = %client.client_id, amr);
    let mut response = finish(
        state,
        client,
        request,
        Some(request_id),
        &cookie_value,
        session,
        true,
    )
    .await;
    let session_cookie = cookie(
        state,
        "tessera-session",
        cookie_value,
        state.settings.login_session_ttl,
        SameSite::Lax,
    );
    let _ = response.add_cookie(&session_cookie);
    response
}

/// A signed-in user: ask for consent (third-party clients), else issue the code.
async fn finish(
    state: &AppState,
    client: &Client,
    request: AuthRequest,
    request_id: Option<String>,
    session_cookie: &str,
    session: LoginSession,
    after_post: bool,
) -> HttpResponse {
    if client.policy.third_party && !session.consented.contains(&client.client_id) {
        let request_id = match request_id {
            Some(id) => id,
            None => match save_auth_request(&state.store, &request).await {
                Ok(id) => id,
                Err(_) => {
                    return error_page(StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly.")
                }
            },
        };
        let mut response = page(
            StatusCode::OK,
            origin_of(&request.redirect_uri).as_deref(),
            ConsentPage {
                client_id: &client.client_id,
                username: &session.username,
                scopes: request.scope.split(' ').filter(|s| !s.is_empty()).collect(),
                request_id: &request_id,
                csrf: &request.csrf,
            }
            .render(),
        );
        let csrf = cookie(
            state,
            "tessera-csrf",
            request.csrf.clone(),
            crate::sessions::AUTH_REQUEST_TTL,
            SameSite::Strict,
        );
        let _ = response.add_cookie(&csrf);
        return response;
    }
    if let Some(id) = &request_id {
        let _ = finish_auth_request(&state.store, id).await;
    }
    let grant = CodeGrant {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge,
        scope: request.scope,
        nonce: request.nonce,
        username: session.username,
        auth_time: session.auth_time,
        amr: session.amr,
        session: crate::secret::SecretHash::of(session_cookie),
    };
    let code = match issue_code(&state.store, &grant, state.settings.authorization_code_ttl).await {
        Ok(code) => code,
        Err(_) => {
            return redirect_error(
                state,
                &request.redirect_uri,
                request.state.as_deref(),
                "temporarily_unavailable",
                "please try again",
                after_post,
            )
        }
    };
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &request.state {
        params.push(("state", s));
    }
    redirect_to(state, &request.redirect_uri, &params, after_post)
}

/// `POST /oauth2/authorize/consent`: the user allows or denies a third-party client.
pub async fn consent(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let PageForm {
        params,
        request_id,
        request,
        client,
    } = match page_form(&state, &req, payload).await {
        Ok(form) => form,
        Err(page) => return page,
    };
    let Some(cookie_value) = session_cookie_value(&state, &req) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Please sign in again from the application.",
        );
    };
    let Ok(Some(mut session)) = login_session(&state.store, &cookie_value).await else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Please sign in again from the application.",
        );
    };
    if params.get("decision") != Some("allow") {
        let _ = finish_auth_request(&state.store, &request_id).await;
        tracing::info!(target: "audit", event = "consent_denied", sub = %session.sub, client_id = %client.client_id);
        return redirect_error(
            &state,
            &request.redirect_uri,
            request.state.as_deref(),
            "access_denied",
            "the user denied access",
            true,
        );
    }
    session.consented.push(client.client_id.clone());
    if save_login_session(
        &state.store,
        &cookie_value,
        &session,
        state.settings.login_session_ttl,
    )
    .await
    .is_err()
    {
        return error_page(StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly.");
    }
    tracing::info!(target: "audit", event = "consent_granted", sub = %session.sub, client_id = %client.client_id);
    finish(
        &state,
        &client,
        request,
        Some(request_id),
        &cookie_value,
        session,
        true,
    )
    .await
}

/// `GET`/`POST /oauth2/logout` (RP-Initiated Logout 1.0 §2): ends the login session, revokes
/// the refresh-token families it opened, and returns to `post_logout_redirect_uri` only when it
/// is registered for the client named by `client_id` or the `id_token_hint`'s audience.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = if req.method() == actix_web::http::Method::POST {
        form_params(&req, payload).await
    } else {
        Params::from_query(&req).map_err(|e| error_page(StatusCode::BAD_REQUEST, &e.description))
    };
    let params = match params {
        Ok(p) => p,
        Err(page) => return page,
    };
    let client_id = params.get("client_id").map(str::to_owned).or_else(|| {
        params
            .get("id_token_hint")
            .and_then(|t| state.tokens.id_token_audience(t))
    });
    let target = match (params.get("post_logout_redirect_uri"), &client_id) {
        (None, _) => None,
        (Some(uri), Some(id)) => match state.clients.get(id).await {
            Ok(Some(client))
                if client
                    .policy
                    .post_logout_redirect_uris
                    .iter()
                    .any(|u| u == uri) =>
            {
                Some(uri.to_owned())
            }
            Ok(_) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "The post-logout redirect URI is not registered.",
                )
            }
            Err(_) => {
                return error_page(StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly.")
            }
        },
        (Some(_), None) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Name the application (client_id or id_token_hint).",
            )
        }
    };
    if let Some(cookie_value) = session_cookie_value(&state, &req) {
        match end_login_session(&state.store, &cookie_value).await {
            Ok(revoked) => tracing::info!(target: "audit", event = "logout", revoked),
            Err(_) => {
                return error_page(StatusCode::SERVICE_UNAVAILABLE, "Please try again shortly.")
            }
        }
    }
    let mut response = match target {
        Some(uri) => {
            let state_param = params.get("state");
            let mut url = match url::Url::parse(&uri) {
                Ok(url) => url,
                Err(_) => {
                    return error_page(StatusCode::BAD_REQUEST, "The redirect URI is invalid.")
                }
            };
            if let Some(s) = state_param {
                url.query_pairs_mut().append_pair("state", s);
            }
            let mut response = HttpResponse::build(StatusCode::FOUND);
            secure_headers(&mut response, "'self'");
            response
                .insert_header((header::LOCATION, url.to_string()))
                .finish()
        }
        None => page(
            StatusCode::OK,
            None,
            MessagePage {
                heading: "Signed out",
                message: "You are signed out.",
            }
            .render(),
        ),
    };
    let mut gone = cookie(&state, "tessera-session", String::new(), 0, SameSite::Lax);
    gone.make_removal();
    let _ = response.add_cookie(&gone);
    response
}
