//! What an operator needs when Redis cannot be used: which server (its URL without the
//! password) and why, in words (refused, timed out after N ms, DNS, TLS, authentication).

use std::time::Duration;

use redis::{ErrorKind, RedisError};

use crate::error::StoreError;

/// The Redis servers a store talks to, for error messages: their URLs without passwords, and
/// the timeout (milliseconds) that bounds every connection attempt and command.
#[derive(Clone, Debug)]
pub(super) struct Target {
    urls: String,
    timeout_ms: u128,
}

impl Target {
    /// `urls` (each redacted by [`redacted`]) with `timeout`.
    pub(super) fn new(urls: &[&str], timeout: Duration) -> Self {
        let urls: Vec<String> = urls.iter().map(|u| redacted(u)).collect();
        Self {
            urls: urls.join(", "),
            timeout_ms: timeout.as_millis(),
        }
    }

    /// A [`StoreError`] naming the servers and the cause of `e`, e.g. `Redis at
    /// redis://10.0.0.5:6379: connection timed out after 200 ms`.
    pub(super) fn error(&self, e: &RedisError) -> StoreError {
        StoreError(format!("Redis at {}: {}", self.urls, self.cause(e)))
    }

    /// The cause of `e` in words.
    fn cause(&self, e: &RedisError) -> String {
        let text = e.to_string();
        let lower = text.to_ascii_lowercase();
        if e.is_timeout() || lower.contains("timed out") || lower.contains("elapsed") {
            format!("timed out after {} ms (redis_timeout_ms)", self.timeout_ms)
        } else if e.is_connection_refusal() {
            "connection refused (is Redis running and listening on that address?)".into()
        } else if lower.contains("lookup")
            || lower.contains("resolve")
            || lower.contains("name or service")
        {
            format!("DNS lookup failed: {text}")
        } else if e.kind() == ErrorKind::AuthenticationFailed
            || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"))
        {
            "authentication failed (check the user name and password in the URL)".into()
        } else if e.kind() == ErrorKind::ParseError {
            "the server's answer is not the Redis protocol (is that the Redis port?)".into()
        } else if lower.contains("tls") || lower.contains("certificate") || lower.contains("ssl") {
            format!("TLS failed: {text}")
        } else {
            text
        }
    }
}

/// `url` without its password (`redis://user:secret@host` → `redis://user@host`), for logs and
/// messages; a value that does not parse as a URL is replaced by a placeholder.
pub(crate) fn redacted(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(None);
            }
            parsed.to_string()
        }
        Err(_) => "(an unparseable URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_are_removed_from_urls() {
        assert_eq!(
            redacted("redis://:s3cret@10.0.0.5:6379/0"),
            "redis://10.0.0.5:6379/0"
        );
        assert_eq!(
            redacted("rediss://app:s3cret@cache.example:6380"),
            "rediss://app@cache.example:6380"
        );
        assert!(!redacted("redis//:s3cret@x").contains("s3cret"));
    }
}
