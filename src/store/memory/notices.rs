//! The back-channel logout queue in memory: the twin of `redis/notices.rs` (stream, consumer
//! group and retry set) for `--dev` and tests, with the same three states.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::notices::{Claimed, Notice, NoticeBackend};

/// Queued, claimed (by whom and when) and waiting notices, by entry id.
#[derive(Default)]
pub(super) struct Notices {
    next: u64,
    queued: VecDeque<(String, Notice)>,
    claimed: HashMap<String, (Notice, Instant)>,
    /// By (due ms, entry number).
    waiting: BTreeMap<(u64, u64), Notice>,
}

impl Notices {
    /// Queues `notice` under a new entry id.
    pub(super) fn push(&mut self, notice: Notice) {
        self.next += 1;
        self.queued.push_back((format!("{}-0", self.next), notice));
    }
}

impl NoticeBackend for MemoryStore {
    async fn claim_notices(
        &self,
        _consumer: &str,
        count: usize,
        idle_ms: u64,
        now_ms: u64,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut state = self.lock();
        let notices = &mut state.notices;
        while let Some(entry) = notices.waiting.first_entry() {
            if entry.key().0 > now_ms {
                break;
            }
            let notice = entry.remove();
            notices.push(notice);
        }
        let now = Instant::now();
        let idle = Duration::from_millis(idle_ms);
        let mut out: Vec<Claimed> = notices
            .claimed
            .iter_mut()
            .filter(|(_, (_, at))| now.duration_since(*at) >= idle)
            .take(count)
            .map(|(entry, (notice, at))| {
                *at = now;
                Claimed {
                    entry: entry.clone(),
                    notice: notice.clone(),
                }
            })
            .collect();
        while out.len() < count {
            let Some((entry, notice)) = notices.queued.pop_front() else {
                break;
            };
            notices.claimed.insert(entry.clone(), (notice.clone(), now));
            out.push(Claimed { entry, notice });
        }
        Ok(out)
    }

    async fn finish_notice(&self, entry: &str) -> Result<(), StoreError> {
        self.lock().notices.claimed.remove(entry);
        Ok(())
    }

    async fn retry_notice(
        &self,
        entry: &str,
        notice: &Notice,
        due_ms: u64,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let notices = &mut state.notices;
        if notices.claimed.remove(entry).is_some() {
            notices.next += 1;
            let key = (due_ms, notices.next);
            notices.waiting.insert(key, notice.clone());
        }
        Ok(())
    }
}
