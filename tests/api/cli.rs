//! The operator's messages: each test starts the real `tessera` binary (a clean environment, a
//! temporary working directory so no `config/default.toml` is read) and reads what it prints.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{eventually, free_port, redis_url, unique};

/// The binary, in an empty temporary directory, with only `PATH` and `env` in its environment.
pub(crate) struct Tessera {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Tessera {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    pub(crate) fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.to_owned(), value.into()));
        self
    }

    /// Listening on a port of the system's choice: for `serve` runs that must fail at start-up
    /// (the pages are loaded after the port is bound), so parallel tests do not race for 8080.
    pub(crate) fn any_port() -> Self {
        Self::new().env("TESSERA_LISTEN", "127.0.0.1:0")
    }

    /// On the private Redis, with keys in the working directory's `keys/`.
    pub(crate) fn on_redis() -> Self {
        Self::new().env("TESSERA_REDIS_URL", redis_url())
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs `args` with `stdin` as standard input (a pipe, so not a terminal).
    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).stdin(Stdio::null()).output().unwrap()
    }

    /// Runs `args`, expecting failure; returns standard error.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
        stderr
    }

    /// Runs `args`, expecting success; returns standard output.
    fn succeeds(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[test]
fn an_unreachable_store_is_named_with_the_cause_and_without_the_password() {
    let port = free_port();
    let url = format!("redis://:hunter2@127.0.0.1:{port}");
    let t = Tessera::new().env("TESSERA_REDIS_URL", &url);
    for args in [&["client", "list"][..], &["user", "list"], &["serve"]] {
        let stderr = t.fails(args);
        assert!(
            stderr.contains(&format!(
                "Redis at redis://127.0.0.1:{port}: connection refused"
            )),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
    // RFC 6761: `.invalid` never resolves.
    let t = Tessera::new().env("TESSERA_REDIS_URL", "redis://tessera.invalid:6379");
    let stderr = t.fails(&["client", "list"]);
    assert!(
        stderr.contains("Redis at redis://tessera.invalid:6379: DNS lookup failed"),
        "{stderr}"
    );
}

#[test]
fn a_store_that_never_answers_times_out_after_the_configured_milliseconds() {
    // A listener that accepts connections (the kernel completes the handshake) but never
    // answers: what an unroutable or filtered address looks like from here, without depending
    // on the network (some sandboxes answer every address).
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let t = Tessera::new()
        .env("TESSERA_REDIS_URL", format!("redis://127.0.0.1:{port}"))
        .env("TESSERA_REDIS_TIMEOUT_MS", "100");
    let stderr = t.fails(&["client", "list"]);
    assert!(
        stderr.contains(&format!(
            "Redis at redis://127.0.0.1:{port}: timed out after 100 ms"
        )),
        "{stderr}"
    );
    drop(silent);
}

#[test]
fn a_wrong_store_password_is_an_authentication_failure() {
    let url = redis_url().replacen("redis://", "redis://:not-the-password@", 1);
    let stderr = Tessera::new()
        .env("TESSERA_REDIS_URL", url)
        .fails(&["client", "list"]);
    assert!(stderr.contains("authentication failed"), "{stderr}");
    assert!(!stderr.contains("not-the-password"), "{stderr}");
}

#[test]
fn configuration_mistakes_are_named_with_the_fix() {
    let t = Tessera::new().env("TESSERA_LOG_LEVEL", "verbose");
    let stderr = t.fails(&["client", "list"]);
    assert!(
        stderr.contains(
            "configuration key `log_level` (env TESSERA_LOG_LEVEL): `verbose` is not a level"
        ),
        "{stderr}"
    );
    // A typo in the file: its path and line, and the key meant.
    let t = Tessera::new();
    let file = t.dir.path().join("tessera.toml");
    std::fs::write(
        &file,
        "issuer = \"http://127.0.0.1:8080\"\n\nacess_token_ttl = 900\n",
    )
    .unwrap();
    let stderr = t.fails(&["--config", "tessera.toml", "client", "list"]);
    assert!(
        stderr.contains(
            "tessera.toml:3: unknown key `acess_token_ttl`; did you mean `access_token_ttl`?"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("expected one of"),
        "not the list of keys: {stderr}"
    );
    // The type error names the unit, in the file and in the environment.
    std::fs::write(&file, "access_token_ttl = \"15m\"\n").unwrap();
    let stderr = t.fails(&["--config", "tessera.toml", "client", "list"]);
    assert!(
        stderr.contains("key `access_token_ttl` (env TESSERA_ACCESS_TOKEN_TTL) in ")
            && stderr.contains("tessera.toml: expected whole seconds, got string \"15m\""),
        "{stderr}"
    );
    let stderr = Tessera::new()
        .env("TESSERA_REDIS_TIMEOUT_MS", "1s")
        .fails(&["client", "list"]);
    assert!(
        stderr.contains("expected whole milliseconds, got string \"1s\""),
        "{stderr}"
    );
    // A near miss in the environment is a warning with the suggestion.
    let stderr = Tessera::new()
        .env("TESSERA_ACESS_TOKEN_TTL", "900")
        .env("TESSERA_UNRELATED_SCRIPT_SETTING", "x")
        .fails(&["client", "list"]);
    assert!(
        stderr.contains(
            "warning: TESSERA_ACESS_TOKEN_TTL is not a configuration variable and is ignored; \
             did you mean TESSERA_ACCESS_TOKEN_TTL?"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("UNRELATED"), "{stderr}");
}

#[test]
fn help_names_each_option_s_environment_variable() {
    let help = Tessera::new().succeeds(&["serve", "--help"]);
    for name in [
        "TESSERA_CONFIG",
        "TESSERA_REDIS_URL",
        "TESSERA_DATA_KEY",
        "TESSERA_ISSUER",
        "TESSERA_ACCESS_TOKEN_TTL",
    ] {
        assert!(help.contains(name), "{name} in {help}");
    }
    assert!(Tessera::new()
        .succeeds(&["--help"])
        .contains("TESSERA_LOG_LEVEL"));
}

#[test]
fn keys_generate_warns_when_keys_exist() {
    let t = Tessera::new();
    let first = t.run(&["keys", "generate"]);
    assert!(first.status.success());
    assert!(!String::from_utf8_lossy(&first.stderr).contains("warning"));
    let second = t.run(&["keys", "generate", "--alg", "ES256"]);
    assert!(second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("already holds 1 key(s)") && stderr.contains("tessera keys rotate"),
        "{stderr}"
    );
    // stdout stays the kid alone, for scripts.
    assert_eq!(String::from_utf8_lossy(&second.stdout).lines().count(), 1);
}

#[test]
fn the_user_life_cycle_from_the_cli() {
    let t = Tessera::on_redis();
    let name = unique("cli");
    // A piped password without --password-stdin is refused, saying so.
    let out = t.run_with_stdin(&["user", "add", &name], "pw-123456789\n");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("standard input is not a terminal: pass --password-stdin"),
        "{stderr}"
    );
    let out = t.run_with_stdin(
        &[
            "user",
            "add",
            &name,
            "--password-stdin",
            "--email",
            "c@example.test",
        ],
        "pw-123456789\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sub = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let show = |t: &Tessera| -> Value {
        serde_json::from_str(t.succeeds(&["user", "show", &name]).trim()).unwrap()
    };
    assert_eq!(show(&t)["sub"], sub.as_str());
    assert_eq!(show(&t)["disabled"], false);
    assert_eq!(t.succeeds(&["user", "disable", &name]).trim(), sub);
    assert_eq!(show(&t)["disabled"], true);
    assert_eq!(t.succeeds(&["user", "enable", &name]).trim(), sub);
    assert_eq!(show(&t)["disabled"], false);
    let listed = t.succeeds(&["user", "list"]);
    assert!(
        listed
            .lines()
            .any(|l| serde_json::from_str::<Value>(l).unwrap()["sub"] == sub.as_str()),
        "listed"
    );
    assert_eq!(t.succeeds(&["user", "remove", &name]).trim(), sub);
    let stderr = t.fails(&["user", "show", &name]);
    assert!(stderr.starts_with("tessera: "), "{stderr}");
    assert!(!t.succeeds(&["user", "list"]).contains(&sub));
}

/// Starts `serve --dev` on a free port with keys under `keys`; returns the child, its base URL
/// and the lines it printed up to the exchange command.
fn start_dev(keys: &std::path::Path) -> (Child, String, Vec<String>) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Tessera::new()
        .env("TESSERA_LISTEN", format!("127.0.0.1:{port}"))
        .env("TESSERA_ISSUER", &base)
        .env("TESSERA_KEYS_DIR", keys.to_string_lossy())
        .command(&["serve", "--dev"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap_or(0) == 0 {
            let status = child.wait();
            panic!("serve --dev ended ({status:?}) after {lines:?}");
        }
        let done = line.contains("code_verifier=");
        lines.push(line.trim().to_owned());
        if done {
            break;
        }
    }
    (child, base, lines)
}

#[tokio::test]
async fn dev_prints_a_browser_sign_in_and_keeps_its_keys_from_production() {
    let keys = tempfile::tempdir().unwrap();
    let (mut child, base, lines) = start_dev(keys.path());
    let url = lines
        .iter()
        .find(|l| l.starts_with(&format!("{base}/oauth2/authorize?")))
        .unwrap_or_else(|| panic!("an authorization URL in {lines:?}"))
        .clone();
    let http = crate::helpers::http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    eventually(Duration::from_secs(10), "dev server ready", || async {
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("name=\"password\""));
    child.kill().unwrap();
    child.wait().unwrap();

    // The development keys are not in the keys directory itself ...
    let top: Vec<_> = std::fs::read_dir(keys.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pem"))
        .collect();
    assert!(top.is_empty(), "{top:?}");
    // ... so a production start with that directory refuses, saying why.
    let stderr = Tessera::on_redis()
        .env("TESSERA_KEYS_DIR", keys.path().to_string_lossy())
        .env(
            "TESSERA_DATA_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .env("TESSERA_LISTEN", format!("127.0.0.1:{}", free_port()))
        .fails(&["serve"]);
    assert!(
        stderr.contains("are `serve --dev`'s and are never used outside --dev")
            && stderr.contains("tessera keys generate"),
        "{stderr}"
    );
}

#[tokio::test]
async fn dev_reloads_its_own_keys_without_warnings() {
    // The key refresher reads `keys_dir/dev` under --dev (the newcomer run saw "key set reload
    // failed" every refresh while it read `keys_dir`).
    let keys = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Tessera::new()
        .env("TESSERA_LISTEN", format!("127.0.0.1:{port}"))
        .env("TESSERA_ISSUER", format!("http://127.0.0.1:{port}"))
        .env("TESSERA_KEYS_DIR", keys.path().to_string_lossy())
        .env("TESSERA_KEY_REFRESH_INTERVAL", "1")
        .command(&["serve", "--dev"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    // Every line up to the end of the stream (the server's stop closes it).
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    // Three refresh intervals (the first tick runs at start-up).
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let _ = child.kill();
    let _ = child.wait();
    let lines = reader.join().unwrap();
    assert!(
        !lines.iter().any(|l| l.contains("key set reload failed")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("tessera listening")),
        "the server started: {lines:?}"
    );
}
