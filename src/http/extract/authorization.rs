//! The `Authorization` request header (RFC 9110 §11.6.2).

use actix_web::http::header;
use actix_web::HttpRequest;

/// The credentials of the `Authorization` header when its scheme is `scheme` (`"Basic"`,
/// `"Bearer"`), trimmed; `None` when the header is absent, not visible ASCII, or of another
/// scheme. Scheme names are case-insensitive (RFC 9110 §11.1).
pub(crate) fn credentials<'a>(req: &'a HttpRequest, scheme: &str) -> Option<&'a str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (name, credentials) = value.split_once(' ')?;
    name.eq_ignore_ascii_case(scheme)
        .then(|| credentials.trim())
}
