//! Refresh-token rotation on Redis: one script (`scripts/rotate.lua`) on the family's slot, and
//! after a detected reuse the notice of the revoked session (a second round trip, only then).

use super::codec::decode_family;
use super::scripts::ROTATE;
use super::RedisStore;
use crate::error::StoreError;
use crate::secret::SecretHash;
use crate::store::model::{Presenter, Rotation, Successor};
use crate::store::names;
use crate::store::notices::Notice;

impl RedisStore {
    /// [`crate::store::Backend::rotate_refresh_token`].
    pub(super) async fn rotate(
        &self,
        family_id: &str,
        presented: &SecretHash,
        successor: Successor<'_>,
        by: Presenter<'_>,
    ) -> Result<Rotation, StoreError> {
        let (key, used) = names::family(family_id);
        let (sealed, grace_ms) = successor.grace.unwrap_or(("", 0));
        let mut invocation = ROTATE.key(key);
        invocation
            .key(used)
            .key(names::family_grace(family_id))
            .arg(presented.as_str())
            .arg(successor.hash.as_str())
            .arg(by.client_id)
            .arg(by.jkt.unwrap_or(""))
            .arg(crate::clock::now())
            .arg(grace_ms)
            .arg(sealed)
            .arg(by.client_registered_at);
        for s in by.scope {
            invocation.arg(*s);
        }
        let reply: Vec<Option<String>> = invocation.invoke_async(&mut self.conn.clone()).await?;
        let reply: Vec<String> = reply.into_iter().map(Option::unwrap_or_default).collect();
        Ok(match reply.split_first() {
            Some((status, rest)) if status == "rotated" => Rotation::Rotated(decode_family(rest)?),
            Some((status, [fields @ .., sealed])) if status == "repeated" => Rotation::Repeated {
                family: decode_family(fields)?,
                sealed: sealed.clone(),
            },
            Some((status, [sub, client_id, ..])) if status == "reused" => {
                self.enqueue_notice(&Notice::new(family_id, sub, client_id))
                    .await?;
                Rotation::Reused {
                    sub: sub.clone(),
                    client_id: client_id.clone(),
                }
            }
            Some((status, _)) if status == "scope" => Rotation::ScopeExceeded,
            Some((status, _)) if status == "dpop" => Rotation::KeyMismatch,
            _ => Rotation::Invalid,
        })
    }
}
