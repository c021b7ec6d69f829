//! The back-channel logout queue on Redis ([`crate::store::notices`]): a stream read by one
//! consumer group that every instance of the issuer joins, and a sorted set of the notices
//! waiting for another attempt; both keys share one hash tag ([`names::notices`]).

use super::codec::{from_json, to_json};
use super::scripts::CLAIM_NOTICES;
use super::RedisStore;
use crate::error::StoreError;
use crate::store::names;
use crate::store::notices::{Claimed, Notice, NoticeBackend};

impl RedisStore {
    /// This store with the back-channel logout queue of `issuer` (by default the queue of the
    /// empty issuer): instances of one issuer share a queue, others never see it.
    #[must_use]
    pub fn for_issuer(mut self, issuer: &str) -> Self {
        self.notices = std::sync::Arc::new(names::notices(issuer));
        self
    }

    /// Appends `notice` to the queue (`XADD`).
    pub(super) async fn enqueue_notice(&self, notice: &Notice) -> Result<(), StoreError> {
        let _: String = redis::cmd("XADD")
            .arg(&self.notices.0)
            .arg("*")
            .arg("n")
            .arg(to_json(notice)?)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}

impl NoticeBackend for RedisStore {
    async fn claim_notices(
        &self,
        consumer: &str,
        count: usize,
        idle_ms: u64,
        now_ms: u64,
    ) -> Result<Vec<Claimed>, StoreError> {
        let (stream, retry) = &*self.notices;
        let reply: Vec<String> = CLAIM_NOTICES
            .key(stream)
            .key(retry)
            .arg(names::NOTICE_GROUP)
            .arg(consumer)
            .arg(count.max(1))
            .arg(idle_ms)
            .arg(now_ms)
            .invoke_async(&mut self.conn.clone())
            .await?;
        let mut claimed = Vec::with_capacity(reply.len() / 2);
        for pair in reply.chunks_exact(2) {
            // A notice written by another version that no longer decodes is dropped.
            match from_json::<Notice>(Some(pair[1].clone())) {
                Ok(Some(notice)) => claimed.push(Claimed {
                    entry: pair[0].clone(),
                    notice,
                }),
                _ => self.finish_notice(&pair[0]).await?,
            }
        }
        Ok(claimed)
    }

    async fn finish_notice(&self, entry: &str) -> Result<(), StoreError> {
        let () = ack_and_delete(&self.notices.0, entry)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn retry_notice(
        &self,
        entry: &str,
        notice: &Notice,
        due_ms: u64,
    ) -> Result<(), StoreError> {
        let (stream, retry) = &*self.notices;
        let () = ack_and_delete(stream, entry)
            .zadd(retry, to_json(notice)?, due_ms)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}

/// One atomic pipeline that acknowledges stream `entry` for the consumer group and deletes it
/// (a finished or rescheduled notice leaves the stream).
fn ack_and_delete(stream: &str, entry: &str) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("XACK")
        .arg(stream)
        .arg(names::NOTICE_GROUP)
        .arg(entry)
        .ignore()
        .cmd("XDEL")
        .arg(stream)
        .arg(entry)
        .ignore();
    pipe
}
