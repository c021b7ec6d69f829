//! `tessera client ...`: client registrations on the configured store.

use tessera::clients;
use tessera::config::Settings;
use tessera::keys::KeySet;
use tessera::store::{Backend, Store};

use super::ClientCommand;

/// Runs `command` on `store`.
///
/// # Errors
/// One line naming what failed.
pub async fn run(store: &Store, settings: &Settings, command: ClientCommand) -> Result<(), String> {
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
                .map_err(|e| match e {
                    // The refused value, naming the flag that gave it.
                    clients::ClientError::Metadata(m) => m.for_cli(),
                    e => e.to_string(),
                })?;
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
