//! Device authorizations in Redis (RFC 8628): one hash per device code, a user-code index
//! entry beside it (another slot, so written in its own round trip), and one Lua script for
//! each read-check-write (`device_poll.lua`, `device_decide.lua`), each on the one hash.

use redis::AsyncCommands;

use super::codec::{from_json, seconds, to_json};
use super::scripts::{DEVICE_DECIDE, DEVICE_POLL};
use super::RedisStore;
use crate::error::StoreError;
use crate::secret::SecretHash;
use crate::store::device::{DevicePoll, NewDevice};
use crate::store::{names, DeviceBackend};

impl DeviceBackend for RedisStore {
    async fn put_device(
        &self,
        id: &SecretHash,
        user_code: &SecretHash,
        new: &NewDevice<'_>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let taken: Option<String> = redis::cmd("SET")
            .arg(names::user_code(user_code))
            .arg(to_json(id)?)
            .arg("NX")
            .arg("EX")
            .arg(seconds(new.ttl))
            .query_async(&mut conn)
            .await?;
        if taken.is_none() {
            return Ok(false);
        }
        let key = names::device(id);
        let () = redis::pipe()
            .atomic()
            .hset_multiple(
                &key,
                &[
                    ("client", new.client_id),
                    ("data", new.json),
                    ("status", "pending"),
                    ("expires", &new.expires_ms.to_string()),
                    ("interval", &new.interval_ms.to_string()),
                    ("step", &new.slow_down_ms.to_string()),
                ],
            )
            .ignore()
            .expire(&key, seconds(new.ttl))
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(true)
    }

    async fn device_by_user_code(
        &self,
        user_code: &SecretHash,
        now_ms: u64,
    ) -> Result<Option<(SecretHash, String)>, StoreError> {
        let mut conn = self.conn.clone();
        let id: Option<SecretHash> = from_json(conn.get(names::user_code(user_code)).await?)?;
        let Some(id) = id else {
            return Ok(None);
        };
        let fields: (Option<String>, Option<u64>, Option<String>) = conn
            .hget(names::device(&id), &["status", "expires", "data"])
            .await?;
        Ok(match fields {
            (Some(status), Some(expires), Some(data))
                if status == "pending" && now_ms < expires =>
            {
                Some((id, data))
            }
            _ => None,
        })
    }

    async fn set_device_decision(
        &self,
        id: &SecretHash,
        approval: Option<&str>,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let status = if approval.is_some() {
            "approved"
        } else {
            "denied"
        };
        let decided: i64 = DEVICE_DECIDE
            .key(names::device(id))
            .arg(now_ms)
            .arg(status)
            .arg(approval.unwrap_or(""))
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(decided == 1)
    }

    async fn device_poll(
        &self,
        id: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> Result<DevicePoll<(String, String)>, StoreError> {
        let reply: Vec<String> = DEVICE_POLL
            .key(names::device(id))
            .arg(client_id)
            .arg(now_ms)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(match reply.as_slice() {
            [status] if status == "pending" => DevicePoll::Pending,
            [status] if status == "slow_down" => DevicePoll::SlowDown,
            [status] if status == "denied" => DevicePoll::Denied,
            [status] if status == "expired" => DevicePoll::Expired,
            [status, data, approval] if status == "approved" => {
                DevicePoll::Approved((data.clone(), approval.clone()))
            }
            _ => DevicePoll::Invalid,
        })
    }
}
