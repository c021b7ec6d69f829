//! Operator mistakes in the configuration, each told in one line with the fix: an unknown key
//! in the file ("did you mean ...?", with the file's path and line), a value of the wrong type
//! (naming the unit: "expected whole seconds, got \"15m\""), a `TESSERA_*` variable that is
//! close to a key but matches none (a warning), and a `log_level` that would switch logs off.

use std::path::Path;

use figment::error::Kind;

use super::{invalid, ConfigError, RawSettings};

/// Edit distance up to which a name counts as a typo of a key.
const NEAR: usize = 2;

/// Every top-level key of the file (and, upper-cased after `TESSERA_`, of the environment).
pub(super) fn keys() -> Vec<String> {
    match serde_json::to_value(RawSettings::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The key closest to `name`, when within [`NEAR`] edits.
fn nearest<'a>(name: &str, keys: &'a [String]) -> Option<&'a str> {
    keys.iter()
        .map(|k| (strsim::levenshtein(name, k), k))
        .filter(|(d, _)| *d <= NEAR)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

/// The environment variable of `key`.
fn env_of(key: &str) -> String {
    format!("TESSERA_{}", key.to_ascii_uppercase())
}

/// What a number of `key` counts, from the key's name (the convention of `config/default.toml`).
fn unit_of(key: &str) -> Option<&'static str> {
    if key.ends_with("_ms") {
        Some("whole milliseconds")
    } else if key.ends_with("_kib") {
        Some("whole KiB")
    } else if key.ends_with("_ttl")
        || key.ends_with("_window")
        || key.ends_with("_interval")
        || key.ends_with("_delay")
        || key.ends_with("_max_age")
        || key.ends_with("_backoff_max")
    {
        Some("whole seconds")
    } else {
        None
    }
}

/// The configuration keys for `--help`: each with its environment variable and default.
pub fn environment_help() -> String {
    let defaults = match serde_json::to_value(RawSettings::default()) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let mut help = String::from(
        "Configuration (file key, environment variable, default; the environment overrides the \
         file, see config/default.toml):\n",
    );
    for (key, default) in defaults.iter().filter(|(k, _)| *k != "clients") {
        let default = match default {
            serde_json::Value::Null => "(unset)".to_owned(),
            serde_json::Value::String(s) if s.is_empty() => "(empty)".to_owned(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        help.push_str(&format!("  {key:<40} {:<48} {default}\n", env_of(key)));
    }
    help
}

/// Warnings for `TESSERA_*` variables of `vars` that set no key but are within a typo of one
/// (other `TESSERA_*` variables, e.g. of scripts, are left alone; `TESSERA_CONFIG` names the
/// file).
pub fn env_warnings(vars: impl Iterator<Item = (String, String)>) -> Vec<String> {
    let keys = keys();
    vars.filter_map(|(name, _)| {
        let key = name.strip_prefix("TESSERA_")?.to_ascii_lowercase();
        if key == "config" || keys.contains(&key) {
            return None;
        }
        let near = nearest(&key, &keys)?;
        Some(format!(
            "warning: {name} is not a configuration variable and is ignored; did you mean {}?",
            env_of(near)
        ))
    })
    .collect()
}

/// One clear line for a figment error of the layers, `file` being the file read.
pub(super) fn describe(e: figment::Error, file: &Path) -> ConfigError {
    let key = e.path.join(".");
    let from = match e.metadata.as_ref() {
        Some(m) => match m.source.as_ref().and_then(|s| s.file_path()) {
            Some(path) => format!("in {}", path.display()),
            None => format!("from the {}", m.name),
        },
        None => String::new(),
    };
    let message = match &e.kind {
        Kind::UnknownField(field, _) => {
            // The path ends with the unknown field itself; what is before it is the table.
            let key = match e.path.split_last() {
                Some((last, table)) if last == field => table.join("."),
                _ => key,
            };
            let location = match line_of(file, field) {
                Some(line) => format!("{}:{line}", file.display()),
                None => file.display().to_string(),
            };
            let place = if key.is_empty() {
                String::new()
            } else {
                format!(" (in `{key}`)")
            };
            let keys = keys();
            match nearest(field, &keys).filter(|_| key.is_empty()) {
                Some(near) => {
                    format!("{location}: unknown key `{field}`{place}; did you mean `{near}`?")
                }
                None => format!(
                    "{location}: unknown key `{field}`{place} (config/default.toml lists every key)"
                ),
            }
        }
        Kind::InvalidType(actual, expected) => {
            let top = e.path.first().map(String::as_str).unwrap_or("");
            let expected = unit_of(top).unwrap_or(expected);
            format!(
                "key `{key}` (env {}) {from}: expected {expected}, got {actual}",
                env_of(top)
            )
        }
        _ => return ConfigError::Load(Box::new(e)),
    };
    ConfigError::Mistake(message)
}

/// The 1-based line of `file` where `key` is set (`key = ...`), if it can be found.
fn line_of(file: &Path, key: &str) -> Option<usize> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix(key)
                .or_else(|| line.strip_prefix(&format!("\"{key}\"")));
            rest.is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// `log_level` must be a `tracing` filter that keeps our logs: a level (`info`), or
/// comma-separated `target=level` directives. A bare word that is not a level would be read as
/// a target name and silently switch every other log off.
pub(super) fn check_log_level(level: &str) -> Result<(), ConfigError> {
    const LEVELS: &str = "trace, debug, info, warn, error or off";
    let bad = |problem: String| invalid("log_level", "TESSERA_LOG_LEVEL", problem);
    for directive in level.split(',').map(str::trim) {
        let level_part = match directive.rsplit_once('=') {
            Some((_, level)) => level,
            None => directive,
        };
        if level_part.is_empty()
            || level_part
                .parse::<tracing_subscriber::filter::LevelFilter>()
                .is_err()
        {
            return Err(bad(format!(
                "`{directive}` is not a level: use {LEVELS}, or target=level directives (e.g. `info,tessera=debug`)"
            )));
        }
    }
    tracing_subscriber::EnvFilter::try_new(level)
        .map(drop)
        .map_err(|e| bad(format!("`{level}` is not a filter: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested_and_others_left_alone() {
        let vars = [
            ("TESSERA_ACESS_TOKEN_TTL", "900"),
            ("TESSERA_REDIS_URL", "redis://x"),
            ("TESSERA_TEST_PYTHON", "/usr/bin/python3"),
            ("TESSERA_CONFIG", "x.toml"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let warnings = env_warnings(vars.into_iter());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("did you mean TESSERA_ACCESS_TOKEN_TTL?"));
    }

    #[test]
    fn log_levels_that_switch_logs_off_are_refused() {
        for ok in ["info", "warn,tessera=debug", "off", "actix_web=warn"] {
            assert!(check_log_level(ok).is_ok(), "{ok}");
        }
        for bad in ["verbose", "inf", "info,tessera=loud", ""] {
            assert!(check_log_level(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn units_come_from_key_names() {
        assert_eq!(unit_of("access_token_ttl"), Some("whole seconds"));
        assert_eq!(unit_of("redis_timeout_ms"), Some("whole milliseconds"));
        assert_eq!(unit_of("jwks_max_age"), Some("whole seconds"));
        assert_eq!(unit_of("issuer"), None);
    }
}
