//! `tessera keys ...`: signing keys in the keys directory (and their rotation metadata in the
//! configured store).

use tessera::config::Settings;
use tessera::keys::{generate_key, rotation, KeyError, KeySet};
use tessera::open_store;

use super::KeysCommand;

/// Runs `command`.
///
/// # Errors
/// One line naming what failed.
pub async fn run(settings: &Settings, command: KeysCommand) -> Result<(), String> {
    match command {
        KeysCommand::Generate { kind } => {
            warn_if_keys_exist(settings);
            let kid =
                generate_key(&settings.keys_dir, kind.alg, kind.bits).map_err(|e| e.to_string())?;
            println!("{kid}");
        }
        KeysCommand::List => {
            let store = open_store(settings, settings.store.url.is_none())
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
        }
        KeysCommand::Rotate { kind, delay } => {
            let store = open_store(settings, false)
                .await
                .map_err(|e| e.to_string())?;
            let delay = delay.unwrap_or(settings.rotation.publication_delay);
            let (kid, not_before) =
                rotation::rotate(&store, &settings.keys_dir, kind.alg, kind.bits, delay)
                    .await
                    .map_err(|e| e.to_string())?;
            println!("{kid}\tpublished now, signs from {not_before} (in {delay} s)");
        }
        KeysCommand::Prune => {
            let store = open_store(settings, false)
                .await
                .map_err(|e| e.to_string())?;
            let pruned = rotation::prune(&store, &settings.keys_dir, settings.rotation.retention)
                .await
                .map_err(|e| e.to_string())?;
            for kid in pruned {
                println!("pruned {kid}");
            }
        }
    }
    Ok(())
}

/// `keys generate` makes a key that signs at once: where keys exist already, that is a rotation
/// without the publication delay, so the operator is told (on stderr; the kid stays alone on
/// stdout).
fn warn_if_keys_exist(settings: &Settings) {
    let existing = match KeySet::load(&settings.keys_dir) {
        Ok(keys) => keys.keys().count(),
        Err(KeyError::Empty(_) | KeyError::Io { .. }) => 0,
        // An unreadable key is reported by the commands that load keys.
        Err(_) => 1,
    };
    if existing > 0 {
        eprintln!(
            "tessera: warning: {} already holds {existing} key(s); the new key signs at once \
             when the servers next load keys, before relying parties have fetched it. On a \
             running deployment use `tessera keys rotate` instead.",
            settings.keys_dir.display()
        );
    }
}
