//! Session lists in memory: the twin of `redis/sessions.rs`.

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::model::SessionInfo;
use crate::store::sessions::SessionBackend;

impl SessionBackend for MemoryStore {
    async fn user_sessions(&self, sub: &str) -> Result<Vec<SessionInfo>, StoreError> {
        let mut state = self.lock();
        let ids: Vec<String> = state
            .user_families
            .get(sub)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default();
        let mut sessions: Vec<SessionInfo> = ids
            .into_iter()
            .filter_map(|sid| {
                let record = state.family(&sid)?;
                Some(SessionInfo {
                    client_id: record.family.client_id.clone(),
                    created_at: record.created,
                    last_refreshed_at: record.refreshed,
                    amr: record.family.amr.clone(),
                    sid,
                })
            })
            .collect();
        sessions.sort_by(|a, b| (a.created_at, &a.sid).cmp(&(b.created_at, &b.sid)));
        Ok(sessions)
    }
}
