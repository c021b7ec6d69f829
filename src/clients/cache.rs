//! The in-process client cache: [`ClientRegistry`] serves registrations to the hot paths.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::PresentedClient;
use crate::error::{OAuthError, StoreError};
use crate::store::{Backend, Client, Store};

/// Client lookups with a short in-process cache, so the hot paths (refresh, client credentials)
/// spend their one Redis round trip on the token, not on the client. A change made elsewhere is
/// seen after at most `ttl`.
pub struct ClientRegistry {
    store: Store,
    ttl: Duration,
    /// Clients declared in the config file; they take precedence over the store.
    declared: HashMap<String, Arc<Client>>,
    cache: RwLock<HashMap<String, (Instant, Arc<Client>)>>,
    /// CORS origins registered by public clients, and when they were read.
    origins: RwLock<Option<(Instant, Arc<std::collections::HashSet<String>>)>>,
}

impl ClientRegistry {
    /// A registry over `store` caching registrations for `ttl`, with `declared` clients from the
    /// config file.
    pub fn new(store: Store, ttl: Duration, declared: Vec<Client>) -> Self {
        Self {
            store,
            ttl,
            declared: declared
                .into_iter()
                .map(|c| (c.client_id.clone(), Arc::new(c)))
                .collect(),
            cache: RwLock::new(HashMap::new()),
            origins: RwLock::new(None),
        }
    }

    /// Whether `origin` is registered by a public client (for CORS). The set is read from the
    /// store at most once per cache period; a store failure denies.
    pub async fn origin_allowed(&self, origin: &str) -> bool {
        let fresh = self.origins.read().ok().and_then(|o| {
            o.as_ref()
                .filter(|(at, _)| at.elapsed() < self.ttl.max(Duration::from_secs(1)))
                .map(|(_, set)| set.clone())
        });
        let set = match fresh {
            Some(set) => set,
            None => {
                let Ok(stored) = self.store.clients().await else {
                    return false;
                };
                let set: std::collections::HashSet<String> = stored
                    .iter()
                    .chain(self.declared.values().map(|c| c.as_ref()))
                    .filter(|c| c.secret_hash.is_none())
                    .flat_map(|c| c.policy.allowed_origins.iter().cloned())
                    .collect();
                let set = Arc::new(set);
                if let Ok(mut slot) = self.origins.write() {
                    *slot = Some((Instant::now(), set.clone()));
                }
                set
            }
        };
        set.contains(origin)
    }

    /// Drops `client_id` from this instance's cache (after a change made here).
    pub fn forget(&self, client_id: &str) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(client_id);
        }
    }

    /// Whether `client_id` is declared in the config file (and so cannot be changed at run time).
    pub fn is_declared(&self, client_id: &str) -> bool {
        self.declared.contains_key(client_id)
    }

    /// The client `client_id`, from the cache when fresh.
    ///
    /// # Errors
    /// [`StoreError`] when the store is unavailable.
    pub async fn get(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        if let Some(client) = self.declared.get(client_id) {
            return Ok(Some(client.clone()));
        }
        if let Ok(cache) = self.cache.read() {
            if let Some((at, client)) = cache.get(client_id) {
                if at.elapsed() < self.ttl {
                    return Ok(Some(client.clone()));
                }
            }
        }
        let Some(client) = self.store.client(client_id).await? else {
            return Ok(None);
        };
        let client = Arc::new(client);
        if !self.ttl.is_zero() {
            if let Ok(mut cache) = self.cache.write() {
                cache.insert(client_id.to_owned(), (Instant::now(), client.clone()));
            }
        }
        Ok(Some(client))
    }

    /// The client `client_id` if its current registration is `registered_at`
    /// ([`Client::registered_at`]), the one a grant was issued under (a family's, an access
    /// token's `client_registered_at`): `None` once the client is removed, even if its id was
    /// registered again. Served like [`ClientRegistry::get`], so a hot path that checks a grant
    /// spends no store call on it while the cache is fresh.
    ///
    /// # Errors
    /// [`StoreError`] when the store is unavailable.
    pub async fn of_grant(
        &self,
        client_id: &str,
        registered_at: u64,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        Ok(self
            .get(client_id)
            .await?
            .filter(|c| c.registered_at == registered_at))
    }

    /// Authenticates a client: a confidential client must present its secret, a public client
    /// must present none (RFC 6749 §2.3, §3.2.1).
    ///
    /// # Errors
    /// `invalid_client` (401) for unknown clients or wrong/missing secrets; `temporarily_unavailable`
    /// when the store is down.
    pub async fn authenticate(
        &self,
        presented: &PresentedClient,
    ) -> Result<Arc<Client>, OAuthError> {
        let client = self
            .get(&presented.client_id)
            .await?
            .ok_or_else(OAuthError::invalid_client)?;
        match (&client.secret_hash, &presented.secret) {
            (None, None) => Ok(client),
            (Some(stored), Some(secret)) if stored.matches(secret) => Ok(client),
            _ => Err(OAuthError::invalid_client()),
        }
    }
}
