//! `bench/run` helper: a pool of fresh refresh tokens for the refresh-exchange load.
//!
//! A pool made by real password logins would cost one Argon2id hash and one RS256 signature per
//! token (tens of seconds for the ~10^5 tokens a 10 s run needs on 2 cores). This opens the
//! sessions the way a successful login does after its password check (`open_session`):
//! `RefreshToken::new_family()` and `Store::create_family` with the user's record, the client
//! (and its registration), the scope and `refresh_token_ttl`, on the configured Redis. Every
//! line written is one form body for `POST /oauth2/token`:
//! `grant_type=refresh_token&refresh_token=<token>&client_id=<client>`.
//!
//! ```sh
//! TESSERA_REDIS_URL=redis://... cargo run --release --example bench_pool -- \
//!     --client bench-app --scope api:read --user bench-user-1 [--user ...] OUT:COUNT [OUT:COUNT ...]
//! ```

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use tessera::clock::now;
use tessera::config::RawSettings;
use tessera::store::{Backend, Family, User};
use tessera::tokens::RefreshToken;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut client = String::from("bench-app");
    let mut scope = String::from("api:read");
    let mut usernames = Vec::new();
    let mut outputs = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--client" => client = it.next().ok_or("--client needs a value")?,
            "--scope" => scope = it.next().ok_or("--scope needs a value")?,
            "--user" => usernames.push(it.next().ok_or("--user needs a value")?),
            spec => {
                let (path, count) = spec.rsplit_once(':').ok_or("expected OUT:COUNT")?;
                outputs.push((path.to_owned(), count.parse::<usize>()?));
            }
        }
    }
    if usernames.is_empty() || outputs.is_empty() {
        return Err("usage: bench_pool --user NAME [--user ...] OUT:COUNT [OUT:COUNT ...]".into());
    }
    let settings = RawSettings::load(None)?.validate()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let store = tessera::open_store(&settings, false).await?;
        let mut users: Vec<Arc<User>> = Vec::new();
        for name in &usernames {
            let user = store
                .user(name)
                .await?
                .ok_or_else(|| format!("no user {name}"))?;
            users.push(Arc::new(user));
        }
        // A session belongs to the client's current registration (as `open_session` records it).
        let registered_at = store
            .client(&client)
            .await?
            .ok_or_else(|| format!("no client {client}"))?
            .registered_at;
        let ttl = settings.refresh_token_ttl;
        for (path, count) in outputs {
            let t0 = Instant::now();
            let lines: Vec<Result<String, tessera::error::StoreError>> = stream::iter(0..count)
                .map(|i| {
                    let user = users[i % users.len()].clone();
                    let (store, client, scope) = (store.clone(), client.clone(), scope.clone());
                    async move {
                        let refresh = RefreshToken::new_family();
                        let family = Family {
                            sub: user.sub.clone(),
                            client_id: client.clone(),
                            scope,
                            auth_time: now(),
                            amr: "pwd".into(),
                            username: user.username.clone(),
                            email: user.email.clone(),
                            jkt: None,
                            client_registered_at: registered_at,
                        };
                        store
                            .create_family(refresh.family_id(), &family, &refresh.hash(), ttl)
                            .await?;
                        Ok(format!(
                            "grant_type=refresh_token&refresh_token={}&client_id={client}",
                            refresh.expose()
                        ))
                    }
                })
                .buffer_unordered(64)
                .collect()
                .await;
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
            for line in lines {
                writeln!(out, "{}", line?)?;
            }
            out.flush()?;
            eprintln!(
                "bench_pool: {count} refresh tokens in {:.1} s -> {path}",
                t0.elapsed().as_secs_f64()
            );
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
