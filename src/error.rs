//! Error types shared across layers.
//!
//! [`OAuthError`] carries an RFC 6749 §5.2 error code and renders itself (status, JSON body and
//! headers) in one [`actix_web::ResponseError`] impl; [`StoreError`] is an unavailable backing
//! store and becomes `503` with `Retry-After`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// The backing store could not answer (Redis down, timed out, or returned garbage).
#[derive(Debug, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreError(pub String);

impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        // The redis error text names the command and server state, never argument values.
        StoreError(format!("{:?}: {}", e.kind(), e.category()))
    }
}

/// RFC 6749 §5.2 / RFC 6750 §3.1 / RFC 7009 §2.2.1 / RFC 8628 §3.5 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is missing a parameter, repeats one, or is otherwise malformed.
    InvalidRequest,
    /// Client authentication failed (401 with `WWW-Authenticate`).
    InvalidClient,
    /// The grant (credentials, refresh token) is invalid, expired or revoked.
    InvalidGrant,
    /// The client may not use this grant type.
    UnauthorizedClient,
    /// The grant type is not supported.
    UnsupportedGrantType,
    /// The requested scope is invalid or exceeds what is allowed.
    InvalidScope,
    /// RFC 8707 §2: the `resource` is not one the client may request.
    InvalidTarget,
    /// RFC 6750 §3.1: the bearer token is missing, expired, revoked or malformed.
    InvalidToken,
    /// RFC 6750 §3.1: the token lacks the scope the resource needs (403).
    InsufficientScope,
    /// The server is temporarily unable to handle the request (limits, store outage).
    TemporarilyUnavailable,
    /// RFC 8628 §3.5: the user has not yet answered the device authorization; poll again.
    AuthorizationPending,
    /// RFC 8628 §3.5: polled too fast; the interval is now 5 seconds longer.
    SlowDown,
    /// RFC 8628 §3.5: the user denied the device authorization.
    AccessDenied,
    /// RFC 8628 §3.5: the device code has expired; start again.
    ExpiredToken,
    /// RFC 9449 §5/§7.1: the DPoP proof is missing, malformed or does not match.
    InvalidDpopProof,
    /// RFC 9449 §8: the proof must carry the server's nonce, sent in `DPoP-Nonce`.
    UseDpopNonce,
    /// RFC 9470 §3: the user's authentication is too old for this action (401; the challenge
    /// carries `max_age`): sign in again.
    InsufficientUserAuthentication,
}

/// The longest `error_description` sent, in characters ([`error_description`]).
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// The longest piece of request input a description quotes, in characters ([`quoted`]).
const MAX_QUOTED_CHARS: usize = 40;

/// Whether RFC 6749 §5.2 allows `c` in `error_description`: %x20-21 / %x23-5B / %x5D-7E
/// (printable ASCII but `"` and `\`).
fn description_char(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// `text` as an `error_description` may carry it (RFC 6749 §5.2): every character outside
/// %x20-21 / %x23-5B / %x5D-7E becomes `?`, and the text is cut at [`MAX_DESCRIPTION_CHARS`].
/// The one sanitizer of every description sent: JSON bodies, `WWW-Authenticate` challenges,
/// the admin API and the authorization endpoint's error redirects.
pub fn error_description(text: &str) -> String {
    text.chars()
        .take(MAX_DESCRIPTION_CHARS)
        .map(|c| if description_char(c) { c } else { '?' })
        .collect()
}

/// A piece of request input (a parameter name, a scope, a URI) as a description may quote it:
/// between backticks, with every character [`error_description`] would not send and every
/// backtick replaced by `?`, and cut at 40 characters (then ending in `...`), so a description
/// never reflects raw input.
pub fn quoted(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(MAX_QUOTED_CHARS)
        .map(|c| {
            if description_char(c) && c != '`' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if value.chars().nth(MAX_QUOTED_CHARS).is_some() {
        out.push_str("...");
    }
    format!("`{out}`")
}

/// The DPoP proof algorithms accepted (RFC 9449 §5.1 `dpop_signing_alg_values_supported`).
pub const DPOP_ALGS: &str = "ES256 RS256 PS256 EdDSA";

/// An OAuth error response. `description` is shown to the client and must never contain a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code:?}: {description}")]
pub struct OAuthError {
    /// The RFC error code.
    pub code: ErrorCode,
    /// Human-readable `error_description` (RFC 6749 §5.2), free of secrets.
    pub description: String,
    /// `Retry-After` in seconds, for `temporarily_unavailable`.
    pub retry_after: Option<u64>,
    /// HTTP status override (429/503 for `temporarily_unavailable`).
    status: Option<StatusCode>,
    /// RFC 9449 §7.1: the request used (or the resource needs) the `DPoP` scheme: 401 errors
    /// challenge with `DPoP` instead of `Bearer`.
    dpop: bool,
    /// RFC 9449 §8: the nonce to send in a `DPoP-Nonce` header.
    pub dpop_nonce: Option<String>,
    /// RFC 6750 §3.1: the request carried no credentials at all, so the challenge names no
    /// error.
    no_credentials: bool,
    /// RFC 9470 §3: the `max_age` (seconds) of an `insufficient_user_authentication` challenge.
    max_age: Option<u64>,
}

impl OAuthError {
    /// An error with the code's default status.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            retry_after: None,
            status: None,
            dpop: false,
            dpop_nonce: None,
            no_credentials: false,
            max_age: None,
        }
    }

    /// RFC 9470 §3 `insufficient_user_authentication` (401): the authentication must be at
    /// most `max_age` seconds old.
    pub fn insufficient_user_authentication(max_age: u64) -> Self {
        let mut e = Self::new(
            ErrorCode::InsufficientUserAuthentication,
            format!("sign in again: this needs an authentication at most {max_age} seconds old"),
        );
        e.max_age = Some(max_age);
        e
    }

    /// `invalid_dpop_proof` (400 at the token endpoint, RFC 9449 §5).
    pub fn invalid_dpop_proof(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidDpopProof, description)
    }

    /// This error as a protected resource answers it to a `DPoP`-scheme request (RFC 9449
    /// §7.1): 401 with a `WWW-Authenticate: DPoP` challenge for proof and token errors.
    pub fn at_dpop_resource(mut self) -> Self {
        self.dpop = true;
        if matches!(
            self.code,
            ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce
        ) {
            self.status = Some(StatusCode::UNAUTHORIZED);
        }
        self
    }

    /// `invalid_request` (400).
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_client` (401, `WWW-Authenticate: Basic`).
    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "client authentication failed")
    }

    /// `invalid_grant` (400).
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// `invalid_token` (401, `WWW-Authenticate: Bearer`), RFC 6750 §3.1.
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidToken, description)
    }

    /// `invalid_token` for a request to a protected resource without any credentials: 401 with
    /// a bare `WWW-Authenticate: Bearer realm="tessera"` challenge (RFC 6750 §3.1: "SHOULD NOT
    /// include an error code or other error information"); the JSON body still names it.
    pub fn no_credentials() -> Self {
        Self {
            no_credentials: true,
            ..Self::invalid_token("a bearer access token is required")
        }
    }

    /// This error answered with `status` instead of the code's default (e.g. 404 for an unknown
    /// item of a collection).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        self.status_code()
    }

    /// Whether this is a rate-limit refusal (RFC 6585 §4 `429`).
    pub fn is_rate_limit(&self) -> bool {
        self.status == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// `temporarily_unavailable` with the given status (429 or 503) and `Retry-After` seconds.
    pub fn unavailable(status: StatusCode, retry_after: u64, description: &str) -> Self {
        Self {
            code: ErrorCode::TemporarilyUnavailable,
            description: description.into(),
            retry_after: Some(retry_after),
            status: Some(status),
            dpop: false,
            dpop_nonce: None,
            no_credentials: false,
            max_age: None,
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store unavailable");
        OAuthError::unavailable(
            StatusCode::SERVICE_UNAVAILABLE,
            1,
            "the service is temporarily unavailable, retry shortly",
        )
    }
}

impl ErrorCode {
    /// The code as sent in `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::AccessDenied => "access_denied",
            Self::ExpiredToken => "expired_token",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::InsufficientUserAuthentication => "insufficient_user_authentication",
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorCode,
    error_description: &'a str,
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        if let Some(status) = self.status {
            return status;
        }
        match self.code {
            ErrorCode::InvalidClient
            | ErrorCode::InvalidToken
            | ErrorCode::InsufficientUserAuthentication => StatusCode::UNAUTHORIZED,
            ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let description = error_description(&self.description);
        let mut response = HttpResponse::build(self.status_code());
        // RFC 6749 §5.1/§5.2: token endpoint responses must not be cached.
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        match self.code {
            // RFC 6749 §5.2: 401 for invalid_client carries the scheme the client used (Basic).
            ErrorCode::InvalidClient => {
                response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"tessera\""));
            }
            // RFC 9449 §7.1: the DPoP challenge names the error and the accepted algorithms.
            ErrorCode::InvalidToken
            | ErrorCode::InsufficientScope
            | ErrorCode::InvalidDpopProof
            | ErrorCode::UseDpopNonce
                if self.dpop =>
            {
                let challenge = format!(
                    "DPoP realm=\"tessera\", error=\"{}\", error_description=\"{description}\", algs=\"{DPOP_ALGS}\"",
                    self.code.as_str(),
                );
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.insert_header((header::WWW_AUTHENTICATE, value));
                }
            }
            // RFC 6750 §3.1: no credentials, no error in the challenge.
            ErrorCode::InvalidToken if self.no_credentials => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera\""));
            }
            // RFC 9470 §3: the challenge names the error and the `max_age` to meet.
            ErrorCode::InsufficientUserAuthentication => {
                let challenge = format!(
                    "Bearer realm=\"tessera\", error=\"insufficient_user_authentication\", error_description=\"{description}\", max_age={}",
                    self.max_age.unwrap_or(0)
                );
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.insert_header((header::WWW_AUTHENTICATE, value));
                }
            }
            // RFC 6750 §3: the Bearer challenge names the error.
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => {
                let code = if self.code == ErrorCode::InvalidToken {
                    "invalid_token"
                } else {
                    "insufficient_scope"
                };
                let challenge = format!(
                    "Bearer realm=\"tessera\", error=\"{code}\", error_description=\"{description}\""
                );
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.insert_header((header::WWW_AUTHENTICATE, value));
                }
            }
            _ => {}
        }
        if let Some(nonce) = &self.dpop_nonce {
            if let Ok(value) = HeaderValue::from_str(nonce) {
                response.insert_header(("DPoP-Nonce", value));
            }
        }
        if let Some(seconds) = self.retry_after {
            // RFC 6585 §4 / RFC 9110 §10.2.3.
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(ErrorBody {
            error: self.code,
            error_description: &description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_carry_only_the_characters_rfc_6749_allows() {
        let raw = "scope \"a\\b\u{7}\u{e9}\n\" is bad";
        assert_eq!(error_description(raw), "scope ?a?b???? is bad");
        assert_eq!(
            error_description(&"x".repeat(300)).len(),
            MAX_DESCRIPTION_CHARS
        );
        assert_eq!(quoted("a`b\"c"), "`a?b?c`");
        assert_eq!(quoted(&"y".repeat(50)), format!("`{}...`", "y".repeat(40)));
    }
}
