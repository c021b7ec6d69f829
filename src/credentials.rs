//! Password hashing with Argon2id (RFC 9106) on a bounded blocking pool.
//!
//! Hashing is CPU- and memory-heavy (about 20 ms and 19 MiB at the OWASP parameters), so it runs
//! on tokio's blocking threads behind a semaphore sized by `hash_concurrency`: a login flood can
//! occupy at most that many cores and never stalls the async workers that serve JWKS or refresh.
//!
//! Verification reuses one Argon2 working-memory buffer per hashing slot instead of allocating
//! 19 MiB per login: allocated per call on many blocking threads, that memory stays in each
//! thread's malloc arena, and the benchmark saw the resident size grow to ~900 MB.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::Argon2Params;

/// Errors of the hashing pool. They never contain the password.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The parameters are not valid Argon2 parameters.
    #[error("invalid Argon2 parameters")]
    Params,
    /// The hash could not be computed, or the blocking task failed.
    #[error("password hashing failed")]
    Failed,
    /// Admission control: too many password checks are already waiting.
    #[error("password hashing is saturated")]
    Busy,
}

/// The outcome of a password verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The password is wrong (or the stored hash unreadable, or the user unknown).
    Mismatch,
    /// The password is right; `Some(new PHC)` when the stored hash used weaker parameters and was
    /// recomputed with the current ones (the brief's `check_needs_rehash`).
    Match(Option<String>),
}

/// The Argon2id hasher with its concurrency bound.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Jobs running or waiting, and the most admitted at once (concurrency + queue bound).
    in_flight: Arc<AtomicUsize>,
    admit: usize,
    /// Observes how long admitted jobs wait for a slot, when metrics are on.
    wait: Option<prometheus::Histogram>,
    /// A hash of a random password with the current parameters: verifying an unknown user
    /// against it costs the same as a wrong password.
    dummy: Arc<str>,
    /// Idle Argon2 working-memory buffers (at most one per slot, allocated on first use).
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

fn argon2(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2(params.clone())
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|_| HashError::Failed)
}

/// Verifies `password` against the PHC string `hash` (any Argon2 variant and parameters it
/// names), computing in `memory` (grown when too small, then kept for the next call). The
/// recomputed output is compared in constant time.
fn verify_into(hash: &PasswordHash<'_>, password: &[u8], memory: &mut Vec<Block>) -> bool {
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let algorithm = Algorithm::try_from(hash.algorithm);
    let version = hash.version.map_or(Ok(Version::V0x13), Version::try_from);
    let params = Params::try_from(hash)
        .ok()
        .and_then(|p| Params::new(p.m_cost(), p.t_cost(), p.p_cost(), Some(expected.len())).ok())
        .ok_or(());
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, params) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut output = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut output, &mut memory[..blocks])
        .is_ok()
        && bool::from(output.ct_eq(expected.as_bytes()))
}

/// Whether `hash` was made with other (weaker or different) parameters than `current`.
fn needs_rehash(hash: &PasswordHash<'_>, current: &Params) -> bool {
    if hash.algorithm != Algorithm::Argon2id.ident() || hash.version != Some(Version::V0x13.into())
    {
        return true;
    }
    match Params::try_from(hash) {
        Ok(p) => {
            p.m_cost() != current.m_cost()
                || p.t_cost() != current.t_cost()
                || p.p_cost() != current.p_cost()
        }
        Err(_) => true,
    }
}

/// One admitted job; leaving (drop, even on cancellation) frees its place.
struct Admitted<'a>(&'a AtomicUsize);

impl<'a> Admitted<'a> {
    fn enter(counter: &'a AtomicUsize, admit: usize) -> Result<Self, HashError> {
        if counter.fetch_add(1, Ordering::AcqRel) >= admit {
            counter.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Busy);
        }
        Ok(Self(counter))
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordHasher {
    /// A hasher with `params` running at most `concurrency` hashes at once, with at most
    /// `queue_limit` more waiting; beyond that a job is refused at once with [`HashError::Busy`].
    ///
    /// # Errors
    /// [`HashError::Params`] for invalid parameters.
    pub fn new(
        params: Argon2Params,
        concurrency: usize,
        queue_limit: usize,
    ) -> Result<Self, HashError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|_| HashError::Params)?;
        let mut random = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
        let dummy = hash_with(&params, &random)?.into();
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            in_flight: Arc::new(AtomicUsize::new(0)),
            admit: concurrency.max(1) + queue_limit,
            wait: None,
            buffers: Arc::new(Mutex::new(Vec::new())),
            dummy,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _admitted = Admitted::enter(&self.in_flight, self.admit)?;
        let waiting = std::time::Instant::now();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Failed)?;
        if let Some(wait) = &self.wait {
            wait.observe(waiting.elapsed().as_secs_f64());
        }
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|_| HashError::Failed)
    }

    /// Records slot waits in `histogram`.
    pub fn with_wait_metric(mut self, histogram: prometheus::Histogram) -> Self {
        self.wait = Some(histogram);
        self
    }

    /// Password checks running or waiting now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Hashes `password` (already NFC-normalised) into a PHC string.
    ///
    /// # Errors
    /// [`HashError::Failed`] if hashing fails.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move || hash_with(&params, password.as_bytes()))
            .await?
    }

    /// Verifies `password` against `stored` (or against the dummy hash when `None`, so an
    /// unknown user costs the same), rehashing on success when the stored parameters are weaker.
    ///
    /// # Errors
    /// [`HashError::Failed`] if the blocking task fails.
    pub async fn verify(
        &self,
        stored: Option<String>,
        password: String,
    ) -> Result<Verification, HashError> {
        let params = self.params.clone();
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy.to_string());
        let buffers = self.buffers.clone();
        self.run(move || {
            let Ok(hash) = PasswordHash::new(&stored) else {
                return Verification::Mismatch;
            };
            let mut memory = buffers
                .lock()
                .ok()
                .and_then(|mut idle| idle.pop())
                .unwrap_or_default();
            let ok = verify_into(&hash, password.as_bytes(), &mut memory);
            if let Ok(mut idle) = buffers.lock() {
                idle.push(memory);
            }
            if !(ok && known) {
                return Verification::Mismatch;
            }
            if needs_rehash(&hash, &params) {
                Verification::Match(hash_with(&params, password.as_bytes()).ok())
            } else {
                Verification::Match(None)
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(m: u32) -> Argon2Params {
        Argon2Params {
            memory_kib: m,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[tokio::test]
    async fn verify_and_rehash_on_weaker_params() {
        let weak = PasswordHasher::new(params(64), 2, 8).unwrap();
        let strong = PasswordHasher::new(params(128), 2, 8).unwrap();
        let phc = weak.hash("correct horse".into()).await.unwrap();
        assert_eq!(
            weak.verify(Some(phc.clone()), "correct horse".into())
                .await
                .unwrap(),
            Verification::Match(None)
        );
        assert_eq!(
            weak.verify(Some(phc.clone()), "wrong".into())
                .await
                .unwrap(),
            Verification::Mismatch
        );
        let Verification::Match(Some(new)) = strong
            .verify(Some(phc), "correct horse".into())
            .await
            .unwrap()
        else {
            panic!("expected a rehash");
        };
        assert!(new.contains("m=128"), "{new}");
    }

    #[tokio::test]
    async fn admission_refuses_beyond_the_queue_bound() {
        let h = PasswordHasher::new(params(64), 1, 0).unwrap();
        let counter = h.in_flight.clone();
        let first = Admitted::enter(&counter, h.admit).unwrap();
        assert!(matches!(h.hash("x".into()).await, Err(HashError::Busy)));
        drop(first);
        assert!(h.hash("x".into()).await.is_ok());
        assert_eq!(h.in_flight(), 0);
    }

    #[test]
    fn verify_into_agrees_with_the_library() {
        let params = Params::new(64, 1, 1, None).unwrap();
        let phc = hash_with(&params, b"secret").unwrap();
        let hash = PasswordHash::new(&phc).unwrap();
        let mut memory = Vec::new();
        assert!(verify_into(&hash, b"secret", &mut memory));
        assert!(!verify_into(&hash, b"Secret", &mut memory));
        assert_eq!(
            memory.len(),
            params.block_count(),
            "the buffer is kept for reuse"
        );
        // A hash from elsewhere with other parameters (argon2i, t=3) still verifies.
        let other = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(32, 3, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let phc = other.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(verify_into(
            &PasswordHash::new(&phc).unwrap(),
            b"pw",
            &mut memory
        ));
    }

    #[tokio::test]
    async fn unknown_user_never_matches() {
        let h = PasswordHasher::new(params(64), 1, 8).unwrap();
        assert_eq!(
            h.verify(None, "anything".into()).await.unwrap(),
            Verification::Mismatch
        );
    }
}
