//! The shared connection: one multiplexed connection (a standalone server's, see `link.rs`;
//! the cluster client's; or the master Sentinel names; all reconnect by themselves) is shared
//! by all workers, so a request costs no pool check-out round trip.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelServerType};
use redis::{Cmd, Pipeline, RedisFuture, Value};

use super::diagnose::Target;
use super::link::Single;
use crate::error::StoreError;

/// The shared connection: a standalone server, a Redis Cluster, or the master named by Redis
/// Sentinel.
#[derive(Clone)]
pub(super) enum Conn {
    Single(Single),
    Cluster(ClusterConnection),
    Sentinel(SentinelConn),
}

/// A multiplexed connection to the master Sentinel names. When a command fails because the
/// connection broke or the server is no longer the master (after a failover it answers
/// `READONLY`), the master is asked of Sentinel again and the command retried once.
#[derive(Clone)]
pub(super) struct SentinelConn {
    sentinel: Arc<tokio::sync::Mutex<SentinelClient>>,
    master: Arc<tokio::sync::Mutex<Option<MultiplexedConnection>>>,
    timeout: Duration,
}

impl SentinelConn {
    /// The current master connection, resolving it through Sentinel when there is none.
    async fn connection(&self) -> redis::RedisResult<MultiplexedConnection> {
        let mut master = self.master.lock().await;
        if let Some(conn) = master.as_ref() {
            return Ok(conn.clone());
        }
        let client = self.sentinel.lock().await.async_get_client().await?;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout);
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        *master = Some(conn.clone());
        Ok(conn)
    }

    async fn forget_master(&self) {
        *self.master.lock().await = None;
    }

    /// Whether `e` means "ask Sentinel again": a broken connection or a demoted master.
    fn stale(e: &redis::RedisError) -> bool {
        e.is_io_error()
            || e.is_connection_dropped()
            || e.is_timeout()
            || e.kind() == redis::ErrorKind::ReadOnly
    }
}

impl ConnectionLike for SentinelConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let mut conn = self.connection().await?;
            match conn.req_packed_command(cmd).await {
                Err(e) if Self::stale(&e) => {
                    self.forget_master().await;
                    self.connection().await?.req_packed_command(cmd).await
                }
                other => other,
            }
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let mut conn = self.connection().await?;
            match conn.req_packed_commands(cmd, offset, count).await {
                Err(e) if Self::stale(&e) => {
                    self.forget_master().await;
                    self.connection()
                        .await?
                        .req_packed_commands(cmd, offset, count)
                        .await
                }
                other => other,
            }
        })
    }

    fn get_db(&self) -> i64 {
        0
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
            Conn::Sentinel(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Sentinel(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
            Conn::Sentinel(c) => c.get_db(),
        }
    }
}

impl Conn {
    /// Connects to `url`, bounding every command (a reconnection included) by `timeout`.
    ///
    /// # Errors
    /// [`StoreError`] when the URL is invalid or the first connection fails.
    pub(super) async fn single(url: &str, timeout: Duration) -> redis::RedisResult<Self> {
        Ok(Conn::Single(Single::connect(url, timeout).await?))
    }

    /// Connects to a Redis Cluster through the seed node URLs `nodes`, bounding connection
    /// attempts and every command by `timeout`.
    ///
    /// # Errors
    /// [`StoreError`] when no seed node answers.
    pub(super) async fn cluster(nodes: &[&str], timeout: Duration) -> redis::RedisResult<Self> {
        let client = redis::cluster::ClusterClient::builder(nodes.to_vec())
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .retries(2)
            .build()?;
        Ok(Conn::Cluster(client.get_async_connection().await?))
    }

    /// Connects to the master named `master` by the Sentinels at `sentinels`, bounding every
    /// connection attempt and command by `timeout`; follows failovers (see `SentinelConn`).
    ///
    /// # Errors
    /// [`StoreError`] when no Sentinel names a reachable master.
    pub(super) async fn sentinel(
        sentinels: &[&str],
        master: &str,
        timeout: Duration,
    ) -> redis::RedisResult<Self> {
        let client = SentinelClient::build(
            sentinels.to_vec(),
            master.to_owned(),
            None,
            SentinelServerType::Master,
        )?;
        let conn = SentinelConn {
            sentinel: Arc::new(tokio::sync::Mutex::new(client)),
            master: Arc::new(tokio::sync::Mutex::new(None)),
            timeout,
        };
        conn.connection().await?;
        Ok(Conn::Sentinel(conn))
    }
}

/// Constructors: one per deployment shape.
impl super::RedisStore {
    /// Connects to `url`, bounding connection attempts and every command by `timeout`.
    ///
    /// # Errors
    /// [`StoreError`] naming the URL (without its password) and the cause when the URL is
    /// invalid or the first connection fails.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        let target = Target::new(&[url], timeout);
        let conn = Conn::single(url, timeout).await;
        Self::with(conn.map_err(|e| target.error(&e))?, target)
    }

    /// Connects to a Redis Cluster through the seed node URLs `nodes`, bounding connection
    /// attempts and every command by `timeout`.
    ///
    /// # Errors
    /// [`StoreError`] naming the nodes and the cause when no seed node answers.
    pub async fn connect_cluster(nodes: &[&str], timeout: Duration) -> Result<Self, StoreError> {
        let target = Target::new(nodes, timeout);
        let conn = Conn::cluster(nodes, timeout).await;
        Self::with(conn.map_err(|e| target.error(&e))?, target)
    }

    /// Connects to the master named `master` by the Sentinels at `sentinels`, bounding every
    /// connection attempt and command by `timeout`; follows failovers.
    ///
    /// # Errors
    /// [`StoreError`] naming the Sentinels and the cause when no Sentinel names a reachable
    /// master.
    pub async fn connect_sentinel(
        sentinels: &[&str],
        master: &str,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let target = Target::new(sentinels, timeout);
        let conn = Conn::sentinel(sentinels, master, timeout).await;
        Self::with(conn.map_err(|e| target.error(&e))?, target)
    }

    /// `PING`; a failure names the servers and the cause (for `/readyz` and start-up).
    pub(super) async fn ping_described(&self) -> Result<(), StoreError> {
        let pong: redis::RedisResult<String> =
            redis::cmd("PING").query_async(&mut self.conn.clone()).await;
        pong.map(drop).map_err(|e| self.target.error(&e))
    }

    fn with(conn: Conn, target: Target) -> Result<Self, StoreError> {
        let errors = prometheus::IntCounter::new(
            "store_errors_total",
            "Store (Redis) commands that failed or timed out",
        )
        .map_err(|e| StoreError(e.to_string()))?;
        Ok(Self {
            conn,
            target,
            errors,
            notices: std::sync::Arc::new(crate::store::names::notices("")),
        })
    }

    /// `SET key json [NX]`; `false` when `create_only` and the key exists.
    pub(super) async fn set_json(
        &self,
        key: &str,
        json: String,
        create_only: bool,
    ) -> Result<bool, StoreError> {
        let mut set = redis::cmd("SET");
        set.arg(key).arg(json);
        if create_only {
            set.arg("NX");
        }
        let written: Option<String> = set.query_async(&mut self.conn.clone()).await?;
        Ok(written.is_some())
    }
}
