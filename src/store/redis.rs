//! Redis backend: standalone, Cluster, or Sentinel. One multiplexed connection (`ConnectionManager`, or the
//! cluster client's connection; both reconnect by themselves) is shared by all workers, so a
//! request costs no pool check-out round trip. Every read-check-write is a Lua script (atomic on
//! the server). Every script and pipeline touches one Redis Cluster slot: a family's keys share
//! the hash tag `{<family id>}`, an account's limit keys share `{acct:<username>}`; operations
//! spanning slots (a new family and its user index, the IP and account limits) are separate
//! round trips.
//!
//! Key layout (all under `tessera:`):
//! - `user:<username>` → JSON [`User`]; `sub:<sub>` → username
//! - `client:<client_id>` → JSON [`Client`]; `clients` → set of client ids
//! - `fam:{<id>}` → hash `sub client_id scope auth_time amr username email current`
//!   (TTL = refresh-token TTL)
//! - `fam:{<id>}:used` → set of rotated-away token hashes (same TTL)
//! - `user-fams:<sub>` → set of the user's family ids (TTL = refresh-token TTL, renewed at each
//!   login; families never outlive it because rotation does not extend a family's life)
//! - `totp-step:<sub>` → last accepted TOTP step (TTL 300 s); `recovery:<sub>` → set of
//!   recovery-code hashes; `mfa:<hash>` → hash `login failures` (TTL 300 s)
//! - `data-key-check` → a constant sealed with the data key
//! - `keys` → hash kid → JSON [`KeyMeta`] (rotation metadata); `lock:<name>` → short locks
//! - `<kind>:<hash>` → hash `data [family]` for short-lived records: `authreq`, `session`,
//!   `code`; `session-fams:<hash>` → families opened by a login session

use std::sync::LazyLock;
use std::time::Duration;

use std::sync::Arc;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelServerType};
use redis::{AsyncCommands, Cmd, Pipeline, RedisFuture, Script, Value};

use super::{Client, Family, Redemption, Rotation, TokenState, User};
use crate::error::StoreError;
use crate::keys::KeyMeta;
use crate::ratelimit::{AccountKeys, LoginPolicy, Verdict};

/// Rotation (RFC 9700 §4.14.2): KEYS = family hash, used set; ARGV = presented hash, new hash,
/// client id, requested scopes... The family keeps its expiry (sessions live a fixed time from
/// login); the used set follows it.
static ROTATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local cur = redis.call('HGET', KEYS[1], 'current')
if not cur then return {'invalid'} end
if cur ~= ARGV[1] then
  if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
    local f = redis.call('HMGET', KEYS[1], 'sub', 'client_id')
    redis.call('DEL', KEYS[1], KEYS[2])
    return {'reused', f[1], f[2]}
  end
  return {'invalid'}
end
local f = redis.call('HMGET', KEYS[1], 'sub', 'client_id', 'scope', 'auth_time', 'amr', 'username', 'email')
if f[2] ~= ARGV[3] then return {'invalid'} end
if #ARGV > 3 then
  local granted = {}
  for s in string.gmatch(f[3], '%S+') do granted[s] = true end
  for i = 4, #ARGV do
    if not granted[ARGV[i]] then return {'scope'} end
  end
end
redis.call('HSET', KEYS[1], 'current', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return {'rotated', f[1], f[2], f[3], f[4], f[5], f[6], f[7]}
",
    )
});

/// State of one token: KEYS = family hash, used set; ARGV = token hash.
static STATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local f = redis.call('HMGET', KEYS[1], 'current', 'sub', 'client_id', 'scope', 'auth_time', 'amr', 'username', 'email')
if not f[1] then return {'unknown'} end
local kind = 'unknown'
if f[1] == ARGV[1] then kind = 'current'
elseif redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then kind = 'rotated' end
return {kind, f[2], f[3], f[4], f[5], f[6], f[7], f[8]}
",
    )
});

/// Per-IP login limit: KEYS = ip; ARGV = now ms, attempts per minute. GCRA: every attempt
/// counts (same algorithm as [`crate::ratelimit::gcra`]).
static IP_CHECK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local now = tonumber(ARGV[1])
local interval = math.ceil(60000 / tonumber(ARGV[2]))
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > 60000 then return {'ip', new_tat - now - 60000} end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', new_tat - now)
return {'ok', 0}
",
    )
});

/// Per-account limits: KEYS = account, pair (one hash tag); ARGV = now ms, failure limit,
/// back-off base ms, back-off max ms, failure window ms.
///
/// 1. Account back-off: refused while `until` lies ahead.
/// 2. Pair: at most `limit` unresolved attempts per (account, IP).
/// 3. Account: the attempt is counted *before* the password is checked (a success clears the
///    count), so parallel attempts cannot overshoot; reaching the limit starts the back-off
///    base × 2^(n − limit) (same rule as [`crate::ratelimit::backoff_ms`]).
static ACCOUNT_CHECK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[5])
local until_ms = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if until_ms > now then return {'account', until_ms - now} end
local pair = redis.call('INCR', KEYS[2])
if pair == 1 then redis.call('PEXPIRE', KEYS[2], window) end
if pair > limit then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl < 1 then ttl = 1 end
  return {'pair', ttl}
end
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local life = window
if n >= limit then
  local backoff = math.min(tonumber(ARGV[3]) * (2 ^ math.min(n - limit, 32)), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'until', string.format('%d', now + backoff))
  if backoff > life then life = backoff end
end
redis.call('PEXPIRE', KEYS[1], string.format('%d', life))
return {'ok', 0}
",
    )
});

/// Code redemption (RFC 6749 §4.1.2: single use): KEYS = code hash; ARGV = family id.
static REDEEM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local data = redis.call('HGET', KEYS[1], 'data')
if not data then return {'unknown'} end
local first = redis.call('HGET', KEYS[1], 'family')
if first then return {'reused', first} end
redis.call('HSET', KEYS[1], 'family', ARGV[1])
return {'fresh', data}
",
    )
});

fn verdict(which: &str, wait: u64) -> Verdict {
    match which {
        "ip" => Verdict::Limited("ip", wait),
        "account" => Verdict::Limited("account", wait),
        "pair" => Verdict::Limited("pair", wait),
        _ => Verdict::Allowed,
    }
}

/// TOTP step compare-and-set: KEYS = last-step key; ARGV = step, ttl seconds.
static TOTP_STEP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
",
    )
});

/// A wrong second factor: KEYS = mfa-token hash; ARGV = max failures.
static MFA_FAILED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if n >= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) end
return n
",
    )
});

fn family_keys(id: &str) -> (String, String) {
    (
        format!("tessera:fam:{{{id}}}"),
        format!("tessera:fam:{{{id}}}:used"),
    )
}

/// Hash of key rotation metadata.
const KEY_META: &str = "tessera:keys";

/// Set of all registered client ids (for `client list`).
const CLIENT_INDEX: &str = "tessera:clients";

fn client_key(client_id: &str) -> String {
    format!("tessera:client:{client_id}")
}

fn user_key(username: &str) -> String {
    format!("tessera:user:{username}")
}

fn decode_family(fields: &[String]) -> Result<Family, StoreError> {
    match fields {
        [sub, client_id, scope, auth_time, amr, username, email, ..] => Ok(Family {
            sub: sub.clone(),
            client_id: client_id.clone(),
            scope: scope.clone(),
            auth_time: auth_time.parse().unwrap_or(0),
            amr: amr.clone(),
            username: username.clone(),
            email: (!email.is_empty()).then(|| email.clone()),
        }),
        _ => Err(StoreError("malformed family record".into())),
    }
}

fn from_json<T: serde::de::DeserializeOwned>(raw: Option<String>) -> Result<Option<T>, StoreError> {
    raw.map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|_| StoreError("malformed record".into()))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError("unserialisable record".into()))
}

/// The shared connection: a standalone server, a Redis Cluster, or the master named by Redis
/// Sentinel.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(SentinelConn),
}

/// A multiplexed connection to the master Sentinel names. When a command fails because the
/// connection broke or the server is no longer the master (after a failover it answers
/// `READONLY`), the master is asked of Sentinel again and the command retried once.
#[derive(Clone)]
struct SentinelConn {
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

/// Redis-backed store. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    /// Failed commands (`tessera_store_errors_total`).
    pub(super) errors: prometheus::IntCounter,
}

impl RedisStore {
    /// Connects to `url`, bounding connection attempts and every command by `timeout`.
    ///
    /// # Errors
    /// [`StoreError`] when the URL is invalid or the first connection fails.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(timeout)
            .set_response_timeout(timeout)
            .set_number_of_retries(2)
            .set_max_delay(1000);
        let conn = Conn::Single(ConnectionManager::new_with_config(client, config).await?);
        Self::with(conn)
    }

    /// Connects to a Redis Cluster through the seed node URLs `nodes`, bounding connection
    /// attempts and every command by `timeout`.
    ///
    /// # Errors
    /// [`StoreError`] when no seed node answers.
    pub async fn connect_cluster(nodes: &[&str], timeout: Duration) -> Result<Self, StoreError> {
        let client = redis::cluster::ClusterClient::builder(nodes.to_vec())
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .retries(2)
            .build()?;
        let conn = Conn::Cluster(client.get_async_connection().await?);
        Self::with(conn)
    }

    /// Connects to the master named `master` by the Sentinels at `sentinels`, bounding every
    /// connection attempt and command by `timeout`; follows failovers (see `SentinelConn`).
    ///
    /// # Errors
    /// [`StoreError`] when no Sentinel names a reachable master.
    pub async fn connect_sentinel(
        sentinels: &[&str],
        master: &str,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
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
        Self::with(Conn::Sentinel(conn))
    }

    fn with(conn: Conn) -> Result<Self, StoreError> {
        let errors = prometheus::IntCounter::new(
            "store_errors_total",
            "Store (Redis) commands that failed or timed out",
        )
        .map_err(|e| StoreError(e.to_string()))?;
        Ok(Self { conn, errors })
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        let _: String = redis::cmd("PING")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    pub(super) async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        from_json(self.conn.clone().get(user_key(username)).await?)
    }

    pub(super) async fn user_by_sub(&self, sub: &str) -> Result<Option<User>, StoreError> {
        let mut conn = self.conn.clone();
        let name: Option<String> = conn.get(format!("tessera:sub:{sub}")).await?;
        match name {
            Some(name) => self.user(&name).await,
            None => Ok(None),
        }
    }

    pub(super) async fn put_user(
        &self,
        user: &User,
        create_only: bool,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let json = to_json(user)?;
        let mut set = redis::cmd("SET");
        set.arg(user_key(&user.username)).arg(json);
        if create_only {
            set.arg("NX");
        }
        let written: Option<String> = set.query_async(&mut conn).await?;
        if written.is_none() {
            return Ok(false);
        }
        let () = conn
            .set(format!("tessera:sub:{}", user.sub), &user.username)
            .await?;
        Ok(true)
    }

    pub(super) async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        from_json(self.conn.clone().get(client_key(client_id)).await?)
    }

    pub(super) async fn put_client(
        &self,
        client: &Client,
        create_only: bool,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let mut set = redis::cmd("SET");
        set.arg(client_key(&client.client_id)).arg(to_json(client)?);
        if create_only {
            set.arg("NX");
        }
        let written: Option<String> = set.query_async(&mut conn).await?;
        if written.is_none() {
            return Ok(false);
        }
        let () = conn.sadd(CLIENT_INDEX, &client.client_id).await?;
        Ok(true)
    }

    pub(super) async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let removed: usize = conn.del(client_key(client_id)).await?;
        let () = conn.srem(CLIENT_INDEX, client_id).await?;
        Ok(removed > 0)
    }

    pub(super) async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn.smembers(CLIENT_INDEX).await?;
        let mut clients = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(client) = self.client(&id).await? {
                clients.push(client);
            }
        }
        Ok(clients)
    }

    pub(super) async fn create_family(
        &self,
        family_id: &str,
        family: &Family,
        token_hash: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let (key, _) = family_keys(family_id);
        let index = format!("tessera:user-fams:{}", family.sub);
        let ttl = i64::try_from(ttl).unwrap_or(i64::MAX);
        let mut conn = self.conn.clone();
        // Two round trips: the index lives in another cluster slot. It is written first, so a
        // family is never alive without being reachable by logout-everywhere.
        let () = redis::pipe()
            .sadd(&index, family_id)
            .ignore()
            .expire(&index, ttl)
            .ignore()
            .query_async(&mut conn)
            .await?;
        let () = redis::pipe()
            .atomic()
            .hset_multiple(
                &key,
                &[
                    ("sub", family.sub.as_str()),
                    ("client_id", family.client_id.as_str()),
                    ("scope", family.scope.as_str()),
                    ("auth_time", &family.auth_time.to_string()),
                    ("amr", family.amr.as_str()),
                    ("username", family.username.as_str()),
                    ("email", family.email.as_deref().unwrap_or("")),
                    ("current", token_hash),
                ],
            )
            .ignore()
            .expire(&key, ttl)
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    pub(super) async fn rotate_refresh_token(
        &self,
        family_id: &str,
        presented_hash: &str,
        new_hash: &str,
        client_id: &str,
        scope: &[&str],
    ) -> Result<Rotation, StoreError> {
        let (key, used) = family_keys(family_id);
        let mut invocation = ROTATE.key(key);
        invocation
            .key(used)
            .arg(presented_hash)
            .arg(new_hash)
            .arg(client_id);
        for s in scope {
            invocation.arg(*s);
        }
        let reply: Vec<Option<String>> = invocation.invoke_async(&mut self.conn.clone()).await?;
        let reply: Vec<String> = reply.into_iter().map(Option::unwrap_or_default).collect();
        Ok(match reply.split_first() {
            Some((status, rest)) if status == "rotated" => Rotation::Rotated(decode_family(rest)?),
            Some((status, [sub, client_id, ..])) if status == "reused" => Rotation::Reused {
                sub: sub.clone(),
                client_id: client_id.clone(),
            },
            Some((status, _)) if status == "scope" => Rotation::ScopeExceeded,
            _ => Rotation::Invalid,
        })
    }

    pub(super) async fn refresh_token_state(
        &self,
        family_id: &str,
        token_hash: &str,
    ) -> Result<TokenState, StoreError> {
        let (key, used) = family_keys(family_id);
        let reply: Vec<Option<String>> = STATE
            .key(key)
            .key(used)
            .arg(token_hash)
            .invoke_async(&mut self.conn.clone())
            .await?;
        let fields: Vec<String> = reply.into_iter().map(Option::unwrap_or_default).collect();
        Ok(match fields.split_first() {
            Some((kind, rest)) if kind == "current" => TokenState::Current(decode_family(rest)?),
            Some((kind, rest)) if kind == "rotated" => TokenState::Rotated(decode_family(rest)?),
            _ => TokenState::Unknown,
        })
    }

    pub(super) async fn family_alive(&self, family_id: &str) -> Result<bool, StoreError> {
        let (key, _) = family_keys(family_id);
        Ok(self.conn.clone().exists(key).await?)
    }

    pub(super) async fn revoke_family(&self, family_id: &str) -> Result<bool, StoreError> {
        let (key, used) = family_keys(family_id);
        let removed: usize = self.conn.clone().del(&[key, used]).await?;
        Ok(removed > 0)
    }

    pub(super) async fn revoke_user_families(&self, sub: &str) -> Result<usize, StoreError> {
        let mut conn = self.conn.clone();
        let index = format!("tessera:user-fams:{sub}");
        let ids: Vec<String> = conn.smembers(&index).await?;
        let mut alive = 0;
        for id in &ids {
            if self.revoke_family(id).await? {
                alive += 1;
            }
            // Remove only what was revoked: a family created meanwhile stays indexed.
            let () = conn.srem(&index, id).await?;
        }
        Ok(alive)
    }

    pub(super) async fn ip_attempt(
        &self,
        key: &str,
        now_ms: u64,
        per_minute: u32,
    ) -> Result<Verdict, StoreError> {
        let (which, wait): (String, u64) = IP_CHECK
            .key(key)
            .arg(now_ms)
            .arg(per_minute)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(verdict(&which, wait))
    }

    pub(super) async fn account_attempt(
        &self,
        keys: &AccountKeys,
        now_ms: u64,
        policy: &LoginPolicy,
    ) -> Result<Verdict, StoreError> {
        let (which, wait): (String, u64) = ACCOUNT_CHECK
            .key(&keys.account)
            .key(&keys.pair)
            .arg(now_ms)
            .arg(policy.account_failures)
            .arg(policy.backoff_base_ms)
            .arg(policy.backoff_max_ms)
            .arg(policy.failure_window_ms)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(verdict(&which, wait))
    }

    pub(super) async fn login_success(&self, keys: &AccountKeys) -> Result<(), StoreError> {
        let () = self.conn.clone().del(&[&keys.account, &keys.pair]).await?;
        Ok(())
    }

    pub(super) async fn data_key_check(&self, sealed: &str) -> Result<String, StoreError> {
        let mut conn = self.conn.clone();
        let key = "tessera:data-key-check";
        let _: bool = conn.set_nx(key, sealed).await?;
        let stored: Option<String> = conn.get(key).await?;
        stored.ok_or_else(|| StoreError("data-key check vanished".into()))
    }

    pub(super) async fn accept_totp_step(&self, sub: &str, step: u64) -> Result<bool, StoreError> {
        // Steps older than the ±1 window can never match again, so a few minutes of memory
        // are enough.
        let accepted: i64 = TOTP_STEP
            .key(format!("tessera:totp-step:{sub}"))
            .arg(step)
            .arg(300)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(accepted == 1)
    }

    pub(super) async fn set_recovery_codes(
        &self,
        sub: &str,
        hashes: &[String],
    ) -> Result<(), StoreError> {
        let key = format!("tessera:recovery:{sub}");
        let mut pipe = redis::pipe();
        pipe.atomic().del(&key).ignore();
        if !hashes.is_empty() {
            pipe.sadd(&key, hashes).ignore();
        }
        let () = pipe.query_async(&mut self.conn.clone()).await?;
        Ok(())
    }

    pub(super) async fn use_recovery_code(
        &self,
        sub: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let removed: i64 = self
            .conn
            .clone()
            .srem(format!("tessera:recovery:{sub}"), hash)
            .await?;
        Ok(removed == 1)
    }

    pub(super) async fn put_mfa_token(
        &self,
        hash: &str,
        json: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let key = format!("tessera:mfa:{hash}");
        let () = redis::pipe()
            .atomic()
            .hset(&key, "login", json)
            .ignore()
            .expire(&key, i64::try_from(ttl).unwrap_or(300))
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    pub(super) async fn mfa_token(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .clone()
            .hget(format!("tessera:mfa:{hash}"), "login")
            .await?)
    }

    pub(super) async fn mfa_token_failed(&self, hash: &str, max: u32) -> Result<(), StoreError> {
        let _: i64 = MFA_FAILED
            .key(format!("tessera:mfa:{hash}"))
            .arg(max)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    pub(super) async fn consume_mfa_token(&self, hash: &str) -> Result<bool, StoreError> {
        let removed: i64 = self.conn.clone().del(format!("tessera:mfa:{hash}")).await?;
        Ok(removed == 1)
    }

    pub(super) async fn key_metadata(
        &self,
    ) -> Result<std::collections::HashMap<String, KeyMeta>, StoreError> {
        let raw: std::collections::HashMap<String, String> =
            self.conn.clone().hgetall(KEY_META).await?;
        Ok(raw
            .into_iter()
            .filter_map(|(kid, json)| serde_json::from_str(&json).ok().map(|m| (kid, m)))
            .collect())
    }

    pub(super) async fn put_key_meta(&self, kid: &str, meta: &KeyMeta) -> Result<(), StoreError> {
        let () = self
            .conn
            .clone()
            .hset(KEY_META, kid, to_json(meta)?)
            .await?;
        Ok(())
    }

    pub(super) async fn remove_key_meta(&self, kid: &str) -> Result<(), StoreError> {
        let () = self.conn.clone().hdel(KEY_META, kid).await?;
        Ok(())
    }

    pub(super) async fn try_lock(&self, name: &str, ttl: u64) -> Result<bool, StoreError> {
        let taken: Option<String> = redis::cmd("SET")
            .arg(format!("tessera:lock:{name}"))
            .arg("1")
            .arg("NX")
            .arg("EX")
            .arg(ttl)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(taken.is_some())
    }

    pub(super) async fn put_record(
        &self,
        kind: &str,
        id: &str,
        json: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let key = format!("tessera:{kind}:{id}");
        let () = redis::pipe()
            .atomic()
            .del(&key)
            .ignore()
            .hset(&key, "data", json)
            .ignore()
            .expire(&key, i64::try_from(ttl).unwrap_or(i64::MAX))
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    pub(super) async fn record(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .clone()
            .hget(format!("tessera:{kind}:{id}"), "data")
            .await?)
    }

    pub(super) async fn delete_record(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        let () = self
            .conn
            .clone()
            .del(format!("tessera:{kind}:{id}"))
            .await?;
        Ok(())
    }

    pub(super) async fn redeem_code(
        &self,
        id: &str,
        family_id: &str,
    ) -> Result<Redemption, StoreError> {
        let reply: Vec<String> = REDEEM
            .key(format!("tessera:code:{id}"))
            .arg(family_id)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(match reply.split_first() {
            Some((status, [data])) if status == "fresh" => Redemption::Fresh(data.clone()),
            Some((status, [first])) if status == "reused" => Redemption::Reused(first.clone()),
            _ => Redemption::Unknown,
        })
    }

    pub(super) async fn add_session_family(
        &self,
        session: &str,
        family_id: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let key = format!("tessera:session-fams:{session}");
        let () = redis::pipe()
            .sadd(&key, family_id)
            .ignore()
            .expire(&key, i64::try_from(ttl).unwrap_or(i64::MAX))
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    pub(super) async fn take_session_families(
        &self,
        session: &str,
    ) -> Result<Vec<String>, StoreError> {
        let key = format!("tessera:session-fams:{session}");
        let (ids,): (Vec<String>,) = redis::pipe()
            .atomic()
            .smembers(&key)
            .del(&key)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(ids)
    }
}
