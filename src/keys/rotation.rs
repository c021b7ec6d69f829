//! Key rotation without breaking verifiers (RFC 7517 key sets cached by relying parties). Each
//! algorithm (RS256, ES256, EdDSA) has its own signing key, rotated independently by the rules
//! below; the key file's type tells which algorithm a kid belongs to.
//!
//! - A new key is published in the JWKS at once but signs only after a pre-publication delay
//!   (default: the JWKS `max-age` plus a margin), so a verifier holding a cached JWKS never meets
//!   an unknown `kid`.
//! - The key it replaces stops signing at that moment and stays published until every token it
//!   signed has expired and every cache has turned over (longest token lifetime + JWKS
//!   `max-age`); then `keys prune` (or the automatic pruning) deletes it.
//!
//! Where things live: private keys stay in the keys directory, a secret volume shared by the
//! instances; only the public metadata (kid, not-before, retired-at) is in the store, where
//! every instance sees it. Private keys never travel over the network or sit in Redis, and an
//! instance that cannot read a key simply cannot sign with it. Each instance reloads the set
//! every `key_refresh_interval` seconds, so a rotation started anywhere is picked up without a
//! restart.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use super::{generate_key, KeyError, KeySet, SigningAlg};
use crate::clock::now;
use crate::error::StoreError;
use crate::store::{Backend, KeyMeta, Store};

/// Errors of rotation commands.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// A key problem.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The store is unavailable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rotated-in key of the same algorithm has not started signing yet.
    #[error("a rotation is already pending: key {0} starts signing in {1} s")]
    Pending(String, u64),
    /// No key of the algorithm to rotate from.
    #[error("no {0} key to rotate; run `tessera keys generate --alg {0}` for the first one")]
    NoKey(SigningAlg),
}

/// Timing of rotation, seconds.
#[derive(Debug, Clone, Copy)]
pub struct RotationPolicy {
    /// Delay between publishing a new key and signing with it.
    pub publication_delay: u64,
    /// How long a retired key stays published: longest token lifetime + JWKS `max-age`.
    pub retention: u64,
    /// Rotate automatically when the signing key has signed this long (`None`: never).
    pub interval: Option<u64>,
    /// How often each instance reloads the key set.
    pub refresh: u64,
}

/// Loads the key set of `dir` with the store's rotation metadata (on a blocking thread).
///
/// # Errors
/// Key or store failures.
pub async fn load(
    store: &Store,
    dir: &Path,
    policy: &RotationPolicy,
) -> Result<KeySet, RotationError> {
    let meta = store.key_metadata().await?;
    // Reading files and parsing RSA keys is blocking work: keep it off the async workers.
    let (dir, retention) = (dir.to_owned(), policy.retention);
    tokio::task::spawn_blocking(move || KeySet::load_with(&dir, &meta, Some(retention)))
        .await
        .map_err(|e| RotationError::Store(StoreError(format!("key loading task: {e}"))))?
        .map_err(RotationError::from)
}

/// Generates an `alg` key (RSA: of `bits`) in `dir` that starts signing `delay` seconds from
/// now, and retires the current `alg` signing key at that moment; other algorithms' keys are
/// untouched. Returns the new kid and its start (unix seconds).
///
/// # Errors
/// [`RotationError::Pending`] when an earlier rotation of `alg` has not taken effect,
/// [`RotationError::NoKey`] without an `alg` key; key or store failures.
pub async fn rotate(
    store: &Store,
    dir: &Path,
    alg: SigningAlg,
    bits: usize,
    delay: u64,
) -> Result<(String, u64), RotationError> {
    let meta = store.key_metadata().await?;
    let now = now();
    let set = KeySet::load_with(dir, &meta, None)?;
    let same_alg = |kid: &str| set.by_kid(kid).is_some_and(|k| k.alg == alg);
    if let Some((kid, m)) = meta
        .iter()
        .find(|(kid, m)| m.not_before > now && same_alg(kid))
    {
        return Err(RotationError::Pending(kid.clone(), m.not_before - now));
    }
    let current = set
        .signing_key_at(alg, now)
        .ok_or(RotationError::NoKey(alg))?;
    let current_start = meta
        .get(&current.kid)
        .map_or(current.created, |m| m.not_before);
    let current_kid = current.kid.clone();
    // RSA key generation takes a noticeable time: keep it off the async workers.
    let key_dir = dir.to_owned();
    let kid = tokio::task::spawn_blocking(move || generate_key(&key_dir, alg, bits))
        .await
        .map_err(|e| RotationError::Store(StoreError(format!("key generation task: {e}"))))??;
    let not_before = now + delay;
    store
        .put_key_meta(
            &kid,
            &KeyMeta {
                not_before,
                retired_at: None,
            },
        )
        .await?;
    store
        .put_key_meta(
            &current_kid,
            &KeyMeta {
                not_before: current_start,
                retired_at: Some(not_before),
            },
        )
        .await?;
    tracing::info!(target: "audit", event = "key_rotated", alg = %alg, kid = %kid,
        retired = %current_kid, not_before);
    Ok((kid, not_before))
}

/// Deletes keys retired more than `retention` seconds ago (file and metadata). Returns their
/// kids.
///
/// # Errors
/// Key or store failures.
pub async fn prune(
    store: &Store,
    dir: &Path,
    retention: u64,
) -> Result<Vec<String>, RotationError> {
    let meta = store.key_metadata().await?;
    let set = KeySet::load_with(dir, &meta, None)?;
    let now = now();
    let mut pruned = Vec::new();
    for (key, (_, until)) in set.keys() {
        if until != u64::MAX && until.saturating_add(retention) < now {
            std::fs::remove_file(&key.path).map_err(|source| KeyError::Io {
                path: key.path.clone(),
                source,
            })?;
            store.remove_key_meta(&key.kid).await?;
            tracing::info!(target: "audit", event = "key_pruned", kid = %key.kid);
            pruned.push(key.kid.clone());
        }
    }
    Ok(pruned)
}

/// Reloads the key set every `policy.refresh` seconds into `keys`; when configured, rotates
/// automatically and prunes expired keys (one instance at a time, under a store lock). Errors
/// are logged and the last good set stays in use.
pub fn spawn_refresher(
    store: Store,
    dir: std::path::PathBuf,
    policy: RotationPolicy,
    keys: Arc<ArcSwap<KeySet>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(policy.refresh.max(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = maintain(&store, &dir, &policy, &keys.load_full()).await {
                tracing::warn!(error = %e, "key maintenance failed");
            }
            match load(&store, &dir, &policy).await {
                Ok(set) => {
                    if set.etag() != keys.load().etag() {
                        tracing::info!(kids = ?set, "key set reloaded");
                    }
                    keys.store(Arc::new(set));
                }
                Err(e) => tracing::warn!(error = %e, "key set reload failed; keeping the last one"),
            }
        }
    })
}

/// Automatic rotation and pruning, under a lock so one instance acts.
/// `current` is the key set in use (no reload needed to find the signing key).
async fn maintain(
    store: &Store,
    dir: &Path,
    policy: &RotationPolicy,
    current: &KeySet,
) -> Result<(), RotationError> {
    let meta: HashMap<String, KeyMeta> = store.key_metadata().await?;
    let now = now();
    let prunable = meta.values().any(|m| {
        m.retired_at
            .is_some_and(|r| r.saturating_add(policy.retention) < now)
    });
    // Per algorithm: due when its signing key has signed `interval` and none is pending.
    let due: Vec<SigningAlg> = current
        .algorithms()
        .filter(|alg| {
            policy.interval.is_some_and(|interval| {
                let pending = meta.iter().any(|(kid, m)| {
                    m.not_before > now && current.by_kid(kid).is_some_and(|k| k.alg == *alg)
                });
                current.signing_key_at(*alg, now).is_some_and(|signing| {
                    let since = meta
                        .get(&signing.kid)
                        .map_or(signing.created, |m| m.not_before);
                    !pending && now.saturating_sub(since) >= interval
                })
            })
        })
        .collect();
    if (!prunable && due.is_empty()) || !store.try_lock("keys", 60).await? {
        return Ok(());
    }
    for alg in due {
        rotate(store, dir, alg, 2048, policy.publication_delay).await?;
    }
    if prunable {
        prune(store, dir, policy.retention).await?;
    }
    Ok(())
}
