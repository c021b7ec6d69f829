//! Typed short-lived records: authorization requests, login sessions, codes, pending MFA
//! logins. Each is a serde type implementing [`Record`], whose kind is a constant of the type;
//! the generic operations on [`Store`] below are the only way to reach them, and JSON stays
//! inside the store. Records are keyed by the [`SecretHash`] of a value only the browser or
//! client holds.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::backend::Backend;
use super::Store;
use crate::error::StoreError;
use crate::secret::SecretHash;

/// A short-lived record the store keeps as JSON under `tessera:<KIND>:<hash>`.
pub trait Record: Serialize + DeserializeOwned {
    /// The record's kind: the middle part of its key (short, lowercase, unique per type).
    const KIND: &'static str;
}

/// The kind of a record, only to be had from a [`Record`] type (no string literal elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kind(&'static str);

impl Kind {
    /// The kind of `R`.
    pub fn of<R: Record>() -> Self {
        Self(R::KIND)
    }

    /// The kind's name, for key names.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// The result of redeeming a single-use record (an authorization code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption<R> {
    /// First use: the record; it is now marked as redeemed by the given family.
    Fresh(R),
    /// Already redeemed: the family its first use opened (to revoke, RFC 6749 §4.1.2).
    Reused(String),
    /// Unknown or expired.
    Unknown,
}

/// The answer of [`Store::spend_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead and evaluate: this attempt is counted, `left` more may follow.
    Counted {
        /// Attempts left after this one.
        left: u32,
    },
    /// Every attempt was spent: refused, and the record is gone.
    Exhausted,
    /// No such record (expired, finished, or never there).
    Unknown,
}

fn encode<R: Record>(record: &R) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(|_| StoreError("unserialisable record".into()))
}

/// A record that no longer decodes (written by another version) counts as expired.
fn decode<R: Record>(json: Option<String>) -> Option<R> {
    let json = json?;
    match serde_json::from_str(&json) {
        Ok(record) => Some(record),
        Err(_) => {
            tracing::warn!(
                kind = R::KIND,
                "a stored record does not decode; treated as expired"
            );
            None
        }
    }
}

impl Store {
    /// Stores `record` under `id` for `ttl` seconds, replacing the data of any earlier one
    /// (its failure count stays).
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn put<R: Record>(
        &self,
        id: &SecretHash,
        record: &R,
        ttl: u64,
    ) -> Result<(), StoreError> {
        self.put_record(Kind::of::<R>(), id, &encode(record)?, ttl)
            .await
    }

    /// The live record under `id`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn get<R: Record>(&self, id: &SecretHash) -> Result<Option<R>, StoreError> {
        Ok(decode(self.record(Kind::of::<R>(), id).await?))
    }

    /// Removes and returns the live record under `id`; of parallel takers, one gets it.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn take<R: Record>(&self, id: &SecretHash) -> Result<Option<R>, StoreError> {
        Ok(decode(self.take_record(Kind::of::<R>(), id).await?))
    }

    /// Spends one of the `max` attempts of the record under `id` before the attempt is
    /// evaluated (atomic: of parallel attempts, at most `max` are ever counted); the attempt
    /// after the last one deletes the record.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn spend_attempt<R: Record>(
        &self,
        id: &SecretHash,
        max: u32,
    ) -> Result<Attempt, StoreError> {
        Ok(match self.record_attempt(Kind::of::<R>(), id, max).await? {
            0 => Attempt::Unknown,
            n if n > max => Attempt::Exhausted,
            n => Attempt::Counted { left: max - n },
        })
    }

    /// Redeems the single-use record under `id` for family `family_id`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend is unavailable.
    pub async fn redeem<R: Record>(
        &self,
        id: &SecretHash,
        family_id: &str,
    ) -> Result<Redemption<R>, StoreError> {
        Ok(
            match self.redeem_record(Kind::of::<R>(), id, family_id).await? {
                Redemption::Fresh(json) => match decode(Some(json)) {
                    Some(record) => Redemption::Fresh(record),
                    None => Redemption::Unknown,
                },
                Redemption::Reused(first) => Redemption::Reused(first),
                Redemption::Unknown => Redemption::Unknown,
            },
        )
    }
}
