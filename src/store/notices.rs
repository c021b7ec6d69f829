//! The back-channel logout queue (OpenID Connect Back-Channel Logout 1.0 §2.5): every session
//! the store ends — a revoked family (one, or all of a user's), a refresh token reused — leaves
//! a [`Notice`] in a queue that every instance consumes, so delivery never blocks the request
//! that ended the session and survives the instance that enqueued it. The store only queues
//! and hands out notices; signing and sending them is the business of the layers above.
//!
//! Redis keeps the queue in a stream with one consumer group shared by all instances, and the
//! notices waiting for another attempt in a sorted set by due time ([`super::names::notices`]);
//! the memory backend keeps the same three states (queued, claimed, waiting) in process.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// One session end to tell one client about. The client's `backchannel_logout_uri` is looked
/// up when the notice is delivered (a client without one gets nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// A unique id (UUID v4), telling apart two notices of one session.
    pub id: String,
    /// The client the session belonged to.
    pub client_id: String,
    /// The session that ended (`sid`, the family id).
    pub sid: String,
    /// The session's user (`sub`).
    pub sub: String,
    /// When the session ended, unix milliseconds: the start of the retry window.
    pub ended_ms: u64,
    /// Failed delivery attempts so far.
    pub attempts: u32,
}

impl Notice {
    /// A notice that session `sid` of `sub` at `client_id` ended now.
    pub fn new(sid: &str, sub: &str, client_id: &str) -> Self {
        Self {
            id: uuid::Uuid::new_v4().simple().to_string(),
            client_id: client_id.to_owned(),
            sid: sid.to_owned(),
            sub: sub.to_owned(),
            ended_ms: crate::clock::now_ms(),
            attempts: 0,
        }
    }
}

/// A notice claimed by one consumer: its queue entry (to finish or reschedule it) and itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The queue entry id (a Redis stream id).
    pub entry: String,
    /// The notice.
    pub notice: Notice,
}

/// The queue part of the store contract, implemented by both backends in files of their own
/// (`redis/notices.rs`, `memory/notices.rs`). Notices are enqueued by the store itself, by the
/// operations that end sessions ([`super::Backend::revoke_family`],
/// [`super::Backend::revoke_user_families`], a reuse seen by
/// [`super::Backend::rotate_refresh_token`]).
#[allow(async_fn_in_trait)]
pub trait NoticeBackend {
    /// Claims up to `count` notices for `consumer` at `now_ms`: first the notices waiting for
    /// another attempt whose time has come go back into the queue, then come notices another
    /// consumer claimed more than `idle_ms` ago and never finished (its instance died), then
    /// new ones. A claimed notice stays claimed until [`NoticeBackend::finish_notice`] or
    /// [`NoticeBackend::retry_notice`]. One round trip (one script).
    async fn claim_notices(
        &self,
        consumer: &str,
        count: usize,
        idle_ms: u64,
        now_ms: u64,
    ) -> Result<Vec<Claimed>, StoreError>;

    /// Removes the claimed notice `entry`: delivered, or given up.
    async fn finish_notice(&self, entry: &str) -> Result<(), StoreError>;

    /// Moves the claimed notice `entry` to the waiting notices as `notice` (its attempts
    /// counted), due at `due_ms`. Atomic: a notice is never both claimed and waiting.
    async fn retry_notice(
        &self,
        entry: &str,
        notice: &Notice,
        due_ms: u64,
    ) -> Result<(), StoreError>;
}
