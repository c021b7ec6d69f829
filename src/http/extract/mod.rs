//! Request parsing as actix [`FromRequest`](actix_web::FromRequest) extractors: handlers take
//! these as arguments, so raw input becomes typed values before a handler runs, and a failure is
//! an [`OAuthError`] rendered in the RFC 6749 §5.2 / RFC 6750 §3.1 format.
//!
//! - [`Params`]: a form-encoded (or flat JSON) body of at most
//!   [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES); [`Params::from_query`] for `GET`.
//! - [`ClientRequest`] and [`TokenRequest`]: the body and the client it authenticates (RFC 6749
//!   §2.3). The body is read once, inside the extractor, and handed to the handler with the
//!   client, so a handler never reads the payload again.
//! - [`Bearer`] (verified RFC 6750 access-token claims), [`FormBearer`] (the same, also from a
//!   form body, RFC 6750 §2.2) and [`SessionUser`] (the user of a live session behind such a
//!   token).
//! - [`ClientIp`]: the client's address, through trusted proxies.
//!
//! actix polls all of a handler's extractors together, so a handler takes at most one extractor
//! that does I/O; a body read after a bearer check is read in the handler ([`read_body`]).

pub(crate) mod authorization;
mod bearer;
mod client;
mod client_ip;
mod dpop;
mod params;
mod token_request;

pub use bearer::{issued_to_current_client, Bearer, FormBearer, SessionUser};
pub use client::ClientRequest;
pub use client_ip::{client_ip, ClientIp};
pub use dpop::{proof_jkt, ProofRequest};
pub use params::{read_body, Params};
pub use token_request::{GrantType, TokenRequest};

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};

use crate::error::OAuthError;
use crate::state::AppState;

/// The future of an extractor that does I/O (reads the body, asks the store).
type Extracting<T> = Pin<Box<dyn Future<Output = Result<T, OAuthError>>>>;

/// The application state registered with the app.
///
/// # Errors
/// 503 `temporarily_unavailable` (and an error log) when none is registered, which only a
/// misassembled app can cause.
pub(super) fn app_state(req: &HttpRequest) -> Result<&web::Data<AppState>, OAuthError> {
    req.app_data::<web::Data<AppState>>().ok_or_else(|| {
        tracing::error!("the application state is not registered");
        OAuthError::unavailable(
            StatusCode::SERVICE_UNAVAILABLE,
            1,
            "the service is temporarily unavailable, retry shortly",
        )
    })
}
