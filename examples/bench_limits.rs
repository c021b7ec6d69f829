//! `bench/run` helper: the in-process ceilings the HTTP figures are compared with.
//!
//! Prints one JSON object:
//! - `signing.<ALG>` for each algorithm with a key in the keys directory (RS256, ES256, EdDSA):
//!   `signs_per_s` of `KeySet::load(dir).signing_key(alg).sign(TokenType::Access, &claims)` in a
//!   tight loop on `threads` OS threads (the library call every token response makes),
//!   `cpu_ms_per_sign` (the process CPU time per signature), `cpu_share` (CPU time over
//!   wall time × threads: below 0.9 other processes competed) and `key_bits`; the RS256 figures
//!   are repeated as `rs256_signs_per_s`, `rs256_cpu_ms_per_sign`, `rs256_key_bits`;
//! - `argon2_verifies_per_s`: `PasswordHasher::verify` of a correct password at the configured
//!   Argon2id parameters (the server's own code path: semaphore + blocking pool), with `threads`
//!   verifications in flight and `hash_concurrency = threads`.
//!
//! Configuration comes from the same layers as the server (`config/default.toml`, `TESSERA_*`).
//!
//! ```sh
//! cargo run --release --example bench_limits -- [--threads N] [--seconds S] [--keys-dir DIR]
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tessera::config::RawSettings;
use tessera::credentials::{PasswordHasher, Verification};
use tessera::keys::{KeySet, SigningAlg, SigningKey, TokenType};

/// The claims of a client-credentials access token (RFC 9068), shaped like the server's.
#[derive(Serialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    iat: u64,
    nbf: u64,
    jti: String,
    client_id: String,
    scope: String,
}

/// utime + stime of this process (all threads), seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(") ").map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of proc(5) are at 11 and 12 after the command; USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let settings = RawSettings::load(None)?.validate()?;
    let threads: usize = match arg(&args, "--threads") {
        Some(n) => n.parse()?,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let seconds: f64 = arg(&args, "--seconds").map_or(Ok(3.0), |s| s.parse())?;
    let keys_dir = arg(&args, "--keys-dir").map_or(settings.keys_dir.clone(), PathBuf::from);
    let run_for = Duration::from_secs_f64(seconds);

    // --- signing, per algorithm ----------------------------------------------------------------
    let keys = KeySet::load(&keys_dir)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut signing = serde_json::Map::new();
    for alg in SigningAlg::ALL {
        let Some(key) = keys.signing_key(alg) else {
            continue;
        };
        let (signs, secs, cpu) = measure_signing(key, threads, run_for, now)?;
        signing.insert(
            alg.as_str().to_owned(),
            serde_json::json!({
                "signs": signs,
                "signs_per_s": signs as f64 / secs,
                "cpu_ms_per_sign": if signs > 0 { cpu * 1000.0 / signs as f64 } else { 0.0 },
                "cpu_share": cpu / (secs * threads as f64),
                "key_bits": key.bits,
            }),
        );
    }
    let rs256 = signing
        .get("RS256")
        .cloned()
        .ok_or("no RS256 key in the keys directory (tessera keys generate --alg RS256)")?;

    // --- Argon2id ----------------------------------------------------------------------------
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    let (verifies, verify_secs) = runtime.block_on(async {
        let hasher = PasswordHasher::new(settings.hashing.argon2, threads, 1024)?;
        let password = "correct horse battery staple".to_owned();
        let phc = hasher.hash(password.clone()).await?;
        // One verification first, unmeasured.
        hasher.verify(Some(phc.clone()), password.clone()).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..threads)
            .map(|_| {
                let (hasher, phc, password) = (hasher.clone(), phc.clone(), password.clone());
                let (stop, count) = (stop.clone(), count.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        match hasher.verify(Some(phc.clone()), password.clone()).await {
                            Ok(Verification::Match(None)) => {
                                count.fetch_add(1, Ordering::Relaxed);
                            }
                            other => panic!("unexpected verification result: {other:?}"),
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(run_for).await;
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            task.await?;
        }
        Ok::<_, Box<dyn std::error::Error>>((count.load(Ordering::Relaxed), t0.elapsed()))
    })?;
    let verify_secs = verify_secs.as_secs_f64();

    let report = serde_json::json!({
        "threads": threads,
        "seconds": seconds,
        "signing": signing,
        "rs256_signs": rs256["signs"],
        "rs256_signs_per_s": rs256["signs_per_s"],
        "rs256_cpu_ms_per_sign": rs256["cpu_ms_per_sign"],
        "rs256_key_bits": rs256["key_bits"],
        "argon2_memory_kib": settings.hashing.argon2.memory_kib,
        "argon2_iterations": settings.hashing.argon2.iterations,
        "argon2_parallelism": settings.hashing.argon2.parallelism,
        "argon2_verifies": verifies,
        "argon2_verifies_per_s": verifies as f64 / verify_secs,
    });
    println!("{report}");
    Ok(())
}

/// Signs with `key` on `threads` threads for `run_for` after a warm-up: (signatures, wall
/// seconds, process CPU seconds).
fn measure_signing(
    key: &SigningKey,
    threads: usize,
    run_for: Duration,
    now: u64,
) -> Result<(u64, f64, f64), Box<dyn std::error::Error>> {
    // Warm-up (page in the key, fill caches), then the measured loop.
    for _ in 0..50 {
        key.sign(TokenType::Access, &claims(now, 0))?;
    }
    let signed = AtomicU64::new(0);
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let signed = &signed;
            scope.spawn(move || {
                let claims = claims(now, t);
                let mut n = 0u64;
                while t0.elapsed() < run_for {
                    if key.sign(TokenType::Access, &claims).is_ok() {
                        n += 1;
                    }
                }
                signed.fetch_add(n, Ordering::Relaxed);
            });
        }
    });
    let secs = t0.elapsed().as_secs_f64();
    Ok((signed.load(Ordering::Relaxed), secs, cpu_seconds() - cpu0))
}

fn claims(now: u64, thread: usize) -> Claims {
    Claims {
        iss: "http://127.0.0.1:8080".into(),
        sub: "bench-service".into(),
        aud: "urn:bench:api".into(),
        exp: now + 900,
        iat: now,
        nbf: now,
        jti: format!("{:032x}", 0x0bad_cafe_u128 + thread as u128),
        client_id: "bench-service".into(),
        scope: "api:read".into(),
    }
}
