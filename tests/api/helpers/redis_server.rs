//! A private redis-server on a free port, which a test may stop, freeze and restart (Redis
//! outages; Sentinel failovers).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::free_port;

/// A private redis-server child process; dropped, it is killed.
pub struct PrivateRedis {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl PrivateRedis {
    fn binary() -> String {
        std::env::var("TESSERA_TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
    }

    /// Starts on `port` with its data in `dir` (a restart after [`PrivateRedis::stop`]).
    pub fn start_on(port: u16, dir: tempfile::TempDir) -> Self {
        Self::start_with(port, dir, &[])
    }

    /// Starts on `port` with `extra` arguments (after an optional config file path first).
    pub fn start_with(port: u16, dir: tempfile::TempDir, extra: &[&str]) -> Self {
        let mut command = Command::new(Self::binary());
        if let Some(conf) = extra.first().filter(|a| a.ends_with(".conf")) {
            command.arg(conf);
        }
        let child = command
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .args(extra.iter().filter(|a| !a.ends_with(".conf")))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server (set TESSERA_TEST_REDIS_SERVER)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { port, child, dir }
    }

    /// Starts on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port(), tempfile::tempdir().unwrap())
    }

    /// Stops the server (connections refused from now on); its port and data directory, for
    /// [`PrivateRedis::start_on`].
    pub fn stop(mut self) -> (u16, tempfile::TempDir) {
        self.kill();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (self.port, dir)
    }

    /// Writes a snapshot to its data directory (`SAVE`), which a restart on that directory
    /// loads: the data survives [`PrivateRedis::stop`].
    pub fn save(&self) {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/0", self.port)).unwrap();
        let mut conn = client.get_connection().unwrap();
        redis::cmd("SAVE").exec(&mut conn).unwrap();
    }

    /// Freezes (`true`, SIGSTOP) or thaws (`false`, SIGCONT) the server: frozen, it accepts
    /// TCP connections into its backlog but answers nothing, as a hung or unreachable Redis.
    pub fn freeze(&self, frozen: bool) {
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} redis-server");
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test never leaves a redis-server behind (it would also hold the test run's output open).
impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
