//! Browser sign-in over HTTP: the authorization endpoint (`GET`/`POST /oauth2/authorize`), the hosted
//! form posts (login, second factor, consent) and RP-initiated logout. Each handler parses the
//! request into the typed input of [`crate::signin`] and renders its answer ([`super::pages`]);
//! the decisions are made there.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};

use super::extract::{proof_jkt, ClientIp, ClientRequest, Params, ProofRequest};
use super::pages::{cookie_value, render, CSRF_COOKIE, SESSION_COOKIE};
use crate::error::OAuthError;
use crate::signin::{
    self, AuthorizationRequest, Credentials, FormContext, LogoutRequest, PageError,
    SecondFactorInput,
};
use crate::state::AppState;

/// A submitted page form: its body's parameters and the CSRF cookie that must match its
/// `csrf` field (double submit).
pub struct PageForm {
    params: Params,
    csrf_cookie: Option<String>,
}

impl PageForm {
    /// The form field `name`.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name)
    }

    /// The pending request and CSRF fields every page form carries.
    pub(super) fn context(&self) -> FormContext<'_> {
        FormContext {
            request_id: self.get("request_id"),
            csrf: self.get("csrf"),
            csrf_cookie: self.csrf_cookie.as_deref(),
        }
    }

    /// A yes-or-no form's answer (consent, device approval): its context, the session
    /// cookie of `req`, and whether `decision` is `yes` (anything else, or nothing, is no).
    pub(super) fn answer(
        &self,
        state: &AppState,
        req: &HttpRequest,
        yes: &str,
    ) -> (FormContext<'_>, Option<String>, bool) {
        let session = cookie_value(state, req, SESSION_COOKIE);
        (self.context(), session, self.get("decision") == Some(yes))
    }
}

impl FromRequest for PageForm {
    type Error = OAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OAuthError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let params = Params::from_request(req, payload);
        let csrf_cookie = req
            .app_data::<web::Data<AppState>>()
            .and_then(|state| cookie_value(state, req, CSRF_COOKIE));
        Box::pin(async move {
            let params = params.await?;
            Ok(Self {
                params,
                csrf_cookie,
            })
        })
    }
}

/// `GET /oauth2/authorize` (OIDC Core §3.1.2.1): the parameters in the query.
pub async fn authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let params = Params::from_query(&req)?;
    authorization_request(&state, &req, &params).await
}

/// `POST /oauth2/authorize` (OIDC Core §3.1.2.1: the server MUST support POST too): the
/// parameters form-encoded in the body, answered exactly as [`authorize`].
pub async fn authorize_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: Result<Params, OAuthError>,
) -> Result<HttpResponse, PageError> {
    authorization_request(&state, &req, &params?).await
}

async fn authorization_request(
    state: &AppState,
    req: &HttpRequest,
    params: &Params,
) -> Result<HttpResponse, PageError> {
    let request = AuthorizationRequest {
        client_id: params.get("client_id"),
        redirect_uri: params.get("redirect_uri"),
        response_type: params.get("response_type"),
        scope: params.get("scope"),
        state: params.get("state"),
        nonce: params.get("nonce"),
        code_challenge: params.get("code_challenge"),
        code_challenge_method: params.get("code_challenge_method"),
        prompt: params.get("prompt"),
        max_age: params.get("max_age"),
        acr_values: params.get("acr_values"),
        dpop_jkt: params.get("dpop_jkt"),
        request_uri: params.get("request_uri"),
        request: params.get("request"),
        response_mode: params.get("response_mode"),
        ui_locales: params.get("ui_locales"),
    };
    let session = cookie_value(state, req, SESSION_COOKIE);
    let csrf = cookie_value(state, req, CSRF_COOKIE);
    let outcome = signin::authorize(state, request, session.as_deref(), csrf.as_deref()).await?;
    Ok(render(state, outcome))
}

/// `POST /oauth2/par` (RFC 9126 §2): the authenticated client pushes its authorization
/// request; 201 with its `request_uri` and `expires_in` (§2.2), errors as at the token
/// endpoint (§2.3). A `DPoP` proof on the request binds the code to its key (RFC 9449 §10.1).
pub async fn par(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: ClientRequest,
) -> Result<HttpResponse, OAuthError> {
    let ClientRequest { params, client } = request;
    // Without a DPoP header no store call is made.
    let jkt = proof_jkt(&state, ProofRequest::of(&state, &req)).await?;
    let request_uri =
        signin::push(&state, &client, |name| params.get(name), jkt.as_deref()).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({"request_uri": request_uri, "expires_in": signin::PAR_TTL})))
}

/// `POST /oauth2/authorize/login`: the password step.
pub async fn login(
    state: web::Data<AppState>,
    form: Result<PageForm, OAuthError>,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, PageError> {
    let form = form?;
    let credentials = Credentials {
        username: form.get("username").unwrap_or(""),
        password: form.get("password").unwrap_or(""),
    };
    let outcome = signin::login(&state, form.context(), credentials, ip).await?;
    Ok(render(&state, outcome))
}

/// `POST /oauth2/authorize/mfa`: the second-factor step.
pub async fn mfa(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<PageForm, OAuthError>,
    ClientIp(ip): ClientIp,
) -> Result<HttpResponse, PageError> {
    let form = form?;
    let session = cookie_value(&state, &req, SESSION_COOKIE);
    let factor = SecondFactorInput {
        otp: form.get("otp"),
        recovery_code: form.get("recovery_code"),
    };
    let outcome =
        signin::second_factor(&state, form.context(), factor, ip, session.as_deref()).await?;
    Ok(render(&state, outcome))
}

/// `POST /oauth2/authorize/consent`: allow (`decision=allow`) or deny a third-party client.
pub async fn consent(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<PageForm, OAuthError>,
) -> Result<HttpResponse, PageError> {
    let form = form?;
    let (context, session, allow) = form.answer(&state, &req, "allow");
    let outcome = signin::consent(&state, context, session.as_deref(), allow).await?;
    Ok(render(&state, outcome))
}

/// `GET /oauth2/logout` (RP-Initiated Logout 1.0 §2: the parameters in the query).
pub async fn logout_query(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let params = Params::from_query(&req)?;
    logout(&state, &req, &params).await
}

/// `POST /oauth2/logout` (RP-Initiated Logout 1.0 §2: the parameters form-encoded).
pub async fn logout_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: Result<Params, OAuthError>,
) -> Result<HttpResponse, PageError> {
    logout(&state, &req, &params?).await
}

async fn logout(
    state: &AppState,
    req: &HttpRequest,
    params: &Params,
) -> Result<HttpResponse, PageError> {
    let request = LogoutRequest {
        client_id: params.get("client_id"),
        id_token_hint: params.get("id_token_hint"),
        post_logout_redirect_uri: params.get("post_logout_redirect_uri"),
        state: params.get("state"),
        confirm: params.get("confirm"),
    };
    let session = cookie_value(state, req, SESSION_COOKIE);
    let step = signin::logout(state, request, session.as_deref()).await?;
    Ok(render(state, step.into()))
}
