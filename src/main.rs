//! The `tessera` command line: `serve`, `user`, `client`, `keys` (shape and handlers in
//! `cli/`).

mod cli;

use std::process::ExitCode;

use tessera::config::{RawSettings, Settings};
use tessera::{open_store, telemetry};

use cli::{Cli, Command};

fn settings(cli: &Cli) -> Result<Settings, String> {
    RawSettings::load(cli.config.as_deref())
        .and_then(RawSettings::validate)
        .map_err(|e| e.to_string())
}

async fn run(cli: Cli) -> Result<(), String> {
    let settings = settings(&cli)?;
    for warning in tessera::config::env_warnings(std::env::vars()) {
        eprintln!("tessera: {warning}");
    }
    telemetry::init(&settings.log_level);
    match cli.command {
        Command::Serve { dev } => cli::serve::run(settings, dev).await,
        Command::User(command) => cli::user::run(&settings, command).await,
        Command::Client(command) => {
            let store = open_store(&settings, false)
                .await
                .map_err(|e| e.to_string())?;
            cli::client::run(&store, &settings, command).await
        }
        Command::Keys(command) => cli::keys::run(&settings, command).await,
    }
}

fn main() -> ExitCode {
    let cli = cli::parse();
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
