//! Browser sign-in as a domain layer, free of HTTP: the authorization endpoint's decisions
//! (OIDC Core §3.1.2, RFC 6749 §4.1, RFC 7636, RFC 9700 §2.1), the device verification page
//! (RFC 8628 §3.3), the hosted login, second-factor, passkey (WebAuthn L3 §7.2), consent and
//! device-approval steps, and RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//!
//! Each entry point takes typed inputs (the parsed request or submitted form, the session
//! cookie's value, the client IP) and returns the next [`Step`] (in an [`Outcome`] that also
//! carries a newly opened login session) or a [`PageError`]. `http/` parses requests into these
//! inputs and renders the answers; nothing here knows about the web framework. A new step is
//! one more variant and one more entry point here (as the passkey step was). What a pending sign-in leads
//! to once the user is signed in (a code for the client, or a device's approval page) is its
//! [`crate::sessions::Continuation`].
//!
//! Forms are bound to a pending sign-in by its id (256 random bits, stored
//! hashed) and carry a CSRF token checked by double submit: the form field and a cookie must
//! both equal the token stored with the request.

mod authorize;
mod device;
mod forms;
mod logout;
mod par;
mod passkey;
mod step;

pub use authorize::{authorize, check_request, AuthorizationRequest, CheckedRequest};
pub use device::{decide_device, device_form, enter_user_code};
pub use forms::{consent, login, second_factor, Credentials, FormContext, SecondFactorInput};
pub use logout::{logout, LogoutRequest};
pub use par::{push, PushedRequest, PAR_TTL, REQUEST_URI_PREFIX};
pub use passkey::{passkey_login, passkey_options};
pub use step::{
    Factors, LogoutConfirmation, Notice, Outcome, PageError, Pending, Redirect, ScopeChoice, Step,
};
