//! Wall-clock time as the protocols count it. A leaf: imports nothing from the crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Current time, unix seconds (the unit of JWT `iat`/`exp`, RFC 7519 §2 NumericDate).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Current time, milliseconds since the epoch (the unit of the login limiter).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
