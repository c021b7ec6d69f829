//! Device authorizations in memory: the twin of `redis/scripts/device_poll.lua` and
//! `device_decide.lua`, each step under the store's one mutex.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::MemoryStore;
use crate::error::StoreError;
use crate::secret::SecretHash;
use crate::store::device::{DevicePoll, NewDevice};
use crate::store::DeviceBackend;

/// Where a device authorization stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Approved,
    Denied,
    Redeemed,
}

/// One device authorization: the fields of the Redis hash.
struct DeviceRecord {
    client_id: String,
    json: String,
    status: Status,
    expires_ms: u64,
    interval_ms: u64,
    slow_down_ms: u64,
    last_poll_ms: Option<u64>,
    approval: String,
    gone: Instant,
}

/// The device authorizations by device-code hash, and the user-code index.
#[derive(Default)]
pub(super) struct Devices {
    records: HashMap<SecretHash, DeviceRecord>,
    user_codes: HashMap<SecretHash, (SecretHash, Instant)>,
}

impl Devices {
    /// The live record `id`, dropping it (and any dead index entry) once its key has expired.
    fn record(&mut self, id: &SecretHash) -> Option<&mut DeviceRecord> {
        let now = Instant::now();
        self.user_codes.retain(|_, (_, gone)| *gone > now);
        if self.records.get(id).is_some_and(|r| r.gone <= now) {
            self.records.remove(id);
        }
        self.records.get_mut(id)
    }
}

impl DeviceBackend for MemoryStore {
    async fn put_device(
        &self,
        id: &SecretHash,
        user_code: &SecretHash,
        new: &NewDevice<'_>,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let devices = &mut state.devices;
        devices.record(id);
        if devices.user_codes.contains_key(user_code) {
            return Ok(false);
        }
        let gone = Instant::now() + Duration::from_secs(new.ttl);
        devices
            .user_codes
            .insert(user_code.clone(), (id.clone(), gone));
        let record = DeviceRecord {
            client_id: new.client_id.to_owned(),
            json: new.json.to_owned(),
            status: Status::Pending,
            expires_ms: new.expires_ms,
            interval_ms: new.interval_ms,
            slow_down_ms: new.slow_down_ms,
            last_poll_ms: None,
            approval: String::new(),
            gone,
        };
        devices.records.insert(id.clone(), record);
        Ok(true)
    }

    async fn device_by_user_code(
        &self,
        user_code: &SecretHash,
        now_ms: u64,
    ) -> Result<Option<(SecretHash, String)>, StoreError> {
        let mut state = self.lock();
        let devices = &mut state.devices;
        let Some((id, _)) = devices.user_codes.get(user_code).cloned() else {
            return Ok(None);
        };
        Ok(devices
            .record(&id)
            .filter(|r| r.status == Status::Pending && now_ms < r.expires_ms)
            .map(|r| (id.clone(), r.json.clone())))
    }

    async fn set_device_decision(
        &self,
        id: &SecretHash,
        approval: Option<&str>,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let Some(record) = state.devices.record(id) else {
            return Ok(false);
        };
        if record.status != Status::Pending || now_ms >= record.expires_ms {
            return Ok(false);
        }
        match approval {
            Some(json) => {
                record.status = Status::Approved;
                json.clone_into(&mut record.approval);
            }
            None => record.status = Status::Denied,
        }
        Ok(true)
    }

    async fn device_poll(
        &self,
        id: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> Result<DevicePoll<(String, String)>, StoreError> {
        let mut state = self.lock();
        let Some(record) = state.devices.record(id) else {
            return Ok(DevicePoll::Invalid);
        };
        if record.client_id != client_id || record.status == Status::Redeemed {
            return Ok(DevicePoll::Invalid);
        }
        if now_ms >= record.expires_ms {
            return Ok(DevicePoll::Expired);
        }
        Ok(match record.status {
            Status::Denied => DevicePoll::Denied,
            Status::Approved => {
                record.status = Status::Redeemed;
                DevicePoll::Approved((record.json.clone(), record.approval.clone()))
            }
            _ => {
                let previous = record.last_poll_ms.replace(now_ms);
                // RFC 8628 §3.5: too early is slow_down, and the interval grows for good.
                if previous.is_some_and(|last| now_ms.saturating_sub(last) < record.interval_ms) {
                    record.interval_ms += record.slow_down_ms;
                    DevicePoll::SlowDown
                } else {
                    DevicePoll::Pending
                }
            }
        })
    }
}
