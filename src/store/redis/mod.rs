//! Redis backend: standalone, Cluster, or Sentinel (`connection.rs`). Every read-check-write is
//! a Lua script (`scripts/*.lua`) or a `MULTI` pipeline, atomic on the server; every script and
//! pipeline touches one Redis Cluster slot (a family's keys share the hash tag `{<family id>}`,
//! an account's limit keys share `{acct:<username>}`). Operations spanning slots (a new family
//! and its user index) are separate round trips. Key names: [`super::names`].

mod codec;
mod connection;
mod device;
mod diagnose;
mod factors;
mod link;
mod notices;
mod passkey;
mod rotation;
mod scripts;
mod sessions;

use std::collections::HashMap;
use std::net::IpAddr;

use redis::AsyncCommands;

use self::codec::{decode_family, from_json, limit, seconds, to_json};
use self::connection::Conn;
use self::scripts::{
    ACCOUNT_ATTEMPT, IP_ATTEMPT, LOGIN_SUCCESS, RECORD_ATTEMPT, REDEEM, TOKEN_STATE, TOTP_STEP,
};
use super::limits::{Backoff, Limit};
use super::model::{
    Client, Family, KeyMeta, Presenter, Rotation, Successor, TokenState, User, UsersPage,
};
use super::names;
use super::notices::Notice;
use super::records::{Kind, Redemption};
use super::Backend;
use crate::error::StoreError;
use crate::secret::SecretHash;

/// Redis-backed store. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    /// The servers and timeout, for error messages.
    target: diagnose::Target,
    /// Failed commands (`tessera_store_errors_total`).
    pub(super) errors: prometheus::IntCounter,
    /// The back-channel logout stream and retry set ([`names::notices`]).
    notices: std::sync::Arc<(String, String)>,
}

impl Backend for RedisStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.ping_described().await
    }

    async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        from_json(self.conn.clone().get(names::user(username)).await?)
    }

    async fn user_by_sub(&self, sub: &str) -> Result<Option<User>, StoreError> {
        let name: Option<String> = self.conn.clone().get(names::sub(sub)).await?;
        match name {
            Some(name) => self.user(&name).await,
            None => Ok(None),
        }
    }

    async fn put_user(&self, user: &User, create_only: bool) -> Result<bool, StoreError> {
        let key = names::user(&user.username);
        if !self.set_json(&key, to_json(user)?, create_only).await? {
            return Ok(false);
        }
        let mut conn = self.conn.clone();
        let () = conn.set(names::sub(&user.sub), &user.username).await?;
        let member = names::user_index_member(user);
        let () = conn.zadd(names::USER_INDEX, member, 0).await?;
        Ok(true)
    }

    async fn users_page(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<UsersPage, StoreError> {
        let start = cursor.map_or_else(|| "-".to_owned(), |c| format!("({c}"));
        let members: Vec<String> = redis::cmd("ZRANGEBYLEX")
            .arg(names::USER_INDEX)
            .arg(start)
            .arg("+")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut self.conn.clone())
            .await?;
        let mut users = Vec::with_capacity(members.len());
        for member in &members {
            if let Some((_, sub)) = member.split_once(':') {
                users.extend(self.user_by_sub(sub).await?);
            }
        }
        let next = members
            .last()
            .filter(|_| limit > 0 && members.len() == limit)
            .cloned();
        Ok(UsersPage { users, next })
    }

    async fn remove_user(&self, user: &User) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let removed: usize = conn.del(names::user(&user.username)).await?;
        let () = conn.del(names::sub(&user.sub)).await?;
        let () = conn
            .zrem(names::USER_INDEX, names::user_index_member(user))
            .await?;
        let () = conn.del(names::recovery_codes(&user.sub)).await?;
        let () = conn.del(names::totp_step(&user.sub)).await?;
        self.revoke_user_families(&user.sub).await?;
        Ok(removed > 0)
    }

    async fn recovery_codes_left(&self, sub: &str) -> Result<usize, StoreError> {
        Ok(self.conn.clone().scard(names::recovery_codes(sub)).await?)
    }

    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        from_json(self.conn.clone().get(names::client(client_id)).await?)
    }

    async fn put_client(&self, client: &Client, create_only: bool) -> Result<bool, StoreError> {
        let key = names::client(&client.client_id);
        if !self.set_json(&key, to_json(client)?, create_only).await? {
            return Ok(false);
        }
        let () = self
            .conn
            .clone()
            .sadd(names::CLIENT_INDEX, &client.client_id)
            .await?;
        Ok(true)
    }

    async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let removed: usize = conn.del(names::client(client_id)).await?;
        let () = conn.srem(names::CLIENT_INDEX, client_id).await?;
        Ok(removed > 0)
    }

    async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        let ids: Vec<String> = self.conn.clone().smembers(names::CLIENT_INDEX).await?;
        let mut clients = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(client) = self.client(&id).await? {
                clients.push(client);
            }
        }
        Ok(clients)
    }

    async fn create_family(
        &self,
        family_id: &str,
        family: &Family,
        token_hash: &SecretHash,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let (key, _) = names::family(family_id);
        let index = names::user_families(&family.sub);
        let mut conn = self.conn.clone();
        let () = redis::pipe()
            .sadd(&index, family_id)
            .ignore()
            .expire(&index, seconds(ttl))
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
                    ("jkt", family.jkt.as_deref().unwrap_or("")),
                    ("current", token_hash.as_str()),
                    ("created", &crate::clock::now().to_string()),
                    ("reg", &family.client_registered_at.to_string()),
                ],
            )
            .ignore()
            .expire(&key, seconds(ttl))
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        family_id: &str,
        presented: &SecretHash,
        successor: Successor<'_>,
        by: Presenter<'_>,
    ) -> Result<Rotation, StoreError> {
        self.rotate(family_id, presented, successor, by).await
    }

    async fn refresh_token_state(
        &self,
        family_id: &str,
        token_hash: &SecretHash,
    ) -> Result<TokenState, StoreError> {
        let (key, used) = names::family(family_id);
        let reply: Vec<Option<String>> = TOKEN_STATE
            .key(key)
            .key(used)
            .arg(token_hash.as_str())
            .invoke_async(&mut self.conn.clone())
            .await?;
        let fields: Vec<String> = reply.into_iter().map(Option::unwrap_or_default).collect();
        Ok(match fields.split_first() {
            Some((kind, rest)) if kind == "current" => TokenState::Current(decode_family(rest)?),
            Some((kind, rest)) if kind == "rotated" => TokenState::Rotated(decode_family(rest)?),
            _ => TokenState::Unknown,
        })
    }

    async fn family_alive(&self, family_id: &str) -> Result<bool, StoreError> {
        let (key, _) = names::family(family_id);
        Ok(self.conn.clone().exists(key).await?)
    }

    async fn revoke_family(&self, family_id: &str) -> Result<bool, StoreError> {
        let (key, used) = names::family(family_id);
        let mut conn = self.conn.clone();
        let (sub, client_id): (Option<String>, Option<String>) =
            conn.hget(&key, &["sub", "client_id"]).await?;
        if let (Some(sub), Some(client_id)) = (sub, client_id) {
            self.enqueue_notice(&Notice::new(family_id, &sub, &client_id))
                .await?;
        }
        let grace = names::family_grace(family_id);
        let removed: usize = conn.del(&[key, used, grace]).await?;
        Ok(removed > 0)
    }

    async fn revoke_user_families(&self, sub: &str) -> Result<usize, StoreError> {
        let mut conn = self.conn.clone();
        let index = names::user_families(sub);
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

    async fn ip_attempt(
        &self,
        ip: IpAddr,
        now_ms: u64,
        per_minute: u32,
    ) -> Result<Limit, StoreError> {
        let (which, wait): (String, u64) = IP_ATTEMPT
            .key(names::ip_limit(ip))
            .arg(now_ms)
            .arg(per_minute)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(limit(&which, wait))
    }

    async fn account_attempt(
        &self,
        username: &str,
        ip: IpAddr,
        now_ms: u64,
        rule: &Backoff,
    ) -> Result<Limit, StoreError> {
        let (account, pair) = names::account_limits(username, ip);
        let (which, wait): (String, u64) = ACCOUNT_ATTEMPT
            .key(account)
            .key(pair)
            .arg(now_ms)
            .arg(rule.failure_limit)
            .arg(rule.base_ms)
            .arg(rule.max_ms)
            .arg(rule.window_ms)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(limit(&which, wait))
    }

    async fn login_success(&self, username: &str, ip: IpAddr, _: u64) -> Result<(), StoreError> {
        let (account, pair) = names::account_limits(username, ip);
        let _: i64 = LOGIN_SUCCESS
            .key(account)
            .key(pair)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn data_key_check(&self, sealed: &str) -> Result<String, StoreError> {
        let mut conn = self.conn.clone();
        let _: bool = conn.set_nx(names::DATA_KEY_CHECK, sealed).await?;
        let stored: Option<String> = conn.get(names::DATA_KEY_CHECK).await?;
        stored.ok_or_else(|| StoreError("data-key check vanished".into()))
    }

    async fn accept_totp_step(&self, sub: &str, step: u64) -> Result<bool, StoreError> {
        // Steps older than the ±1 window can never match again, so a few minutes of memory
        // are enough.
        let accepted: i64 = TOTP_STEP
            .key(names::totp_step(sub))
            .arg(step)
            .arg(300)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(accepted == 1)
    }

    async fn set_recovery_codes(&self, sub: &str, hashes: &[SecretHash]) -> Result<(), StoreError> {
        let key = names::recovery_codes(sub);
        let mut pipe = redis::pipe();
        pipe.atomic().del(&key).ignore();
        if !hashes.is_empty() {
            let hashes: Vec<&str> = hashes.iter().map(SecretHash::as_str).collect();
            pipe.sadd(&key, hashes).ignore();
        }
        let () = pipe.query_async(&mut self.conn.clone()).await?;
        Ok(())
    }

    async fn use_recovery_code(&self, sub: &str, hash: &SecretHash) -> Result<bool, StoreError> {
        let removed: i64 = self
            .conn
            .clone()
            .srem(names::recovery_codes(sub), hash.as_str())
            .await?;
        Ok(removed == 1)
    }

    async fn key_metadata(&self) -> Result<HashMap<String, KeyMeta>, StoreError> {
        let raw: HashMap<String, String> = self.conn.clone().hgetall(names::KEY_META).await?;
        Ok(raw
            .into_iter()
            .filter_map(|(kid, json)| serde_json::from_str(&json).ok().map(|m| (kid, m)))
            .collect())
    }

    async fn put_key_meta(&self, kid: &str, meta: &KeyMeta) -> Result<(), StoreError> {
        let () = self
            .conn
            .clone()
            .hset(names::KEY_META, kid, to_json(meta)?)
            .await?;
        Ok(())
    }

    async fn remove_key_meta(&self, kid: &str) -> Result<(), StoreError> {
        let () = self.conn.clone().hdel(names::KEY_META, kid).await?;
        Ok(())
    }

    async fn try_lock(&self, name: &str, ttl: u64) -> Result<bool, StoreError> {
        let taken: Option<String> = redis::cmd("SET")
            .arg(names::lock(name))
            .arg("1")
            .arg("NX")
            .arg("EX")
            .arg(ttl)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(taken.is_some())
    }

    async fn put_record(
        &self,
        kind: Kind,
        id: &SecretHash,
        json: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let key = names::record(kind.as_str(), id);
        let () = redis::pipe()
            .atomic()
            .hset(&key, "data", json)
            .ignore()
            .expire(&key, seconds(ttl))
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn record(&self, kind: Kind, id: &SecretHash) -> Result<Option<String>, StoreError> {
        let key = names::record(kind.as_str(), id);
        Ok(self.conn.clone().hget(key, "data").await?)
    }

    async fn take_record(&self, kind: Kind, id: &SecretHash) -> Result<Option<String>, StoreError> {
        let key = names::record(kind.as_str(), id);
        let (data,): (Option<String>,) = redis::pipe()
            .atomic()
            .hget(&key, "data")
            .del(&key)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(data)
    }

    async fn record_attempt(
        &self,
        kind: Kind,
        id: &SecretHash,
        max: u32,
    ) -> Result<u32, StoreError> {
        let attempts: u32 = RECORD_ATTEMPT
            .key(names::record(kind.as_str(), id))
            .arg(max)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(attempts)
    }

    async fn redeem_record(
        &self,
        kind: Kind,
        id: &SecretHash,
        family_id: &str,
    ) -> Result<Redemption<String>, StoreError> {
        let reply: Vec<String> = REDEEM
            .key(names::record(kind.as_str(), id))
            .arg(family_id)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(match reply.split_first() {
            Some((status, [data])) if status == "fresh" => Redemption::Fresh(data.clone()),
            Some((status, [first])) if status == "reused" => Redemption::Reused(first.clone()),
            _ => Redemption::Unknown,
        })
    }

    async fn add_session_family(
        &self,
        session: &SecretHash,
        family_id: &str,
        ttl: u64,
    ) -> Result<(), StoreError> {
        let key = names::session_families(session);
        let () = redis::pipe()
            .sadd(&key, family_id)
            .ignore()
            .expire(&key, seconds(ttl))
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn take_session_families(&self, session: &SecretHash) -> Result<Vec<String>, StoreError> {
        let key = names::session_families(session);
        let (ids,): (Vec<String>,) = redis::pipe()
            .atomic()
            .smembers(&key)
            .del(&key)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(ids)
    }

    async fn first_dpop_proof(&self, proof: &SecretHash, ttl_ms: u64) -> Result<bool, StoreError> {
        let set: Option<String> = redis::cmd("SET")
            .arg(names::dpop_proof(proof))
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms.max(1))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(set.is_some())
    }
}
