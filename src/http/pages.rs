//! The hosted pages over HTTP: the sign-in steps ([`render`]) and [`PageError`] (its
//! `ResponseError` impl, so handlers use `?`) as pages, rendered in the request's language by
//! [`render_pages`] (templates and words: `crate::ui`), with the security headers every page
//! carries, the cookies and the redirects back to the client. Notices and errors are named here
//! by their message ids, once.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};
use minijinja::{context, Value};
use serde::Serialize;
use std::future::Future;

use crate::sessions::AUTH_REQUEST_TTL;
use crate::signin::{Notice, Outcome, PageError, Pending, Redirect, ScopeChoice, Step};
use crate::state::AppState;
use crate::store::Client;

/// The session cookie's base name (the server side is a `sessions::LoginSession`).
pub(super) const SESSION_COOKIE: &str = "tessera-session";
/// The CSRF cookie's base name (double submit with the forms' `csrf` field).
pub(super) const CSRF_COOKIE: &str = "tessera-csrf";

/// A page to show: its template and context, rendered in the request's language by
/// [`render_pages`] (the one place that sees both the page and the request, so error pages
/// rendered by `ResponseError` get the language too). `ui_locales` is the authorization
/// request's (OIDC Core §3.1.2.1), when the page belongs to one.
pub(super) struct Html {
    template: &'static str,
    context: Value,
    ui_locales: Option<String>,
    /// The origin of a client's `logo_uri` the page shows (CSP `img-src`).
    image_origin: Option<String>,
}

impl Html {
    /// Template `template` with `context`.
    pub(super) fn new(template: &'static str, context: Value) -> Self {
        Self {
            template,
            context,
            ui_locales: None,
            image_origin: None,
        }
    }

    /// The page shows `client`'s logo: its origin joins the CSP `img-src`.
    fn showing(mut self, client: &Client) -> Self {
        self.image_origin = client.policy.logo_uri.as_deref().and_then(origin_of);
        self
    }

    /// The message page: `heading` and `message` are message ids (`crate::ui`).
    pub(super) fn message(heading: &'static str, message: &'static str) -> Self {
        Self::new("message.html", context! { heading, message })
    }

    fn for_request(mut self, pending: &Pending) -> Self {
        self.ui_locales = pending.request.ui_locales().map(str::to_owned);
        self
    }
}

/// A client as the pages show it: `name` is its display name (`client_name`, else the id),
/// with the display metadata of OIDC Dynamic Client Registration 1.0 §2 (`logo_uri`, shown at
/// a fixed size; `client_uri`, `policy_uri`, `tos_uri` as links), each absent when unset.
#[derive(Serialize)]
struct ClientView<'a> {
    id: &'a str,
    name: &'a str,
    logo_uri: Option<&'a str>,
    client_uri: Option<&'a str>,
    policy_uri: Option<&'a str>,
    tos_uri: Option<&'a str>,
}

impl<'a> ClientView<'a> {
    fn of(client: &'a Client) -> Self {
        let policy = &client.policy;
        Self {
            id: &client.client_id,
            name: client.display_name(),
            logo_uri: policy.logo_uri.as_deref(),
            client_uri: policy.client_uri.as_deref(),
            policy_uri: policy.policy_uri.as_deref(),
            tos_uri: policy.tos_uri.as_deref(),
        }
    }
}

/// What a page asking the user to grant a client access shows and posts: the consent page and
/// the device approval page.
/// `scopes` lists the request's scopes, each marked new or already granted (OIDC Core
/// §3.1.2.4); `any_granted` when some were granted before (the page then says which are new).
#[derive(Serialize)]
struct Grant<'a> {
    client_id: &'a str,
    client: ClientView<'a>,
    username: &'a str,
    scopes: Vec<Value>,
    any_granted: bool,
    request_id: &'a str,
    csrf: &'a str,
}

impl<'a> Grant<'a> {
    fn of(
        pending: &'a Pending,
        client: &'a Client,
        username: &'a str,
        scopes: &'a [ScopeChoice],
    ) -> Value {
        Value::from_serialize(Self {
            client_id: &client.client_id,
            client: ClientView::of(client),
            username,
            scopes: scopes
                .iter()
                .map(|s| context! { scope => &s.scope, new => s.new })
                .collect(),
            any_granted: scopes.iter().any(|s| !s.new),
            request_id: &pending.id,
            csrf: &pending.request.csrf,
        })
    }
}

/// A page with a heading and a message (message ids).
pub(super) fn message(
    status: StatusCode,
    heading: &'static str,
    message: &'static str,
) -> HttpResponse {
    page(status, None, Html::message(heading, message))
}

/// An HTML response with the security headers every page carries. `form_target` is the origin
/// a form on this page may end up redirecting to (CSP `form-action` also governs redirects).
pub(super) fn page(status: StatusCode, form_target: Option<&str>, html: Html) -> HttpResponse {
    let form_action = match form_target {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".into(),
    };
    let mut response = HttpResponse::build(status);
    secure_headers(&mut response, &form_action, html.image_origin.as_deref());
    let mut response = response.content_type("text/html; charset=utf-8").finish();
    response.extensions_mut().insert(html);
    response
}

/// Middleware rendering the [`Html`] a response carries, in the language of the request
/// (`crate::ui::Ui::language`), with `Content-Language` (RFC 9110 §8.5). A template that fails
/// to render (only an operator's override can) is logged and answered 503.
pub fn render_pages<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let fut = srv.call(req);
    async move {
        let mut res = fut.await?;
        // Only a page pays for this: the request is read after the answer carries one.
        let Some(html) = res.response_mut().extensions_mut().remove::<Html>() else {
            return Ok(res.map_into_left_body());
        };
        let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
            return Ok(res.map_into_left_body());
        };
        let ui = &state.ui;
        let accept = res.request().headers().get(header::ACCEPT_LANGUAGE);
        let accept = accept.and_then(|v| v.to_str().ok());
        let language = ui.language(html.ui_locales.as_deref(), accept);
        let body = ui.render(html.template, language, html.context);
        Ok(res.map_body(|head, _| match body {
            Ok(body) => {
                if let Ok(tag) = header::HeaderValue::from_str(&ui.tag(language)) {
                    head.headers.insert(header::CONTENT_LANGUAGE, tag);
                }
                EitherBody::right(BoxBody::new(body))
            }
            Err(e) => {
                tracing::error!(error = %e, template = html.template, "template rendering failed");
                head.status = StatusCode::SERVICE_UNAVAILABLE;
                head.headers.remove(header::CONTENT_TYPE);
                EitherBody::right(BoxBody::new(()))
            }
        }))
    }
}

/// The headers of every page and redirect: the CSP (`form-action` as given; `img-src` ours,
/// `data:` for the TOTP QR code, and `image_origin` for a client's logo), no framing, no
/// referrer, no sniffing, no caching.
fn secure_headers(
    response: &mut HttpResponseBuilder,
    form_action: &str,
    image_origin: Option<&str>,
) {
    let image = image_origin.map(|o| format!(" {o}")).unwrap_or_default();
    response
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:{image}; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
            ),
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
}

fn origin_of(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
}

/// Cookie names: `__Host-` prefix (RFC 6265bis §4.1.3.2) when the cookies are `Secure`.
fn cookie_name(state: &AppState, base: &'static str) -> String {
    if state.settings.cookie_secure {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

pub(super) fn cookie<'c>(
    state: &AppState,
    base: &'static str,
    value: String,
    max_age: u64,
    same_site: SameSite,
) -> Cookie<'c> {
    Cookie::build(cookie_name(state, base), value)
        .path("/")
        .http_only(true)
        .secure(state.settings.cookie_secure)
        .same_site(same_site)
        .max_age(actix_web::cookie::time::Duration::seconds(
            i64::try_from(max_age).unwrap_or(i64::MAX),
        ))
        .finish()
}

/// The value of cookie `base` on the request.
pub(super) fn cookie_value(
    state: &AppState,
    req: &HttpRequest,
    base: &'static str,
) -> Option<String> {
    req.cookie(&cookie_name(state, base))
        .map(|c| c.value().to_owned())
}

/// The status and the message id of a notice.
fn notice_text(notice: Notice) -> (StatusCode, &'static str) {
    match notice {
        Notice::MissingCredentials => (StatusCode::BAD_REQUEST, "notice-missing-credentials"),
        Notice::InvalidCredentials => (StatusCode::BAD_REQUEST, "notice-invalid-credentials"),
        Notice::TooManyAttempts => (StatusCode::TOO_MANY_REQUESTS, "notice-too-many-attempts"),
        Notice::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "notice-unavailable"),
        Notice::InvalidCode => (StatusCode::BAD_REQUEST, "notice-invalid-code"),
        Notice::InvalidUserCode => (StatusCode::BAD_REQUEST, "notice-invalid-user-code"),
        Notice::PasskeyRefused => (StatusCode::BAD_REQUEST, "notice-passkey-refused"),
    }
}

/// The status and the message id of an optional notice (200 and none without one).
fn notice_status(notice: Option<Notice>) -> (StatusCode, Option<&'static str>) {
    match notice.map(notice_text) {
        Some((status, text)) => (status, Some(text)),
        None => (StatusCode::OK, None),
    }
}

/// A form page of `pending`, with its CSRF cookie. `form-action` allows the request's redirect
/// origin, because the form's answer may redirect there.
fn form_page(
    state: &AppState,
    pending: &Pending,
    notice: Option<Notice>,
    body: impl FnOnce(Option<&'static str>) -> Html,
) -> HttpResponse {
    let (status, error) = notice_status(notice);
    let origin = pending.request.redirect_uri().and_then(origin_of);
    let html = body(error).for_request(pending);
    let mut response = page(status, origin.as_deref(), html);
    let csrf = cookie(
        state,
        CSRF_COOKIE,
        pending.request.csrf.clone(),
        AUTH_REQUEST_TTL,
        SameSite::Strict,
    );
    let _ = response.add_cookie(&csrf);
    response
}

/// Redirects the browser (RFC 6749 §4.1.2: `params` added to the URI's query), with `iss`
/// (RFC 9207) when it answers an authorization request.
fn redirect(state: &AppState, to: &Redirect, with_iss: bool) -> HttpResponse {
    let Ok(mut url) = url::Url::parse(&to.uri) else {
        return PageError::InvalidRedirectUri.error_response();
    };
    if !to.params.is_empty() || with_iss {
        let mut query = url.query_pairs_mut();
        for (k, v) in &to.params {
            query.append_pair(k, v);
        }
        if with_iss {
            query.append_pair("iss", &state.settings.issuer);
        }
    }
    let status = if to.after_post {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    let mut response = HttpResponse::build(status);
    secure_headers(&mut response, "'self'", None);
    response
        .insert_header((header::LOCATION, url.to_string()))
        .finish()
}

/// Renders a sign-in step, setting the new session cookie when one was opened.
pub(super) fn render(state: &AppState, outcome: Outcome) -> HttpResponse {
    let mut response = match outcome.step {
        Step::Login {
            pending,
            client,
            username,
            notice,
        } => form_page(state, &pending, notice, |error| {
            let context = context! {
                client_id => &client.client_id,
                client => ClientView::of(&client),
                request_id => &pending.id,
                csrf => &pending.request.csrf,
                username,
                error,
                passkeys => state.settings.relying_party.is_some(),
            };
            Html::new("login.html", context).showing(&client)
        }),
        Step::SecondFactor {
            pending,
            factors,
            notice,
        } => form_page(state, &pending, notice, |error| {
            let context = context! {
                request_id => &pending.id,
                csrf => &pending.request.csrf,
                error,
                factors => context! { totp => factors.totp, passkey => factors.passkey },
            };
            Html::new("mfa.html", context)
        }),
        Step::Consent {
            pending,
            client,
            username,
            scopes,
        } => form_page(state, &pending, None, |_| {
            let grant = Grant::of(&pending, &client, &username, &scopes);
            Html::new("consent.html", context! { grant }).showing(&client)
        }),
        Step::DeviceCode { user_code, notice } => {
            let (status, error) = notice_status(notice);
            page(
                status,
                None,
                Html::new("device.html", context! { user_code, error }),
            )
        }
        Step::DeviceApproval {
            pending,
            client,
            username,
            scopes,
            user_code,
        } => form_page(state, &pending, None, |_| {
            let grant = Grant::of(&pending, &client, &username, &scopes);
            Html::new("device_approve.html", context! { grant, user_code }).showing(&client)
        }),
        Step::DeviceDone { approved } => {
            let (heading, message) = if approved {
                ("device-connected-heading", "device-connected")
            } else {
                ("device-denied-heading", "device-denied")
            };
            page(StatusCode::OK, None, Html::message(heading, message))
        }
        Step::Redirect(to) => redirect(state, &to, true),
        Step::ConfirmLogout(confirmation) => {
            // CSP form-action also governs the redirect the form's answer makes.
            let target = confirmation.post_logout_redirect_uri.as_deref();
            let origin = target.and_then(origin_of);
            let confirmation = context! {
                token => &confirmation.token,
                client_id => &confirmation.client_id,
                client_name => &confirmation.client_name,
                post_logout_redirect_uri => &confirmation.post_logout_redirect_uri,
                state => &confirmation.state,
            };
            let html = Html::new("logout.html", context! { confirmation });
            page(StatusCode::OK, origin.as_deref(), html)
        }
        Step::SignedOut(target) => {
            let mut response = match target {
                Some(to) => redirect(state, &to, false),
                None => page(
                    StatusCode::OK,
                    None,
                    Html::message("signed-out-heading", "signed-out"),
                ),
            };
            let mut gone = cookie(state, SESSION_COOKIE, String::new(), 0, SameSite::Lax);
            gone.make_removal();
            let _ = response.add_cookie(&gone);
            response
        }
    };
    if let Some(value) = outcome.new_session {
        let ttl = state.settings.login_session_ttl;
        let session = cookie(state, SESSION_COOKIE, value, ttl, SameSite::Lax);
        let _ = response.add_cookie(&session);
    }
    response
}

/// An error page: shown, never redirected (RFC 6749 §4.1.2.1).
impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::Forged => StatusCode::FORBIDDEN,
            PageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            PageError::Malformed(_) => "error-malformed",
            PageError::NoClient => "error-no-client",
            PageError::UnknownClient => "error-unknown-client",
            PageError::ClientGone => "error-client-gone",
            PageError::UnregisteredRedirectUri => "error-unregistered-redirect-uri",
            PageError::InvalidRedirectUri => "error-invalid-redirect-uri",
            PageError::InvalidRequestUri => "error-invalid-request-uri",
            PageError::PushRequired => "error-push-required",
            PageError::Expired => "error-expired",
            PageError::Forged => "error-forged",
            PageError::StartAgain => "error-start-again",
            PageError::TooManyCodes => "error-too-many-codes",
            PageError::SignInAgain => "error-sign-in-again",
            PageError::UnregisteredLogoutUri => "error-unregistered-logout-uri",
            PageError::DeviceCodeGone => "error-device-code-gone",
            PageError::LogoutNeedsClient => "error-logout-needs-client",
            PageError::LogoutClientMismatch => "error-logout-client-mismatch",
            PageError::PasskeysOff => "error-passkeys-off",
            PageError::Unavailable => "error-unavailable",
        };
        // The one error whose words come with the request: what was wrong with it.
        let detail = match self {
            PageError::Malformed(description) => description.as_str(),
            _ => "",
        };
        let context = context! { heading => "error-heading", message, detail };
        let mut response = page(self.status_code(), None, Html::new("message.html", context));
        if *self == PageError::Unavailable {
            // RFC 9110 §10.2.3.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}
