//! The connection to a standalone Redis: one multiplexed connection that knows when it died,
//! replaced before a command is sent on it, so the first request after Redis returns succeeds.
//!
//! Why not redis-rs's `ConnectionManager`: with RESP2 it learns that its connection died only
//! from a command that fails on it, and it keeps a failed reconnection attempt until a
//! command fails on that too; so the first request after Redis restarted failed, and its
//! reconnection back-off (retries with sleeps of a second) made requests with Redis down take
//! seconds. Here the connection's driver task (spawned by [`Link::open`]) marks the link dead
//! the moment the socket ends (EOF, reset), a dead link is re-opened before use (one attempt,
//! bounded by the timeout), and every command, re-opening included, is bounded by the timeout
//! ([`bounded`]): with Redis down a command fails within `redis_timeout_ms`, and the
//! first failing command ends its request (503).
//!
//! Retries: a command whose connection broke after it was sent has an unknown outcome (it may
//! have run). Only commands that are safe to repeat ([`safe_to_repeat`]: reads) are sent again,
//! once, on a new connection. Scripts, `MULTI` pipelines and writes never are: repeating a
//! refresh rotation, a code redemption, a failure count or a TOTP step would revoke a family,
//! count twice or refuse a valid code. A command is only ever sent on a live link, so one that
//! failed because its link was dead or could not be opened never ran.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{Arg, Cmd, ConnectionAddr, ConnectionInfo, Pipeline, RedisError, RedisFuture, Value};

/// One multiplexed connection and whether its socket still lives.
struct Link {
    conn: MultiplexedConnection,
    alive: Arc<AtomicBool>,
}

impl Link {
    /// Connects to `info` (TCP or a Unix socket), authenticates and selects the database; the
    /// driver task marks the link dead when the socket ends. Not bounded here (see
    /// [`bounded`]).
    async fn open(info: &ConnectionInfo, timeout: Duration) -> redis::RedisResult<Self> {
        let config = redis::AsyncConnectionConfig::new().set_response_timeout(timeout);
        match &info.addr {
            ConnectionAddr::Tcp(host, port) => {
                let stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                stream.set_nodelay(true)?;
                Self::over(info, stream, config).await
            }
            ConnectionAddr::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path).await?;
                Self::over(info, stream, config).await
            }
            ConnectionAddr::TcpTls { .. } => Err(RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "rediss:// (TLS) is not supported by this build; use redis:// on a trusted network or a TLS tunnel",
            ))),
        }
    }

    /// The connection over `stream`, its driver spawned to mark the link dead when it ends.
    async fn over<S>(
        info: &ConnectionInfo,
        stream: S,
        config: redis::AsyncConnectionConfig,
    ) -> redis::RedisResult<Self>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (conn, driver) =
            MultiplexedConnection::new_with_config(&info.redis, stream, config).await?;
        let alive = Arc::new(AtomicBool::new(true));
        let flag = alive.clone();
        tokio::spawn(async move {
            driver.await;
            flag.store(false, Ordering::Release);
        });
        Ok(Self { conn, alive })
    }

    fn alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Marks the link dead: its connection broke under a command (the driver may not have
    /// noticed yet).
    fn forget(&self) {
        self.alive.store(false, Ordering::Release);
    }
}

/// The shared connection to a standalone server (see the module docs). Cloning shares it.
#[derive(Clone)]
pub(super) struct Single {
    info: Arc<ConnectionInfo>,
    timeout: Duration,
    link: Arc<ArcSwapOption<Link>>,
    /// Held while (re-)opening, so concurrent requests share one attempt.
    opening: Arc<tokio::sync::Mutex<()>>,
}

impl Single {
    /// Parses `url` and opens the first connection, bounded by `timeout`.
    ///
    /// # Errors
    /// The URL is invalid or the first connection fails.
    pub(super) async fn connect(url: &str, timeout: Duration) -> redis::RedisResult<Self> {
        let info = redis::Client::open(url)?.get_connection_info().clone();
        let single = Self {
            info: Arc::new(info),
            timeout,
            link: Arc::new(ArcSwapOption::empty()),
            opening: Arc::new(tokio::sync::Mutex::new(())),
        };
        bounded(timeout, single.live()).await?;
        Ok(single)
    }

    /// A live link: the current one, or a new one when it died (one attempt).
    async fn live(&self) -> redis::RedisResult<Arc<Link>> {
        let current = || self.link.load_full().filter(|l| l.alive());
        if let Some(link) = current() {
            return Ok(link);
        }
        let _opening = self.opening.lock().await;
        if let Some(link) = current() {
            return Ok(link);
        }
        let link = Arc::new(Link::open(&self.info, self.timeout).await?);
        self.link.store(Some(link.clone()));
        Ok(link)
    }
}

/// `work` bounded by `timeout`: an answer or an error within `redis_timeout_ms`, connecting
/// included.
async fn bounded<T>(
    timeout: Duration,
    work: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> redis::RedisResult<T> {
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()),
    }
}

/// Whether `cmd` may be sent again after its connection broke with the outcome unknown: a
/// read (repeating it changes nothing). Scripts and writes are not.
fn safe_to_repeat(cmd: &Cmd) -> bool {
    const READS: &[&[u8]] = &[
        b"GET",
        b"MGET",
        b"EXISTS",
        b"HGET",
        b"HMGET",
        b"HGETALL",
        b"SMEMBERS",
        b"SISMEMBER",
        b"SCARD",
        b"ZRANGEBYLEX",
        b"ZRANGE",
        b"ZCARD",
        b"PTTL",
        b"TTL",
        b"PING",
    ];
    match cmd.args_iter().next() {
        Some(Arg::Simple(name)) => READS.iter().any(|r| r.eq_ignore_ascii_case(name)),
        _ => false,
    }
}

impl ConnectionLike for Single {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let timeout = self.timeout;
        Box::pin(bounded(timeout, async move {
            let link = self.live().await?;
            match link.conn.clone().req_packed_command(cmd).await {
                Err(e) if e.is_connection_dropped() => {
                    link.forget();
                    if !safe_to_repeat(cmd) {
                        return Err(e);
                    }
                    self.live()
                        .await?
                        .conn
                        .clone()
                        .req_packed_command(cmd)
                        .await
                }
                other => other,
            }
        }))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let timeout = self.timeout;
        Box::pin(bounded(timeout, async move {
            let link = self.live().await?;
            let result = link
                .conn
                .clone()
                .req_packed_commands(cmd, offset, count)
                .await;
            if result
                .as_ref()
                .is_err_and(RedisError::is_connection_dropped)
            {
                link.forget();
            }
            result
        }))
    }

    fn get_db(&self) -> i64 {
        self.info.redis.db
    }
}
