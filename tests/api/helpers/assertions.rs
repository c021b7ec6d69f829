//! The common assertions and small readers of responses and tokens.

use serde_json::Value;

/// RFC 6749 §2.3.1: the `Authorization: Basic` value for `client_id` and `secret`, each
/// `application/x-www-form-urlencoded`-encoded before base64.
pub fn basic(client_id: &str, secret: &str) -> String {
    use base64::Engine;
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            encode(client_id),
            encode(secret)
        ))
    )
}

/// An `Authorization: Basic` value over `credentials` as they are, without the form-urlencoding
/// of [`basic`] (for tests of what a careless client sends).
pub fn basic_raw(credentials: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

/// An `application/x-www-form-urlencoded` password-grant body for a public client, with the
/// `extra` parameters appended (for tests that post raw bodies).
pub fn password_form(
    client_id: &str,
    username: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("client_id", client_id)
        .append_pair("username", username)
        .append_pair("password", password)
        .extend_pairs(extra)
        .finish()
}

/// The claims of a JWT, decoded without verification (for tests that already verified it or
/// only need `sid`).
pub fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// The `kid` of a JWT's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// A header value as a string ("" when absent).
pub fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// The refresh token of a token response.
pub fn refresh_token(body: &Value) -> String {
    body["refresh_token"]
        .as_str()
        .expect("a refresh_token in the response")
        .to_owned()
}

/// The access token of a token response.
pub fn access_token(body: &Value) -> String {
    body["access_token"]
        .as_str()
        .expect("an access_token in the response")
        .to_owned()
}

/// RFC 6749 §5.1/§5.2: token-endpoint responses, successes and errors, must not be cached.
pub fn assert_no_store(res: &reqwest::Response) {
    assert_eq!(header(res, "cache-control"), "no-store", "RFC 6749 §5.1");
    assert_eq!(header(res, "pragma"), "no-cache", "RFC 6749 §5.1");
    assert!(
        !header(res, "x-request-id").is_empty(),
        "every response carries x-request-id"
    );
}

/// Asserts an RFC 6749 §5.2 error response (`status`, `error` = `code`, a non-empty
/// `error_description`, JSON, no-store headers) and returns its raw body.
pub async fn expect_error(res: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(res.status().as_u16(), status, "status for `{code}`");
    assert_no_store(&res);
    // RFC 6749 §5.2: the parameters are in an application/json body.
    assert!(
        header(&res, "content-type").starts_with("application/json"),
        "error content type: {}",
        header(&res, "content-type")
    );
    let raw = res.text().await.unwrap();
    let body: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["error"], code, "body: {raw}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "error_description missing: {raw}"
    );
    raw
}

/// RFC 6750 §3: a refused bearer request has `status` and a `WWW-Authenticate: Bearer`
/// challenge; with `error`, the challenge carries `error="<error>"` (§3.1). Without any
/// credentials the server SHOULD NOT add an error code, so `None` checks only the scheme.
pub fn assert_bearer_challenge(res: &reqwest::Response, status: u16, error: Option<&str>) {
    let challenge = header(res, "www-authenticate");
    assert_eq!(res.status().as_u16(), status, "{challenge}");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    if let Some(error) = error {
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(
            challenge.contains(&format!("error=\"{error}\"")),
            "{challenge}"
        );
    }
}

/// RFC 6585 §4: 429 with Retry-After, and an RFC 6749-style body; returns Retry-After.
pub async fn assert_rate_limited(res: reqwest::Response) -> u64 {
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(body["error_description"].is_string());
    retry
}
