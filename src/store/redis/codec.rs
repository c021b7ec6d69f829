//! Decoding of replies and encoding of arguments, shared by the operations.

use crate::error::StoreError;
use crate::store::limits::{Limit, LimitedBy};
use crate::store::model::Family;

/// A limit script's reply `{which, wait ms}` (`which` = `ok` when allowed).
pub(super) fn limit(which: &str, wait: u64) -> Limit {
    let by = match which {
        "ip" => LimitedBy::Ip,
        "account" => LimitedBy::Account,
        "pair" => LimitedBy::Pair,
        "second_factor" => LimitedBy::SecondFactor,
        _ => return Limit::Allowed,
    };
    Limit::Limited {
        by,
        retry_after_ms: wait,
    }
}

/// The family fields of a rotation or state reply, in script order.
pub(super) fn decode_family(fields: &[String]) -> Result<Family, StoreError> {
    match fields {
        [sub, client_id, scope, auth_time, amr, username, email, rest @ ..] => Ok(Family {
            sub: sub.clone(),
            client_id: client_id.clone(),
            scope: scope.clone(),
            auth_time: auth_time.parse().unwrap_or(0),
            amr: amr.clone(),
            username: username.clone(),
            email: (!email.is_empty()).then(|| email.clone()),
            jkt: rest.first().filter(|j| !j.is_empty()).cloned(),
            // Absent (a family stored before registrations were recorded): 0.
            client_registered_at: rest.get(1).and_then(|r| r.parse().ok()).unwrap_or(0),
        }),
        _ => Err(StoreError("malformed family record".into())),
    }
}

/// A stored JSON value.
pub(super) fn from_json<T: serde::de::DeserializeOwned>(
    raw: Option<String>,
) -> Result<Option<T>, StoreError> {
    raw.map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|_| StoreError("malformed record".into()))
}

/// A value as stored JSON.
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError("unserialisable record".into()))
}

/// A TTL as Redis takes it.
pub(super) fn seconds(ttl: u64) -> i64 {
    i64::try_from(ttl).unwrap_or(i64::MAX)
}
