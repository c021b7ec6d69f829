//! Session lists: the live refresh-token families of a user, for the account and admin
//! session endpoints. Ending one is [`super::Backend::revoke_family`], which also queues its
//! back-channel logout notice ([`super::notices`]).

use super::model::SessionInfo;
use crate::error::StoreError;

/// The session-list part of the store contract, implemented by both backends in files of their
/// own (`redis/sessions.rs`, `memory/sessions.rs`).
#[allow(async_fn_in_trait)]
pub trait SessionBackend {
    /// The live sessions of user `sub`, oldest first (one round trip for the user's family
    /// index, then one per family: they live in different cluster slots).
    async fn user_sessions(&self, sub: &str) -> Result<Vec<SessionInfo>, StoreError>;
}
