//! A token endpoint request (RFC 6749 §3.2): the grant type, the body and the authenticated
//! client.

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::client::authenticated;
use super::{Extracting, Params};
use crate::device::DEVICE_CODE_GRANT;
use crate::error::{ErrorCode, OAuthError};
use crate::grants::MFA_OTP_GRANT;
use crate::store::Client;

/// The grant types the token endpoint serves (`grant_type`, RFC 6749 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// RFC 6749 §4.1.3, with PKCE (RFC 7636).
    AuthorizationCode,
    /// RFC 6749 §4.3, resource owner password credentials.
    Password,
    /// RFC 6749 §6.
    RefreshToken,
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// [`MFA_OTP_GRANT`]: the second step of a password login that needs a second factor.
    MfaOtp,
    /// [`DEVICE_CODE_GRANT`], RFC 8628 §3.4: a device polling for its user's approval.
    DeviceCode,
}

impl GrantType {
    /// Parses a `grant_type` value.
    ///
    /// # Errors
    /// `unsupported_grant_type` (RFC 6749 §5.2) listing the supported ones.
    pub fn parse(value: &str) -> Result<Self, OAuthError> {
        Ok(match value {
            "authorization_code" => Self::AuthorizationCode,
            "password" => Self::Password,
            "refresh_token" => Self::RefreshToken,
            "client_credentials" => Self::ClientCredentials,
            MFA_OTP_GRANT => Self::MfaOtp,
            DEVICE_CODE_GRANT => Self::DeviceCode,
            _ => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "supported grant types: authorization_code, password, refresh_token, client_credentials, urn:tessera:params:oauth:grant-type:mfa-otp, urn:ietf:params:oauth:grant-type:device_code",
                ))
            }
        })
    }

    /// The `grant_type` value (also the `grant_type` label of the issued-tokens metric).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::Password => "password",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::MfaOtp => MFA_OTP_GRANT,
            Self::DeviceCode => DEVICE_CODE_GRANT,
        }
    }
}

/// A token request: the body (read once, [`Params`] rules), its supported `grant_type`, and
/// the client it authenticates. The grant type is checked before the client, so an unsupported
/// grant costs no client lookup.
///
/// # Errors
/// `invalid_request` for the body as [`Params::parse`] or a missing `grant_type`;
/// `unsupported_grant_type` as [`GrantType::parse`]; then as [`super::ClientRequest`].
pub struct TokenRequest {
    /// The requested grant.
    pub grant_type: GrantType,
    /// The body's parameters.
    pub params: Params,
    /// The authenticated client.
    pub client: Arc<Client>,
}

impl FromRequest for TokenRequest {
    type Error = OAuthError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        authenticated(
            req,
            payload,
            |params| GrantType::parse(params.require("grant_type")?),
            |grant_type, params, client| Self {
                grant_type,
                params,
                client,
            },
        )
    }
}
