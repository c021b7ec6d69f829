//! Session lists on Redis: the user's family index, then each family's hash.

use redis::AsyncCommands;

use super::RedisStore;
use crate::error::StoreError;
use crate::store::model::SessionInfo;
use crate::store::names;
use crate::store::sessions::SessionBackend;

impl SessionBackend for RedisStore {
    async fn user_sessions(&self, sub: &str) -> Result<Vec<SessionInfo>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn.smembers(names::user_families(sub)).await?;
        let mut sessions = Vec::with_capacity(ids.len());
        for sid in ids {
            let (key, _) = names::family(&sid);
            let fields = [
                "client_id",
                "created",
                "refreshed",
                "amr",
                "auth_time",
                "sub",
            ];
            let values: Vec<Option<String>> = conn.hget(&key, &fields).await?;
            let [client_id, created, refreshed, amr, auth_time, owner] = <[_; 6]>::try_from(values)
                .map_err(|_| StoreError("malformed family record".into()))?;
            let number = |v: Option<String>| v.and_then(|v| v.parse::<u64>().ok());
            let (Some(client_id), Some(owner)) = (client_id, owner) else {
                continue;
            };
            if owner != sub {
                continue;
            }
            sessions.push(SessionInfo {
                sid,
                client_id,
                // Families opened before `created` was recorded: their authentication time.
                created_at: number(created).or(number(auth_time)).unwrap_or(0),
                last_refreshed_at: number(refreshed),
                amr: amr.unwrap_or_default(),
            });
        }
        sessions.sort_by(|a, b| (a.created_at, &a.sid).cmp(&(b.created_at, &b.sid)));
        Ok(sessions)
    }
}
