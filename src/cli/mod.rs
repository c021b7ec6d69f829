//! The command line's shape (clap): `serve`, `user`, `client`, `keys`, and the help text naming
//! every configuration key's environment variable.

pub mod client;
pub mod keys;
pub mod serve;
pub mod user;

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use tessera::store::{ClientPolicy, SigningAlg};

/// A small, fast OAuth 2 / OpenID Connect token issuer.
#[derive(Parser)]
#[command(version, about)]
pub struct Cli {
    /// Configuration file (TOML); default: config/default.toml when present.
    #[arg(long, global = true, value_name = "FILE", env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
pub struct PasswordInput {
    /// Read the password from standard input instead of the terminal (required when standard
    /// input is not a terminal).
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Subcommand)]
pub enum UserCommand {
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
    /// Enable a disabled user again (their sessions stay revoked); prints the `sub`.
    Enable {
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
    /// Remove a user and every session; the username becomes free. Prints the `sub`.
    #[command(alias = "delete")]
    Remove {
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
pub enum ClientCommand {
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
pub enum KeysCommand {
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
pub struct KeyKind {
    /// Algorithm: RS256 (RSA), ES256 (EC P-256) or EdDSA (Ed25519); each has its own key.
    #[arg(long, value_enum, default_value_t = SigningAlg::Rs256)]
    pub alg: SigningAlg,
    /// RSA modulus size in bits: 2048, 3072 or 4096 (ignored for ES256 and EdDSA).
    #[arg(long, default_value_t = 2048)]
    pub bits: usize,
}

/// Parses the command line; `--help` of the program and of `serve` ends with the
/// configuration keys, each with its environment variable and default.
pub fn parse() -> Cli {
    let reference = tessera::config::environment_help();
    let command = Cli::command()
        .after_long_help(reference.clone())
        .mut_subcommand("serve", |serve| serve.after_help(reference));
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}
