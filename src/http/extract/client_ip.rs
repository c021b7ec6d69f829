//! The client's IP address, as the rate limits and audit events see it.

use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr};

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderName};
use actix_web::{FromRequest, HttpRequest};

use super::app_state;
use crate::error::OAuthError;
use crate::state::AppState;

/// The client's IP address: the TCP peer, or what a trusted proxy says, an IPv4-mapped IPv6
/// address as IPv4 (see [`crate::ratelimit::TrustedProxies::client_ip`]).
///
/// As an extractor it fails only without registered application state (503).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequest for ClientIp {
    type Error = OAuthError;
    type Future = Ready<Result<Self, OAuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(app_state(req).map(|state| Self(client_ip(state, req))))
    }
}

/// The client IP of `req`, for handlers that need it on some paths only (the forwarding
/// headers are parsed only when the peer is a trusted proxy, but then they allocate). The
/// unspecified address `0.0.0.0` when the peer is unknown.
pub fn client_ip(state: &AppState, req: &HttpRequest) -> IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    state.settings.trusted_proxies.client_ip(
        peer,
        header(header::FORWARDED),
        header(HeaderName::from_static("x-forwarded-for")),
    )
}
