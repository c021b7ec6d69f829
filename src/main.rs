//! The `tessera` command line: `serve`, `user`, `client`, `keys`.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use tessera::config::{RawSettings, Settings};
use tessera::credentials::PasswordHasher;
use tessera::keys::{generate_key, rotation, KeySet};
use tessera::store::{Backend, ClientPolicy, SigningAlg, Store};
use tessera::{clients, open_store, telemetry, users, Application};

/// A small, fast OAuth 2 / OpenID Connect token issuer.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (TOML); default: config/default.toml when present.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// In-memory store, generated keys (RS256, ES256, EdDSA), demo user and client (for
        /// trying tessera out).
        #[arg(long)]
        dev: bool,
    },
    /// Manage users (acts on the configured Redis).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage OAuth clients (acts on the configured Redis).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage signing keys in the keys directory.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Args)]
struct PasswordInput {
    /// Read the password from standard input instead of the terminal.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; prints its `sub`.
    Add {
        /// The username (normalised: trimmed, NFKC, lowercase).
        username: String,
        /// Email address.
        #[arg(long)]
        email: Option<String>,
        #[command(flatten)]
        password: PasswordInput,
    },
    /// Set a user's password and revoke all their sessions; prints the `sub`.
    Passwd {
        /// The username.
        username: String,
        #[command(flatten)]
        password: PasswordInput,
    },
    /// Disable a user and revoke all their sessions; prints the `sub`.
    Disable {
        /// The username.
        username: String,
    },
    /// List every user, one JSON object a line (as `GET /admin/users`, never a hash).
    List,
    /// Show one user as JSON (as `GET /admin/users/{sub}`).
    Show {
        /// The username.
        username: String,
    },
    /// Delete a user and every session; the username becomes free. Prints the `sub`.
    Delete {
        /// The username.
        username: String,
    },
    /// Remove a user's second factors (TOTP, recovery codes) and revoke all their sessions;
    /// prints the `sub`.
    ResetFactors {
        /// The username.
        username: String,
    },
    /// Revoke every session (refresh-token family) of a user; prints the `sub`.
    LogoutAll {
        /// The username.
        username: String,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a client; a confidential client's secret is printed once.
    Add {
        /// The client_id.
        client_id: String,
        /// A public client (no secret; for SPAs and CLIs).
        #[arg(long)]
        public: bool,
        #[command(flatten)]
        policy: Box<ClientPolicy>,
    },
    /// List registered clients (one JSON object per line, no secrets).
    List,
    /// Replace a confidential client's secret; the new one is printed once.
    RotateSecret {
        /// The client_id.
        client_id: String,
    },
    /// Remove a client.
    Remove {
        /// The client_id.
        client_id: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Generate a key that signs at once (for the first key of an algorithm; use `keys rotate`
    /// on a running deployment).
    Generate {
        #[command(flatten)]
        kind: KeyKind,
    },
    /// List keys: kid, algorithm, bits, signing window, and which signs now.
    List,
    /// Generate a key that is published now and signs after the publication delay; the current
    /// key of the same algorithm retires then (needs the configured Redis, where instances
    /// share key metadata).
    Rotate {
        #[command(flatten)]
        kind: KeyKind,
        /// Seconds until the new key signs; default `key_publication_delay`.
        #[arg(long)]
        delay: Option<u64>,
    },
    /// Delete keys retired longer ago than the longest token lifetime plus the JWKS max-age.
    Prune,
}

/// Which key to make: the algorithm, and for RSA the size.
#[derive(Args)]
struct KeyKind {
    /// Algorithm: RS256 (RSA), ES256 (EC P-256) or EdDSA (Ed25519); each has its own key.
    #[arg(long, value_enum, default_value_t = SigningAlg::Rs256)]
    alg: SigningAlg,
    /// RSA modulus size in bits: 2048, 3072 or 4096 (ignored for ES256 and EdDSA).
    #[arg(long, default_value_t = 2048)]
    bits: usize,
}

fn settings(cli: &Cli) -> Result<Settings, String> {
    RawSettings::load(cli.config.as_deref())
        .and_then(RawSettings::validate)
        .map_err(|e| e.to_string())
}

fn read_password(from_stdin: bool) -> Result<String, String> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| format!("reading the password: {e}"))?;
        input.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the passwords differ".into());
        }
        first
    };
    Ok(password)
}

async fn store_and_hasher(settings: &Settings) -> Result<(Store, PasswordHasher), String> {
    let store = open_store(settings, false)
        .await
        .map_err(|e| e.to_string())?;
    let hasher = PasswordHasher::new(
        settings.hashing.argon2,
        settings.hashing.concurrency,
        settings.hashing.queue_limit,
    )
    .map_err(|e| e.to_string())?;
    Ok((store, hasher))
}

async fn run(cli: Cli) -> Result<(), String> {
    let settings = settings(&cli)?;
    telemetry::init(&settings.log_level);
    match cli.command {
        Command::Serve { dev } => serve(settings, dev).await,
        Command::User(command) => {
            let (store, hasher) = store_and_hasher(&settings).await?;
            let user = match command {
                UserCommand::Add {
                    username,
                    email,
                    password,
                } => {
                    let password = read_password(password.password_stdin)?;
                    users::add_user(&store, &hasher, &username, email, Some(&password)).await
                }
                UserCommand::Passwd { username, password } => {
                    let password = read_password(password.password_stdin)?;
                    users::change_password(&store, &hasher, &username, &password).await
                }
                UserCommand::Disable { username } => users::disable(&store, &username).await,
                UserCommand::List => return list_users(&store).await,
                UserCommand::Show { username } => {
                    let user = users::by_username(&store, &username)
                        .await
                        .map_err(|e| e.to_string())?;
                    return print_user(&store, &user).await;
                }
                UserCommand::Delete { username } => {
                    match users::by_username(&store, &username).await {
                        Ok(user) => users::remove(&store, &user, "cli").await.map(|()| user),
                        Err(e) => Err(e),
                    }
                }
                UserCommand::ResetFactors { username } => {
                    match users::by_username(&store, &username).await {
                        Ok(user) => users::reset_factors(&store, user, "cli").await,
                        Err(e) => Err(e),
                    }
                }
                UserCommand::LogoutAll { username } => {
                    let user = users::by_username(&store, &username)
                        .await
                        .map_err(|e| e.to_string())?;
                    users::logout_all(&store, &user.sub)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(user)
                }
            }
            .map_err(|e| e.to_string())?;
            println!("{}", user.sub);
            Ok(())
        }
        Command::Client(command) => {
            let store = open_store(&settings, false)
                .await
                .map_err(|e| e.to_string())?;
            client_command(&store, &settings, command).await
        }
        Command::Keys(KeysCommand::Generate { kind }) => {
            let kid =
                generate_key(&settings.keys_dir, kind.alg, kind.bits).map_err(|e| e.to_string())?;
            println!("{kid}");
            Ok(())
        }
        Command::Keys(KeysCommand::List) => {
            let store = open_store(&settings, settings.store.url.is_none())
                .await
                .map_err(|e| e.to_string())?;
            let keys = rotation::load(&store, &settings.keys_dir, &settings.rotation)
                .await
                .map_err(|e| e.to_string())?;
            let now = tessera::clock::now();
            for (key, (from, until)) in keys.keys() {
                let signing = keys.signing_key_at(key.alg, now).map(|k| &k.kid);
                let role = if signing == Some(&key.kid) {
                    "signing"
                } else {
                    "published"
                };
                let until = if until == u64::MAX {
                    "-".to_owned()
                } else {
                    until.to_string()
                };
                println!(
                    "{}\t{}\t{} bits\tsigns from {from} until {until}\t{role}",
                    key.kid, key.alg, key.bits
                );
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate { kind, delay }) => {
            let store = open_store(&settings, false)
                .await
                .map_err(|e| e.to_string())?;
            let delay = delay.unwrap_or(settings.rotation.publication_delay);
            let (kid, not_before) =
                rotation::rotate(&store, &settings.keys_dir, kind.alg, kind.bits, delay)
                    .await
                    .map_err(|e| e.to_string())?;
            println!("{kid}\tpublished now, signs from {not_before} (in {delay} s)");
            Ok(())
        }
        Command::Keys(KeysCommand::Prune) => {
            let store = open_store(&settings, false)
                .await
                .map_err(|e| e.to_string())?;
            let pruned = rotation::prune(&store, &settings.keys_dir, settings.rotation.retention)
                .await
                .map_err(|e| e.to_string())?;
            for kid in pruned {
                println!("pruned {kid}");
            }
            Ok(())
        }
    }
}

/// Prints `user` as one JSON line ([`users::describe`]).
async fn print_user(store: &Store, user: &tessera::store::User) -> Result<(), String> {
    let view = users::describe(store, user)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string(&view).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// `user list`: every user, a page at a time (no `KEYS`).
async fn list_users(store: &Store) -> Result<(), String> {
    let mut cursor = None;
    loop {
        let page = users::list(store, cursor.as_deref(), users::MAX_PAGE)
            .await
            .map_err(|e| e.to_string())?;
        for user in &page.users {
            print_user(store, user).await?;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

async fn client_command(
    store: &Store,
    settings: &Settings,
    command: ClientCommand,
) -> Result<(), String> {
    match command {
        ClientCommand::Add {
            client_id,
            public,
            policy,
        } => {
            // Where this machine sees the keys directory, refuse an algorithm without a key.
            if let Ok(keys) = KeySet::load(&settings.keys_dir) {
                clients::check_signing_keys(&policy, &keys).map_err(|e| e.to_string())?;
            }
            let registration = clients::Registration {
                client_id: client_id.clone(),
                public,
                policy: *policy,
                ..clients::Registration::default()
            };
            let secret = clients::add_client(store, registration)
                .await
                .map_err(|e| e.to_string())?;
            println!("client_id: {client_id}");
            if let Some(secret) = secret {
                println!("client_secret: {secret}");
                eprintln!("The secret is shown only now; tessera keeps only its hash.");
            }
        }
        ClientCommand::List => {
            for client in store.clients().await.map_err(|e| e.to_string())? {
                let line = serde_json::to_string(&clients::describe(&client))
                    .map_err(|e| e.to_string())?;
                println!("{line}");
            }
        }
        ClientCommand::RotateSecret { client_id } => {
            let secret = clients::rotate_secret(store, &client_id)
                .await
                .map_err(|e| e.to_string())?;
            println!("client_secret: {secret}");
            eprintln!("The secret is shown only now; the old one no longer works.");
        }
        ClientCommand::Remove { client_id } => {
            clients::remove_client(store, &client_id)
                .await
                .map_err(|e| e.to_string())?;
            println!("removed {client_id}");
        }
    }
    Ok(())
}

async fn serve(settings: Settings, dev: bool) -> Result<(), String> {
    let store = open_store(&settings, dev)
        .await
        .map_err(|e| e.to_string())?;
    let keys = if dev {
        KeySet::load_or_generate(&settings.keys_dir).map_err(|e| e.to_string())?
    } else {
        rotation::load(&store, &settings.keys_dir, &settings.rotation)
            .await
            .map_err(|e| e.to_string())?
    };
    let listen = settings.listen;
    let issuer = settings.issuer.clone();
    let mut settings = settings;
    if dev {
        if settings.data_key.is_none() {
            settings.data_key = Some(Arc::new(tessera::datakey::DataKey::generate()));
        }
        // Plain http on localhost: browsers drop `Secure` cookies there.
        settings.cookie_secure = false;
    }
    let app = Application::build(settings, store, Arc::new(keys))
        .await
        .map_err(|e| e.to_string())?;
    if dev {
        seed_demo(&app).await?;
    }
    tracing::info!(%listen, %issuer, dev, "tessera listening");
    app.run().await.map_err(|e| e.to_string())
}

/// `--dev`: a demo user with a random password and a public demo client, printed once.
async fn seed_demo(app: &Application) -> Result<(), String> {
    let state = app.state();
    let password = tessera::secret::random_token()[..16].to_owned();
    users::add_user(
        &state.store,
        &state.hasher,
        "demo",
        Some("demo@example.test".into()),
        Some(&password),
    )
    .await
    .map_err(|e| e.to_string())?;
    let demo = clients::Registration {
        client_id: "demo-app".into(),
        public: true,
        policy: ClientPolicy {
            grant_types: vec![
                "password".into(),
                "refresh_token".into(),
                tessera::device::DEVICE_CODE_GRANT.into(),
            ],
            scopes: ["openid", "profile", "email", "offline_access"]
                .map(String::from)
                .to_vec(),
            ..ClientPolicy::default()
        },
        ..clients::Registration::default()
    };
    clients::add_client(&state.store, demo)
        .await
        .map_err(|e| e.to_string())?;
    println!("tessera --dev: in-memory store; nothing is kept after exit.");
    println!("  issuer:   {}", state.settings.issuer);
    println!("  user:     demo");
    println!("  password: {password}");
    println!("  client:   demo-app (public)");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tessera: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e}");
            ExitCode::FAILURE
        }
    }
}
