//! The HTTP layer: parse requests into typed values, call the grants, render responses. One file
//! per endpoint family.

mod account;
mod admin;
mod discovery;
mod health;
mod introspect;
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
use crate::tokens::AccessClaims;

/// Largest accepted request body, bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Paths of the endpoints, relative to the issuer.
pub mod paths {
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
    /// Liveness.
    pub const HEALTHZ: &str = "/healthz";
    /// Readiness (store reachable).
    pub const READYZ: &str = "/readyz";

    /// Every route the app serves, as (constant name, method, path); kept in step with
    /// [`super::configure`] by a unit test and checked against `openapi.yaml` by the
    /// integration tests.
    pub const ALL: &[(&str, &str, &str)] = &[
        ("TOKEN", "POST", TOKEN),
        ("REVOKE", "POST", REVOKE),
        ("INTROSPECT", "POST", INTROSPECT),
        ("USERINFO", "GET", USERINFO),
        ("USERINFO", "POST", USERINFO),
        ("ADMIN_CLIENTS", "GET", ADMIN_CLIENTS),
        ("ADMIN_CLIENTS", "POST", ADMIN_CLIENTS),
        ("ADMIN_CLIENT", "GET", ADMIN_CLIENT),
        ("ADMIN_CLIENT", "DELETE", ADMIN_CLIENT),
        ("ADMIN_CLIENT_SECRET", "POST", ADMIN_CLIENT_SECRET),
        ("JWKS", "GET", JWKS),
        ("OPENID_CONFIGURATION", "GET", OPENID_CONFIGURATION),
        ("OAUTH_METADATA", "GET", OAUTH_METADATA),
        ("LOGOUT_ALL", "POST", LOGOUT_ALL),
        ("HEALTHZ", "GET", HEALTHZ),
        ("READYZ", "GET", READYZ),
    ];
}

/// Registers every route, the body limit and the request-id middleware.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .route(paths::TOKEN, web::post().to(token::token))
        .route(paths::REVOKE, web::post().to(revoke::revoke))
        .route(paths::INTROSPECT, web::post().to(introspect::introspect))
        .route(paths::USERINFO, web::get().to(userinfo::userinfo))
        .route(paths::USERINFO, web::post().to(userinfo::userinfo))
        .route(paths::ADMIN_CLIENTS, web::get().to(admin::list))
        .route(paths::ADMIN_CLIENTS, web::post().to(admin::create))
        .route(paths::ADMIN_CLIENT, web::get().to(admin::get))
        .route(paths::ADMIN_CLIENT, web::delete().to(admin::remove))
        .route(
            paths::ADMIN_CLIENT_SECRET,
            web::post().to(admin::rotate_secret),
        )
        .route(paths::JWKS, web::get().to(discovery::jwks))
        .route(
            paths::OPENID_CONFIGURATION,
            web::get().to(discovery::metadata),
        )
        .route(paths::OAUTH_METADATA, web::get().to(discovery::metadata))
        .route(paths::LOGOUT_ALL, web::post().to(account::logout_all))
        .route(paths::HEALTHZ, web::get().to(health::healthz))
        .route(paths::READYZ, web::get().to(health::readyz));
}

/// Wraps a service call in a span carrying a fresh request id, returns the id in `x-request-id`
/// and logs one line per request (method, path without query, status, latency).
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
    let id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = std::time::Instant::now();
    let fut = {
        let _entered = span.enter();
        srv.call(req)
    };
    async move {
        let mut res = fut.await?;
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_us = started.elapsed().as_micros() as u64,
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

/// Request parameters from an `application/x-www-form-urlencoded` body (RFC 6749 §3.2) or, as a
/// convenience for curl, a flat `application/json` object of strings.
pub struct Params(HashMap<String, String>);

impl Params {
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
                let value: HashMap<String, serde_json::Value> = serde_json::from_slice(body)
                    .map_err(|_| OAuthError::invalid_request("the body is not a JSON object"))?;
                for (k, v) in value {
                    let serde_json::Value::String(v) = v else {
                        return Err(OAuthError::invalid_request(format!(
                            "parameter `{k}` must be a string"
                        )));
                    };
                    map.insert(k, v);
                }
            }
            Some("application/x-www-form-urlencoded") | None
                if !body.is_empty() || content_type.is_some() =>
            {
                for (k, v) in form_urlencoded::parse(body) {
                    if map.insert(k.to_string(), v.into_owned()).is_some() {
                        return Err(OAuthError::invalid_request(format!(
                            "parameter `{k}` is repeated"
                        )));
                    }
                }
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
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    if let Some(encoded) = basic {
        if params.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not Basic and client_secret both",
            ));
        }
        let decoded = STANDARD
            .decode(encoded.trim())
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
            state.limiter.client_auth_failed(ip).await?;
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

/// Verifies the RFC 6750 §2.1 bearer access token of a request.
///
/// # Errors
/// `invalid_token` (401 with a `WWW-Authenticate: Bearer` challenge) when missing or invalid.
pub fn bearer_claims(state: &AppState, req: &HttpRequest) -> Result<AccessClaims, OAuthError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or_else(|| OAuthError::invalid_token("a bearer access token is required"))?;
    state
        .tokens
        .verify_access_token(token.trim())
        .map_err(|e| OAuthError::invalid_token(e.to_string()))
}

#[cfg(test)]
mod tests {
    /// Every `.route(paths::X, web::method()...)` in `configure` is listed in `paths::ALL`.
    #[test]
    fn all_routes_are_listed() {
        let source = include_str!("mod.rs");
        let start = source.find("pub fn configure").unwrap();
        let body = &source[start..start + source[start..].find("\n}").unwrap()];
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let mut registered = 0;
        for route in compact.split(".route(paths::").skip(1) {
            let name = route.split(',').next().unwrap();
            let method = route
                .split("web::")
                .nth(1)
                .unwrap()
                .split('(')
                .next()
                .unwrap();
            assert!(
                super::paths::ALL
                    .iter()
                    .any(|(n, m, _)| *n == name && m.eq_ignore_ascii_case(method)),
                "{method} {name} missing from paths::ALL"
            );
            registered += 1;
        }
        assert_eq!(registered, super::paths::ALL.len());
    }
}
