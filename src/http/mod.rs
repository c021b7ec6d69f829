//! The HTTP layer: parse requests into typed values, call the grants, render responses. One file
//! per endpoint family.

mod account;
mod admin;
mod authorize;
mod cors;
mod discovery;
mod health;
mod introspect;
mod metrics;
mod pages;
mod revoke;
mod token;
mod userinfo;

use std::collections::HashMap;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{web, HttpRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tracing::Instrument;

use crate::clients::PresentedClient;
use crate::error::OAuthError;
use crate::state::AppState;
use crate::store::Backend;
use crate::tokens::AccessClaims;

/// Largest accepted request body, bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Paths of the endpoints, relative to the issuer.
pub mod paths {
    /// RFC 6749 §3.1 authorization endpoint.
    pub const AUTHORIZE: &str = "/oauth2/authorize";
    /// Hosted login page: the password step.
    pub const AUTHORIZE_LOGIN: &str = "/oauth2/authorize/login";
    /// Hosted login page: the second-factor step.
    pub const AUTHORIZE_MFA: &str = "/oauth2/authorize/mfa";
    /// Hosted consent page.
    pub const AUTHORIZE_CONSENT: &str = "/oauth2/authorize/consent";
    /// RP-Initiated Logout 1.0 end-session endpoint.
    pub const LOGOUT: &str = "/oauth2/logout";
    /// Stylesheet of the hosted pages.
    pub const STYLESHEET: &str = "/assets/tessera.css";
    /// RFC 6749 §3.2 token endpoint.
    pub const TOKEN: &str = "/oauth2/token";
    /// RFC 7009 revocation endpoint.
    pub const REVOKE: &str = "/oauth2/revoke";
    /// RFC 7662 introspection endpoint.
    pub const INTROSPECT: &str = "/oauth2/introspect";
    /// OIDC Core §5.3 UserInfo endpoint.
    pub const USERINFO: &str = "/oauth2/userinfo";
    /// Admin API: the client collection.
    pub const ADMIN_CLIENTS: &str = "/admin/clients";
    /// Admin API: one client.
    pub const ADMIN_CLIENT: &str = "/admin/clients/{client_id}";
    /// Admin API: a client's secret.
    pub const ADMIN_CLIENT_SECRET: &str = "/admin/clients/{client_id}/secret";
    /// RFC 7517 JWK Set.
    pub const JWKS: &str = "/.well-known/jwks.json";
    /// OIDC Discovery 1.0 §4.
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    /// RFC 8414 §3.
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    /// Revokes every session of the bearer's user.
    pub const LOGOUT_ALL: &str = "/account/logout-all";
    /// TOTP enrollment: start (POST) and disable (DELETE).
    pub const MFA_TOTP: &str = "/account/mfa/totp";
    /// TOTP enrollment: confirm.
    pub const MFA_TOTP_CONFIRM: &str = "/account/mfa/totp/confirm";
    /// Prometheus metrics.
    pub const METRICS: &str = "/metrics";
    /// Liveness.
    pub const HEALTHZ: &str = "/healthz";
    /// Readiness (store reachable).
    pub const READYZ: &str = "/readyz";

    /// Every route the app serves, as (constant name, method, path); kept in step with
    /// [`super::configure`] by a unit test and checked against `openapi.yaml` by the
    /// integration tests.
    pub const ALL: &[(&str, &str, &str)] = &[
        ("AUTHORIZE", "GET", AUTHORIZE),
        ("AUTHORIZE_LOGIN", "POST", AUTHORIZE_LOGIN),
        ("AUTHORIZE_MFA", "POST", AUTHORIZE_MFA),
        ("AUTHORIZE_CONSENT", "POST", AUTHORIZE_CONSENT),
        ("LOGOUT", "GET", LOGOUT),
        ("LOGOUT", "POST", LOGOUT),
        ("STYLESHEET", "GET", STYLESHEET),
        ("TOKEN", "POST", TOKEN),
        ("TOKEN", "OPTIONS", TOKEN),
        ("REVOKE", "POST", REVOKE),
        ("REVOKE", "OPTIONS", REVOKE),
        ("INTROSPECT", "POST", INTROSPECT),
        ("USERINFO", "GET", USERINFO),
        ("USERINFO", "POST", USERINFO),
        ("USERINFO", "OPTIONS", USERINFO),
        ("ADMIN_CLIENTS", "GET", ADMIN_CLIENTS),
        ("ADMIN_CLIENTS", "POST", ADMIN_CLIENTS),
        ("ADMIN_CLIENT", "GET", ADMIN_CLIENT),
        ("ADMIN_CLIENT", "DELETE", ADMIN_CLIENT),
        ("ADMIN_CLIENT_SECRET", "POST", ADMIN_CLIENT_SECRET),
        ("JWKS", "GET", JWKS),
        ("OPENID_CONFIGURATION", "GET", OPENID_CONFIGURATION),
        ("OAUTH_METADATA", "GET", OAUTH_METADATA),
        ("LOGOUT_ALL", "POST", LOGOUT_ALL),
        ("MFA_TOTP", "POST", MFA_TOTP),
        ("MFA_TOTP", "DELETE", MFA_TOTP),
        ("MFA_TOTP_CONFIRM", "POST", MFA_TOTP_CONFIRM),
        ("METRICS", "GET", METRICS),
        ("HEALTHZ", "GET", HEALTHZ),
        ("READYZ", "GET", READYZ),
    ];
}

/// Registers every route. Each path is one resource, so a wrong method gets 405 with `Allow`
/// (RFC 9110 §15.5.6) rather than 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Routes are tried in order: the hot paths (JWKS, token, introspection) come first, the
    // patterns with parameters (admin) last.
    cfg.service(web::resource(paths::JWKS).route(web::get().to(discovery::jwks)))
        .service(web::resource(paths::AUTHORIZE).route(web::get().to(authorize::authorize)))
        .service(web::resource(paths::AUTHORIZE_LOGIN).route(web::post().to(authorize::login)))
        .service(web::resource(paths::AUTHORIZE_MFA).route(web::post().to(authorize::mfa)))
        .service(web::resource(paths::AUTHORIZE_CONSENT).route(web::post().to(authorize::consent)))
        .service(
            web::resource(paths::LOGOUT)
                .route(web::get().to(authorize::logout))
                .route(web::post().to(authorize::logout)),
        )
        .service(web::resource(paths::STYLESHEET).route(web::get().to(pages::stylesheet)))
        .service(
            web::resource(paths::TOKEN)
                .wrap_fn(cors::with_cors)
                .route(web::post().to(token::token))
                .route(web::method(actix_web::http::Method::OPTIONS).to(cors::preflight)),
        )
        .service(
            web::resource(paths::REVOKE)
                .wrap_fn(cors::with_cors)
                .route(web::post().to(revoke::revoke))
                .route(web::method(actix_web::http::Method::OPTIONS).to(cors::preflight)),
        )
        .service(web::resource(paths::INTROSPECT).route(web::post().to(introspect::introspect)))
        .service(
            web::resource(paths::USERINFO)
                .wrap_fn(cors::with_cors)
                .route(web::get().to(userinfo::userinfo))
                .route(web::post().to(userinfo::userinfo))
                .route(web::method(actix_web::http::Method::OPTIONS).to(cors::preflight)),
        )
        .service(
            web::resource(paths::OPENID_CONFIGURATION).route(web::get().to(discovery::metadata)),
        )
        .service(web::resource(paths::OAUTH_METADATA).route(web::get().to(discovery::metadata)))
        .service(web::resource(paths::LOGOUT_ALL).route(web::post().to(account::logout_all)))
        .service(
            web::resource(paths::MFA_TOTP)
                .route(web::post().to(account::start_totp))
                .route(web::delete().to(account::disable_totp)),
        )
        .service(
            web::resource(paths::MFA_TOTP_CONFIRM).route(web::post().to(account::confirm_totp)),
        )
        .service(web::resource(paths::METRICS).route(web::get().to(metrics::metrics)))
        .service(web::resource(paths::HEALTHZ).route(web::get().to(health::healthz)))
        .service(web::resource(paths::READYZ).route(web::get().to(health::readyz)))
        .service(
            web::resource(paths::ADMIN_CLIENTS)
                .route(web::get().to(admin::list))
                .route(web::post().to(admin::create)),
        )
        .service(
            web::resource(paths::ADMIN_CLIENT)
                .route(web::get().to(admin::get))
                .route(web::delete().to(admin::remove)),
        )
        .service(
            web::resource(paths::ADMIN_CLIENT_SECRET).route(web::post().to(admin::rotate_secret)),
        );
}

/// Wraps a service call in a span carrying a request id (so every log record and audit event
/// of the request names it), returns the id in `x-request-id`, records the request metrics and
/// logs one access line per request at debug level (method, path without query, status,
/// latency).
pub fn with_request_id<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + 'static
where
    S: Service<
        actix_web::dev::ServiceRequest,
        Response = ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    S::Future: 'static,
    B: 'static,
{
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let id = state
        .as_ref()
        .map_or_else(String::new, |s| s.next_request_id());
    let span = tracing::info_span!("request", request_id = %id);
    let started = std::time::Instant::now();
    // The route pattern (e.g. `/admin/clients/{client_id}`), never the raw path: bounded labels.
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let fut = {
        let _entered = span.enter();
        srv.call(req)
    };
    async move {
        let mut res = fut.await?;
        let elapsed = started.elapsed();
        if let Some(state) = state {
            let status = res.status();
            state
                .metrics
                .requests
                .with_label_values(&[route.as_str(), method.as_str(), status.as_str()])
                .inc();
            state
                .metrics
                .latency
                .with_label_values(&[route.as_str(), method.as_str()])
                .observe(elapsed.as_secs_f64());
        }
        tracing::debug!(
            method = %method,
            route = %route,
            status = res.status().as_u16(),
            elapsed_us = elapsed.as_micros() as u64,
            "request"
        );
        if let Ok(value) = HeaderValue::from_str(&id) {
            res.headers_mut()
                .insert(HeaderName::from_static("x-request-id"), value);
        }
        Ok(res)
    }
    .instrument(span)
}

/// Form-encoded fields; a repeated name is `invalid_request` (RFC 6749 §3.1, §3.2).
fn form_fields(body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut map = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if map.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter `{k}` is repeated"
            )));
        }
    }
    Ok(map)
}

/// A JSON object's members in order, duplicates kept (a map would silently keep the last).
struct JsonMembers(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for JsonMembers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = JsonMembers;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonMembers, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    members.push(entry);
                }
                Ok(JsonMembers(members))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Request parameters from an `application/x-www-form-urlencoded` body (RFC 6749 §3.2) or, as a
/// convenience for curl, a flat `application/json` object of strings.
pub struct Params(HashMap<String, String>);

impl Params {
    /// Reads the request body (at most [`MAX_BODY_BYTES`]) and parses it by its content type.
    ///
    /// # Errors
    /// `invalid_request` for an oversized or unreadable body, and as [`Params::parse`].
    pub async fn read(req: &HttpRequest, mut payload: web::Payload) -> Result<Self, OAuthError> {
        let body = read_body(&mut payload).await?;
        Self::parse(req, &body)
    }

    /// Parses the URL query (RFC 6749 §3.1: form encoding; a repeated parameter is an error).
    ///
    /// # Errors
    /// `invalid_request` for a repeated parameter.
    pub fn from_query(req: &HttpRequest) -> Result<Self, OAuthError> {
        Ok(Self(form_fields(req.query_string().as_bytes())?))
    }

    /// Parses `body` by its content type.
    ///
    /// # Errors
    /// `invalid_request` for another content type, malformed bodies, non-string JSON values, or
    /// a repeated parameter (RFC 6749 §3.1/§3.2: parameters must not be included more than once).
    pub fn parse(req: &HttpRequest, body: &[u8]) -> Result<Self, OAuthError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let mut map = HashMap::new();
        match content_type.as_deref() {
            Some("application/json") => {
                let JsonMembers(members) = serde_json::from_slice(body)
                    .map_err(|_| OAuthError::invalid_request("the body is not a JSON object"))?;
                for (k, v) in members {
                    let serde_json::Value::String(v) = v else {
                        return Err(OAuthError::invalid_request(format!(
                            "parameter `{k}` must be a string"
                        )));
                    };
                    if map.insert(k.clone(), v).is_some() {
                        return Err(OAuthError::invalid_request(format!(
                            "parameter `{k}` is repeated"
                        )));
                    }
                }
            }
            Some("application/x-www-form-urlencoded") | None
                if !body.is_empty() || content_type.is_some() =>
            {
                map = form_fields(body)?;
            }
            None => {}
            Some(_) => {
                return Err(OAuthError::invalid_request(
                    "the body must be application/x-www-form-urlencoded or application/json",
                ))
            }
        }
        Ok(Self(map))
    }

    /// The parameter `name`; empty values count as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The parameter `name`.
    ///
    /// # Errors
    /// `invalid_request` naming it when absent.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter `{name}`")))
    }
}

/// The credentials of the `Authorization` header when its scheme is `scheme`; scheme names are
/// case-insensitive (RFC 9110 §11.1).
pub(crate) fn authorization<'a>(req: &'a HttpRequest, scheme: &str) -> Option<&'a str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (name, credentials) = value.split_once(' ')?;
    name.eq_ignore_ascii_case(scheme)
        .then(|| credentials.trim())
}

/// Reads a request body of at most [`MAX_BODY_BYTES`].
///
/// # Errors
/// `invalid_request` (in the RFC 6749 §5.2 format, not a bare 413) when it is larger or breaks
/// off.
pub async fn read_body(payload: &mut web::Payload) -> Result<web::BytesMut, OAuthError> {
    use futures_util::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| OAuthError::invalid_request("the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(OAuthError::invalid_request(format!(
                "the request body is larger than {MAX_BODY_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// RFC 6749 §2.3.1: in HTTP Basic, the client id and secret are form-urlencoded before base64.
fn form_decode(part: &str) -> Option<String> {
    let spaced = part.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The client credentials presented with a request: HTTP Basic (`client_secret_basic`), body
/// parameters (`client_secret_post`), or only `client_id` (`none`, public clients).
///
/// # Errors
/// `invalid_request` when two methods are used at once (RFC 6749 §2.3); `invalid_client` for a
/// malformed Basic header or no client identification.
pub fn presented_client(req: &HttpRequest, params: &Params) -> Result<PresentedClient, OAuthError> {
    let basic = authorization(req, "Basic");
    if let Some(encoded) = basic {
        if params.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not Basic and client_secret both",
            ));
        }
        let decoded = STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(OAuthError::invalid_client)?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(OAuthError::invalid_client)?;
        let client_id = form_decode(id).ok_or_else(OAuthError::invalid_client)?;
        let secret = form_decode(secret).ok_or_else(OAuthError::invalid_client)?;
        if params
            .get("client_id")
            .is_some_and(|body_id| body_id != client_id)
        {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the authenticated client",
            ));
        }
        return Ok(PresentedClient {
            client_id,
            secret: Some(secret),
        });
    }
    let client_id = params
        .get("client_id")
        .ok_or_else(OAuthError::invalid_client)?;
    Ok(PresentedClient {
        client_id: client_id.to_owned(),
        secret: params.get("client_secret").map(str::to_owned),
    })
}

/// Authenticates the client of a request.
///
/// # Errors
/// As [`presented_client`] and [`crate::clients::ClientRegistry::authenticate`].
pub async fn authenticated_client(
    state: &AppState,
    req: &HttpRequest,
    params: &Params,
) -> Result<std::sync::Arc<crate::store::Client>, OAuthError> {
    let presented = presented_client(req, params)?;
    let client = state.clients.authenticate(&presented).await;
    if let Err(e) = &client {
        if e.code == crate::error::ErrorCode::InvalidClient {
            let ip = client_ip(state, req);
            tracing::info!(target: "audit", event = "client_auth_failure",
                client_id = %presented.client_id, %ip);
            state.limiter.check_ip(ip).await?;
        }
    }
    client
}

/// The client's IP address: the TCP peer, or what a trusted proxy says (see
/// [`crate::ratelimit::TrustedProxies::client_ip`]).
pub fn client_ip(state: &AppState, req: &HttpRequest) -> std::net::IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    state.settings.trusted_proxies.client_ip(
        peer,
        header(header::FORWARDED),
        header(HeaderName::from_static("x-forwarded-for")),
    )
}

/// The user of verified bearer `claims`, for endpoints acting on the user's own account: the
/// token must belong to a live session (`sid`) of a user that exists and is not disabled.
///
/// # Errors
/// `invalid_token` otherwise; 503 when the store is down.
pub async fn session_user(
    state: &AppState,
    claims: &AccessClaims,
) -> Result<crate::store::User, OAuthError> {
    let ended = || OAuthError::invalid_token("the session has ended");
    let sid = claims.sid.as_deref().ok_or_else(ended)?;
    if !state.store.family_alive(sid).await? {
        return Err(ended());
    }
    state
        .store
        .user_by_sub(&claims.sub)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(ended)
}

/// Verifies the RFC 6750 §2.1 bearer access token of a request.
///
/// # Errors
/// `invalid_token` (401 with a `WWW-Authenticate: Bearer` challenge) when missing or invalid.
pub fn bearer_claims(state: &AppState, req: &HttpRequest) -> Result<AccessClaims, OAuthError> {
    let token = authorization(req, "Bearer")
        .ok_or_else(|| OAuthError::invalid_token("a bearer access token is required"))?;
    state
        .tokens
        .verify_access_token(token)
        .map_err(|e| OAuthError::invalid_token(e.to_string()))
}

#[cfg(test)]
mod tests {
    /// Every `web::resource(paths::X).route(web::method()...)` in `configure` is listed in
    /// `paths::ALL`, and nothing else is.
    #[test]
    fn all_routes_are_listed() {
        let source = include_str!("mod.rs");
        let start = source.find("pub fn configure").unwrap();
        let body = &source[start..start + source[start..].find("\n}").unwrap()];
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let mut registered = 0;
        for resource in compact.split("web::resource(paths::").skip(1) {
            let name = resource.split(')').next().unwrap();
            for route in resource.split(".route(web::").skip(1) {
                let method = match route.split('(').next().unwrap() {
                    "method" => route
                        .split("Method::")
                        .nth(1)
                        .unwrap()
                        .split(')')
                        .next()
                        .unwrap(),
                    other => other,
                };
                assert!(
                    super::paths::ALL
                        .iter()
                        .any(|(n, m, _)| *n == name && m.eq_ignore_ascii_case(method)),
                    "{method} {name} missing from paths::ALL"
                );
                registered += 1;
            }
        }
        assert_eq!(registered, super::paths::ALL.len());
    }
}
