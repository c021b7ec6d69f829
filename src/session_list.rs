//! Session lists: a user's live sessions (refresh-token families), for the account endpoints
//! (`/account/sessions`, the user's own) and the admin API (`/admin/users/{sub}/sessions`).
//! Ending one revokes its family, which queues its back-channel logout notices
//! ([`crate::backchannel`]).

use serde::Serialize;

use crate::error::StoreError;
use crate::store::{Backend, SessionBackend, SessionInfo, Store};

/// One session as the lists show it (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    /// The session id, the `sid` of its tokens.
    pub sid: String,
    /// The client it was opened for.
    pub client_id: String,
    /// When it was opened, unix seconds.
    pub created_at: u64,
    /// When its refresh token last rotated, unix seconds; `null` if never.
    pub last_refreshed_at: Option<u64>,
    /// How the user authenticated (RFC 8176 values).
    pub amr: Vec<String>,
    /// Whether it is the session of the access token that asked (always `false` for admins).
    pub current: bool,
}

impl SessionView {
    fn of(info: SessionInfo, current: Option<&str>) -> Self {
        Self {
            current: current == Some(info.sid.as_str()),
            amr: info.amr.split_whitespace().map(str::to_owned).collect(),
            sid: info.sid,
            client_id: info.client_id,
            created_at: info.created_at,
            last_refreshed_at: info.last_refreshed_at,
        }
    }
}

/// The live sessions of `sub`, oldest first; `current` marks the one with that `sid`.
///
/// # Errors
/// [`StoreError`].
pub async fn list(
    store: &Store,
    sub: &str,
    current: Option<&str>,
) -> Result<Vec<SessionView>, StoreError> {
    Ok(store
        .user_sessions(sub)
        .await?
        .into_iter()
        .map(|info| SessionView::of(info, current))
        .collect())
}

/// Ends session `sid` of `sub` on behalf of `actor` (the user's client, or an admin client);
/// `false` when `sub` has no such live session (another user's session is never touched).
///
/// # Errors
/// [`StoreError`].
pub async fn end(store: &Store, sub: &str, sid: &str, actor: &str) -> Result<bool, StoreError> {
    let owned = store.user_sessions(sub).await?.iter().any(|s| s.sid == sid);
    if !owned || !store.revoke_family(sid).await? {
        return Ok(false);
    }
    tracing::info!(target: "audit", event = "session_revoked", sub = %sub, sid = %sid, actor);
    Ok(true)
}
