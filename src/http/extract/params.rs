//! Request parameters: an `application/x-www-form-urlencoded` body or URL query (RFC 6749 §3.1,
//! §3.2), or a flat `application/json` object of strings.

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::{header, StatusCode};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::{Stream, StreamExt};

use super::Extracting;
use crate::error::{quoted, OAuthError};
use crate::http::MAX_BODY_BYTES;

/// Request parameters from an `application/x-www-form-urlencoded` body (RFC 6749 §3.2) or, as a
/// convenience for curl, a flat `application/json` object of strings.
///
/// As an extractor it reads the request body (see [`Params::parse`] for the rules); for the URL
/// query of a `GET`, use [`Params::from_query`].
pub struct Params(HashMap<String, String>);

impl Params {
    /// Reads the body from `payload` (at most [`MAX_BODY_BYTES`]) and parses it by the content
    /// type of `req`.
    ///
    /// # Errors
    /// As [`read_body`] and [`Params::parse`].
    pub(super) async fn read<S>(req: &HttpRequest, payload: &mut S) -> Result<Self, OAuthError>
    where
        S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
    {
        let body = read_body(payload).await?;
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
                            "parameter {} must be a string",
                            quoted(&k)
                        )));
                    };
                    if map.insert(k.clone(), v).is_some() {
                        return Err(OAuthError::invalid_request(format!(
                            "parameter {} is repeated",
                            quoted(&k)
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

/// Reads and parses the request body (at most [`MAX_BODY_BYTES`]).
///
/// Errors are `invalid_request` as [`read_body`] and [`Params::parse`]; a handler that renders
/// failures itself (the hosted pages) takes `Result<Params, OAuthError>`.
impl FromRequest for Params {
    type Error = OAuthError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move { Self::read(&req, &mut payload).await })
    }
}

/// Form-encoded fields; a repeated name is `invalid_request` (RFC 6749 §3.1, §3.2).
fn form_fields(body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut map = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if map.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {} is repeated",
                quoted(&k)
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

/// Reads a request body of at most [`MAX_BODY_BYTES`] from `payload` (a `web::Payload` or the
/// extractor's `dev::Payload`).
///
/// # Errors
/// `invalid_request` (in the RFC 6749 §5.2 format, not a bare 413) when it is larger or breaks
/// off; with status 408 when it did not arrive within `body_timeout_ms`.
pub async fn read_body<S>(payload: &mut S) -> Result<BytesMut, OAuthError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            // RFC 9110 §15.5.9: the complete request did not arrive in the time the server
            // was prepared to wait (`body_timeout_ms`, see `http::body_deadline`).
            PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                OAuthError::invalid_request("the request body did not arrive in time")
                    .with_status(StatusCode::REQUEST_TIMEOUT)
            }
            _ => OAuthError::invalid_request("the request body could not be read"),
        })?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(OAuthError::invalid_request(format!(
                "the request body is larger than {MAX_BODY_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
