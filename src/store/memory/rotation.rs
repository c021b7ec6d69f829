//! Refresh-token rotation in memory: the twin of `redis/scripts/rotate.lua`, under the store's
//! one mutex, and the end of a family with its back-channel logout notice.

use std::time::{Duration, Instant};

use super::state::State;
use crate::secret::SecretHash;
use crate::store::model::{Presenter, Rotation, Successor};
use crate::store::notices::Notice;

impl State {
    /// [`crate::store::Backend::rotate_refresh_token`].
    pub(super) fn rotate(
        &mut self,
        family_id: &str,
        presented: &SecretHash,
        successor: Successor<'_>,
        by: Presenter<'_>,
    ) -> Rotation {
        let Some(record) = self.family(family_id) else {
            return Rotation::Invalid;
        };
        // A family of another registration of the client id is no grant of this one.
        if record.family.client_id == by.client_id
            && record.family.client_registered_at != by.client_registered_at
        {
            return Rotation::Invalid;
        }
        // RFC 9449 §5: a family bound to a key rotates only with that key; without it nothing
        // changes (not reuse, so the family is not revoked).
        if record
            .family
            .jkt
            .as_deref()
            .is_some_and(|b| Some(b) != by.jkt)
        {
            return Rotation::KeyMismatch;
        }
        let within_grant = by
            .scope
            .iter()
            .all(|s| record.family.scope.split(' ').any(|g| g == *s));
        if record.current != *presented {
            if !record.used.contains(presented) {
                return Rotation::Invalid;
            }
            // The grace window: the parent of the current token, before the current one was
            // used (a use replaces the record) and while the window lasts.
            let repeated = record
                .grace
                .as_ref()
                .filter(|(parent, _, until)| parent == presented && *until > Instant::now());
            match repeated {
                Some(_) if record.family.client_id == by.client_id && !within_grant => {
                    return Rotation::ScopeExceeded
                }
                Some((_, sealed, _)) if record.family.client_id == by.client_id => {
                    return Rotation::Repeated {
                        family: record.family.clone(),
                        sealed: sealed.clone(),
                    }
                }
                _ => {}
            }
            let family = record.family.clone();
            self.end_family(family_id);
            return Rotation::Reused {
                sub: family.sub,
                client_id: family.client_id,
            };
        }
        if record.family.client_id != by.client_id {
            return Rotation::Invalid;
        }
        if !within_grant {
            return Rotation::ScopeExceeded;
        }
        let old = std::mem::replace(&mut record.current, successor.hash.clone());
        record.refreshed = Some(crate::clock::now());
        record.grace = successor.grace.map(|(sealed, ms)| {
            let until = Instant::now() + Duration::from_millis(ms);
            (old.clone(), sealed.to_owned(), until)
        });
        record.used.insert(old);
        Rotation::Rotated(record.family.clone())
    }

    /// Ends the live family `id` and queues its back-channel logout notice; `true` if it was
    /// alive.
    pub(super) fn end_family(&mut self, id: &str) -> bool {
        let alive = self
            .family(id)
            .map(|r| Notice::new(id, &r.family.sub, &r.family.client_id));
        self.families.remove(id);
        alive.map(|notice| self.notices.push(notice)).is_some()
    }
}
