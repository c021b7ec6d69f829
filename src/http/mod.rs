//! The HTTP layer: parse requests into typed values, call the grants, render responses.
//!
//! - [`routes`]: the route table ([`routes::RESOURCES`]): [`configure`] registers it and
//!   [`paths::all`] lists it for the spec test; the path constants are in [`paths`].
//! - [`extract`]: `FromRequest` extractors that handlers take as arguments: body parameters,
//!   authenticated clients, bearer tokens and their session users, client IPs. Their errors
//!   are [`crate::error::OAuthError`]s, rendered in the RFC format.
//! - [`with_request_id`]: request ids, request metrics and the access log.
//! - [`body_deadline`] and [`ConnectionLimit`]: slow bodies cut off, connections per client
//!   address bounded.
//! - [`admin_no_store`]: `Cache-Control: no-store` on the admin API's answers.
//! - `dpop_nonce`: the next RFC 9449 §8 `DPoP-Nonce` on every response of the endpoints that
//!   take DPoP proofs (when nonces are required), wrapped around them by [`configure`].
//! - One file per endpoint family: token, revoke, introspect, userinfo, discovery (JWKS and
//!   metadata), authorize (with the hosted pages), device (RFC 8628: the device authorization
//!   endpoint and the verification page), account, session_list (the account's and the admin
//!   API's session lists), admin, cors, health, metrics.

mod account;
mod account_forms;
mod account_page;
mod account_sessions;
mod admin;
mod admin_users;
mod assets;
mod authorize;
mod cache_control;
mod cors;
mod device;
mod discovery;
mod dpop_nonce;
pub mod extract;
mod health;
mod introspect;
mod limits;
mod metrics;
mod pages;
mod passkey_login;
mod passkeys;
mod request_id;
mod revoke;
pub mod routes;
mod session_list;
mod token;
mod userinfo;

pub use cache_control::admin_no_store;
pub use limits::{body_deadline, ConnectionLimit};
pub use pages::render_pages;
pub use request_id::with_request_id;
pub use routes::{configure, paths};

/// Largest accepted request body, bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
