//! One contract over `tessera::store::Store`, run against both backends: whatever the memory
//! store (`--dev`, tests) does, Redis (production) does too.

mod device;
mod dpop;
mod factors;
mod passkeys;
mod registration;
mod sessions;

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tessera::secret::SecretHash;
use tessera::store::memory::MemoryStore;
use tessera::store::redis::RedisStore;
use tessera::store::{
    Attempt, Backend, Backoff, Client, ClientPolicy, Family, Limit, LimitedBy, Presenter, Record,
    Redemption, Rotation, Store, Successor, TokenState, User,
};

use crate::helpers::{cluster_urls, redis_url, unique};

pub const TTL: u64 = 600;

fn user(username: &str) -> User {
    User {
        sub: uuid::Uuid::new_v4().to_string(),
        username: username.to_owned(),
        email: Some(format!("{username}@example.test")),
        password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".to_owned(),
        disabled: false,
        totp: None,
        totp_pending: None,
        created_at: 1_700_000_000,
    }
}

pub fn family(sub: &str, client_id: &str, scope: &str) -> Family {
    Family {
        sub: sub.to_owned(),
        client_id: client_id.to_owned(),
        scope: scope.to_owned(),
        auth_time: 1_700_000_000,
        amr: "pwd".to_owned(),
        username: unique("user"),
        email: Some("someone@example.test".to_owned()),
        jkt: None,
        client_registered_at: 0,
    }
}

/// A successor without a grace window.
pub fn next(hash: &SecretHash) -> Successor<'_> {
    Successor { hash, grace: None }
}

/// The presenter of a rotation: `client_id`, the proof key's `jkt`, the requested `scope`.
pub fn by<'a>(client_id: &'a str, jkt: Option<&'a str>, scope: &'a [&'a str]) -> Presenter<'a> {
    Presenter {
        client_id,
        client_registered_at: 0,
        jkt,
        scope,
    }
}

fn hash() -> SecretHash {
    SecretHash::of(&unique("hash"))
}

async fn users_contract(store: &Store) {
    let name = unique("user");
    let alice = user(&name);
    assert!(store.put_user(&alice, true).await.unwrap(), "created");
    let mut impostor = user(&name);
    impostor.password_hash = "other".into();
    assert!(
        !store.put_user(&impostor, true).await.unwrap(),
        "create_only refuses an existing username"
    );
    assert_eq!(store.user(&name).await.unwrap().as_ref(), Some(&alice));
    assert_eq!(
        store.user_by_sub(&alice.sub).await.unwrap().as_ref(),
        Some(&alice)
    );
    assert_eq!(store.user_by_sub(&impostor.sub).await.unwrap(), None);
    assert_eq!(store.user(&unique("nobody")).await.unwrap(), None);
    assert_eq!(
        store
            .user_by_sub(&uuid::Uuid::new_v4().to_string())
            .await
            .unwrap(),
        None
    );

    // Without create_only, an update replaces the record.
    let mut updated = alice.clone();
    updated.disabled = true;
    updated.password_hash = "new".into();
    assert!(store.put_user(&updated, false).await.unwrap());
    assert_eq!(store.user(&name).await.unwrap().as_ref(), Some(&updated));
    assert_eq!(
        store.user_by_sub(&alice.sub).await.unwrap().as_ref(),
        Some(&updated)
    );
}

async fn clients_contract(store: &Store) {
    let client = Client {
        client_id: unique("client"),
        secret_hash: Some(hash()),
        registered_at: 1_700_000_000_123,
        policy: ClientPolicy {
            grant_types: vec!["password".into(), "refresh_token".into()],
            scopes: vec!["openid".into()],
            audience: Some("https://api.example.test".into()),
            audiences: vec!["https://other.example.test".into()],
            redirect_uris: vec!["https://app.example.test/callback".into()],
            allowed_origins: vec!["https://app.example.test".into()],
            post_logout_redirect_uris: Vec::new(),
            third_party: false,
            access_token_signed_response_alg: Some(tessera::store::SigningAlg::Es256),
            id_token_signed_response_alg: None,
            dpop_bound_access_tokens: true,
            require_pushed_authorization_requests: true,
            backchannel_logout_uri: Some("https://app.example.test/backchannel".into()),
            backchannel_logout_session_required: true,
            client_name: Some("Contract app".into()),
            logo_uri: Some("https://app.example.test/logo.png".into()),
            client_uri: Some("https://app.example.test/".into()),
            policy_uri: Some("https://app.example.test/privacy".into()),
            tos_uri: Some("https://app.example.test/terms".into()),
        },
    };
    assert!(store.put_client(&client, true).await.unwrap());
    let mut other = client.clone();
    other.secret_hash = None;
    assert!(
        !store.put_client(&other, true).await.unwrap(),
        "create_only refuses an existing id"
    );
    assert_eq!(
        store.client(&client.client_id).await.unwrap().as_ref(),
        Some(&client)
    );
    assert_eq!(store.client(&unique("nobody")).await.unwrap(), None);
    assert!(store.clients().await.unwrap().iter().any(|c| c == &client));

    // Without create_only, an update replaces the record.
    let mut updated = client.clone();
    updated.secret_hash = Some(hash());
    assert!(store.put_client(&updated, false).await.unwrap());
    assert_eq!(
        store.client(&client.client_id).await.unwrap().as_ref(),
        Some(&updated)
    );
    let listed = store.clients().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .filter(|c| c.client_id == client.client_id)
            .collect::<Vec<_>>(),
        [&updated],
        "listed once, updated"
    );

    assert!(store.remove_client(&client.client_id).await.unwrap());
    assert!(!store.remove_client(&client.client_id).await.unwrap());
    assert_eq!(store.client(&client.client_id).await.unwrap(), None);
    assert!(!store
        .clients()
        .await
        .unwrap()
        .iter()
        .any(|c| c.client_id == client.client_id));
}

async fn rotation_contract(store: &Store) {
    let sub = uuid::Uuid::new_v4().to_string();
    let client = unique("client");
    let mut fam = family(&sub, &client, "openid profile");
    fam.email = None;
    let id = unique("fam");
    let (h0, h1, h2) = (hash(), hash(), hash());
    store.create_family(&id, &fam, &h0, TTL).await.unwrap();
    assert!(store.family_alive(&id).await.unwrap());
    assert_eq!(
        store.refresh_token_state(&id, &h0).await.unwrap(),
        TokenState::Current(fam.clone())
    );
    assert_eq!(
        store.refresh_token_state(&id, &h1).await.unwrap(),
        TokenState::Unknown
    );

    // Unknown family, unknown hash: Invalid, nothing changes.
    assert_eq!(
        store
            .rotate_refresh_token(&unique("fam"), &h0, next(&h1), by(&client, None, &[]))
            .await
            .unwrap(),
        Rotation::Invalid
    );
    assert_eq!(
        store
            .rotate_refresh_token(&id, &hash(), next(&h1), by(&client, None, &[]))
            .await
            .unwrap(),
        Rotation::Invalid
    );
    // Another client: Invalid, unchanged.
    assert_eq!(
        store
            .rotate_refresh_token(&id, &h0, next(&h1), by(&unique("client"), None, &[]))
            .await
            .unwrap(),
        Rotation::Invalid
    );
    // A scope beyond the grant: ScopeExceeded, unchanged.
    assert_eq!(
        store
            .rotate_refresh_token(&id, &h0, next(&h1), by(&client, None, &["openid", "email"]))
            .await
            .unwrap(),
        Rotation::ScopeExceeded
    );
    assert_eq!(
        store.refresh_token_state(&id, &h0).await.unwrap(),
        TokenState::Current(fam.clone()),
        "failed rotations change nothing"
    );
    assert_eq!(
        store.refresh_token_state(&id, &h1).await.unwrap(),
        TokenState::Unknown
    );

    // Narrowing rotates; the family keeps its full scope.
    assert_eq!(
        store
            .rotate_refresh_token(&id, &h0, next(&h1), by(&client, None, &["profile"]))
            .await
            .unwrap(),
        Rotation::Rotated(fam.clone())
    );
    assert_eq!(
        store.refresh_token_state(&id, &h0).await.unwrap(),
        TokenState::Rotated(fam.clone())
    );
    assert_eq!(
        store.refresh_token_state(&id, &h1).await.unwrap(),
        TokenState::Current(fam.clone())
    );
    assert_eq!(
        store
            .rotate_refresh_token(&id, &h1, next(&h2), by(&client, None, &[]))
            .await
            .unwrap(),
        Rotation::Rotated(fam.clone())
    );

    // RFC 9700 §4.14.2: a rotated token again is reuse; the family is gone.
    assert_eq!(
        store
            .rotate_refresh_token(&id, &h0, next(&hash()), by(&client, None, &[]))
            .await
            .unwrap(),
        Rotation::Reused {
            sub: sub.clone(),
            client_id: client.clone()
        }
    );
    assert!(!store.family_alive(&id).await.unwrap());
    for h in [&h0, &h1, &h2] {
        assert_eq!(
            store.refresh_token_state(&id, h).await.unwrap(),
            TokenState::Unknown
        );
    }
    assert_eq!(
        store
            .rotate_refresh_token(&id, &h2, next(&hash()), by(&client, None, &[]))
            .await
            .unwrap(),
        Rotation::Invalid,
        "the newest token died with its family"
    );
    assert_eq!(
        store
            .rotate_refresh_token(&id, &h0, next(&hash()), by(&client, None, &[]))
            .await
            .unwrap(),
        Rotation::Invalid,
        "reuse is reported once"
    );
}

async fn revocation_contract(store: &Store) {
    let sub = uuid::Uuid::new_v4().to_string();
    let other_sub = uuid::Uuid::new_v4().to_string();
    let client = unique("client");
    let ids: Vec<String> = (0..3).map(|_| unique("fam")).collect();
    let hashes: Vec<SecretHash> = (0..3).map(|_| hash()).collect();
    for (id, h) in ids.iter().zip(&hashes) {
        store
            .create_family(id, &family(&sub, &client, "openid"), h, TTL)
            .await
            .unwrap();
    }
    let other = unique("fam");
    let other_hash = hash();
    let other_family = family(&other_sub, &client, "openid");
    store
        .create_family(&other, &other_family, &other_hash, TTL)
        .await
        .unwrap();

    assert!(store.revoke_family(&ids[0]).await.unwrap(), "was alive");
    assert!(!store.revoke_family(&ids[0]).await.unwrap(), "already gone");
    assert!(!store.revoke_family(&unique("fam")).await.unwrap());
    assert!(!store.family_alive(&ids[0]).await.unwrap());
    assert_eq!(
        store
            .refresh_token_state(&ids[0], &hashes[0])
            .await
            .unwrap(),
        TokenState::Unknown
    );
    assert_eq!(
        store
            .rotate_refresh_token(&ids[0], &hashes[0], next(&hash()), by(&client, None, &[]))
            .await
            .unwrap(),
        Rotation::Invalid
    );

    // Two of three are still alive.
    assert_eq!(store.revoke_user_families(&sub).await.unwrap(), 2);
    for id in &ids {
        assert!(!store.family_alive(id).await.unwrap());
    }
    assert_eq!(store.revoke_user_families(&sub).await.unwrap(), 0);
    assert_eq!(
        store
            .revoke_user_families(&uuid::Uuid::new_v4().to_string())
            .await
            .unwrap(),
        0
    );
    // Another user's session is untouched.
    assert!(store.family_alive(&other).await.unwrap());
    assert_eq!(
        store
            .refresh_token_state(&other, &other_hash)
            .await
            .unwrap(),
        TokenState::Current(other_family),
        "round trip with an email"
    );
}

/// A session lives a fixed time from login: refreshing does not extend it, so the user's index
/// of families (renewed at each login) always outlives every family it lists, and
/// logout-everywhere finds every live session.
async fn refreshed_session_outlives_its_login_contract(store: &Store) {
    let sub = uuid::Uuid::new_v4().to_string();
    let client = unique("client");
    let (short, long) = (unique("fam"), unique("fam"));
    let (h0, h1, h2) = (hash(), hash(), hash());
    store
        .create_family(&short, &family(&sub, &client, "openid"), &h0, 2)
        .await
        .unwrap();
    store
        .create_family(&long, &family(&sub, &client, "openid"), &h2, TTL)
        .await
        .unwrap();
    assert!(matches!(
        store
            .rotate_refresh_token(&short, &h0, next(&h1), by(&client, None, &[]))
            .await
            .unwrap(),
        Rotation::Rotated(_)
    ));
    // Past its life from login, the refreshed family is gone with its newest token.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!store.family_alive(&short).await.unwrap());
    assert_eq!(
        store.refresh_token_state(&short, &h1).await.unwrap(),
        TokenState::Unknown
    );
    assert_eq!(
        store.revoke_user_families(&sub).await.unwrap(),
        1,
        "logout-everywhere finds the live session"
    );
    assert!(!store.family_alive(&long).await.unwrap());
}

/// A record type of the tests' own: the typed-record operations are generic.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Note {
    text: String,
}

impl Record for Note {
    const KIND: &'static str = "test-note";
}

async fn records_contract(store: &Store) {
    let id = hash();
    let note = Note {
        text: unique("note"),
    };
    assert_eq!(store.get::<Note>(&id).await.unwrap(), None);
    store.put(&id, &note, TTL).await.unwrap();
    assert_eq!(store.get::<Note>(&id).await.unwrap().as_ref(), Some(&note));

    // Attempts are spent up to the budget, the last one still evaluated (the record lives on
    // for its taker); the one after is refused and the record is gone. Rewriting a live record
    // keeps its count (a pending request's budget cannot be reset); a new one starts afresh.
    let spend = || store.spend_attempt::<Note>(&id, 3);
    assert_eq!(spend().await.unwrap(), Attempt::Counted { left: 2 });
    assert_eq!(spend().await.unwrap(), Attempt::Counted { left: 1 });
    let rewritten = Note {
        text: unique("rewritten"),
    };
    store.put(&id, &rewritten, TTL).await.unwrap();
    let stored = store.get::<Note>(&id).await.unwrap();
    assert_eq!(stored.as_ref(), Some(&rewritten));
    assert_eq!(spend().await.unwrap(), Attempt::Counted { left: 0 });
    let last = store.get::<Note>(&id).await.unwrap();
    assert_eq!(
        last.as_ref(),
        Some(&rewritten),
        "alive for the last attempt"
    );
    assert_eq!(spend().await.unwrap(), Attempt::Exhausted);
    let gone = store.get::<Note>(&id).await.unwrap();
    assert_eq!(gone, None, "dead past the budget");
    assert_eq!(spend().await.unwrap(), Attempt::Unknown);
    store.put(&id, &note, TTL).await.unwrap();
    assert_eq!(spend().await.unwrap(), Attempt::Counted { left: 2 });
    store.take::<Note>(&id).await.unwrap();

    // Take is single use.
    store.put(&id, &note, TTL).await.unwrap();
    assert_eq!(store.take::<Note>(&id).await.unwrap().as_ref(), Some(&note));
    assert_eq!(store.take::<Note>(&id).await.unwrap(), None);

    // Redemption: fresh once, then the first family; unknown ids are unknown.
    store.put(&id, &note, TTL).await.unwrap();
    let (first, second) = (unique("fam"), unique("fam"));
    assert_eq!(
        store.redeem::<Note>(&id, &first).await.unwrap(),
        Redemption::Fresh(Note {
            text: note.text.clone()
        })
    );
    assert_eq!(
        store.redeem::<Note>(&id, &second).await.unwrap(),
        Redemption::Reused(first)
    );
    assert_eq!(
        store.redeem::<Note>(&hash(), &second).await.unwrap(),
        Redemption::Unknown
    );

    // Records expire.
    let short = hash();
    store.put(&short, &note, 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(store.get::<Note>(&short).await.unwrap(), None);
}

/// The limiter arithmetic of `store::limits`, as both backends run it.
async fn limits_contract(store: &Store) {
    let ip: IpAddr = format!("198.51.100.{}", rand_octet()).parse().unwrap();
    let now = 1_000_000_000_000u64 + u64::from(rand_octet()) * 1_000_000;
    for _ in 0..3 {
        assert_eq!(store.ip_attempt(ip, now, 3).await.unwrap(), Limit::Allowed);
    }
    assert!(matches!(
        store.ip_attempt(ip, now, 3).await.unwrap(),
        Limit::Limited { by: LimitedBy::Ip, retry_after_ms } if retry_after_ms > 0 && retry_after_ms <= 20_000
    ));
    assert_eq!(
        store.ip_attempt(ip, now + 20_000, 3).await.unwrap(),
        Limit::Allowed
    );

    account_contract(store, now).await;
}

/// `account_attempt` and `login_success`: an address's first unresolved failure counts against
/// the account, its others against the pair; during the back-off only an address without
/// failures is let through; a success clears the pair alone.
async fn account_contract(store: &Store, now: u64) {
    let rule = Backoff {
        failure_limit: 2,
        window_ms: 60_000,
        base_ms: 1_000,
        max_ms: 8_000,
    };
    let account = unique("acct");
    let octet = rand_octet();
    let [a, b, c]: [IpAddr; 3] =
        ["198.51.100", "203.0.113", "192.0.2"].map(|net| format!("{net}.{octet}").parse().unwrap());
    let attempt = |ip, at| store.account_attempt(&account, ip, at, &rule);
    let account_wait = |ms| Limit::Limited {
        by: LimitedBy::Account,
        retry_after_ms: ms,
    };
    // A's second failure counts against its pair alone, its third meets the pair limit.
    assert_eq!(attempt(a, now).await.unwrap(), Limit::Allowed);
    assert_eq!(attempt(a, now).await.unwrap(), Limit::Allowed);
    assert!(matches!(
        attempt(a, now).await.unwrap(),
        Limit::Limited { by: LimitedBy::Pair, retry_after_ms } if retry_after_ms > 50_000 && retry_after_ms <= 60_000
    ));
    // B's first failure is the account's second: a back-off of base_ms, which B waits out.
    assert_eq!(attempt(b, now).await.unwrap(), Limit::Allowed);
    assert_eq!(attempt(b, now + 10).await.unwrap(), account_wait(990));
    // C has no failure: let through, and its failure doubles the back-off.
    assert_eq!(attempt(c, now + 10).await.unwrap(), Limit::Allowed);
    assert_eq!(attempt(b, now + 20).await.unwrap(), account_wait(1_990));
    // A success clears C's pair and takes back its count (3 failures, not 4, after C's next
    // failure: a back-off of 2 s); B still waits.
    store.login_success(&account, c, now + 20).await.unwrap();
    assert_eq!(attempt(c, now + 20).await.unwrap(), Limit::Allowed);
    assert_eq!(attempt(b, now + 40).await.unwrap(), account_wait(1_980));
    // After the back-off, B's second failure is let through and does not extend it.
    assert_eq!(attempt(b, now + 2_020).await.unwrap(), Limit::Allowed);
    assert_eq!(attempt(c, now + 2_020).await.unwrap(), Limit::Allowed);

    // An address waits for the back-off or for its pair to expire, whichever comes first.
    let short = Backoff {
        failure_limit: 2,
        window_ms: 5_000,
        base_ms: 8_000,
        max_ms: 8_000,
    };
    let account = unique("acct");
    for ip in [a, b] {
        let first = store.account_attempt(&account, ip, now, &short).await;
        assert_eq!(first.unwrap(), Limit::Allowed);
    }
    assert!(matches!(
        store.account_attempt(&account, a, now + 10, &short).await.unwrap(),
        Limit::Limited { by: LimitedBy::Account, retry_after_ms } if retry_after_ms > 4_000 && retry_after_ms <= 5_000
    ));
}

fn rand_octet() -> u8 {
    (uuid::Uuid::new_v4().as_u128() % 250) as u8 + 1
}

async fn second_factor_contract(store: &Store) {
    let sub = uuid::Uuid::new_v4().to_string();
    assert!(store.accept_totp_step(&sub, 10).await.unwrap());
    assert!(!store.accept_totp_step(&sub, 10).await.unwrap(), "replay");
    assert!(
        !store.accept_totp_step(&sub, 9).await.unwrap(),
        "older step"
    );
    assert!(store.accept_totp_step(&sub, 11).await.unwrap());
    let codes = [hash(), hash()];
    store.set_recovery_codes(&sub, &codes).await.unwrap();
    assert!(store.use_recovery_code(&sub, &codes[0]).await.unwrap());
    assert!(
        !store.use_recovery_code(&sub, &codes[0]).await.unwrap(),
        "single use"
    );
    assert!(!store.use_recovery_code(&sub, &hash()).await.unwrap());
    store.set_recovery_codes(&sub, &[]).await.unwrap();
    assert!(
        !store.use_recovery_code(&sub, &codes[1]).await.unwrap(),
        "replaced"
    );
}

async fn contract(store: Store) {
    store.ping().await.unwrap();
    users_contract(&store).await;
    clients_contract(&store).await;
    rotation_contract(&store).await;
    revocation_contract(&store).await;
    records_contract(&store).await;
    limits_contract(&store).await;
    second_factor_contract(&store).await;
    factors::factor_limit_contract(&store).await;
    refreshed_session_outlives_its_login_contract(&store).await;
    crate::store_users_contract::user_listing_contract(&store).await;
    crate::store_users_contract::user_removal_contract(&store).await;
    device::device_contract(&store).await;
    dpop::dpop_contract(&store).await;
    sessions::session_list_contract(&store).await;
    sessions::grace_contract(&store).await;
    sessions::notice_contract(&store).await;
    passkeys::passkey_contract(&store).await;
    registration::registration_contract(&store).await;
}

#[tokio::test]
async fn memory_store_meets_the_contract() {
    contract(Store::Memory(MemoryStore::new())).await;
}

#[tokio::test]
async fn redis_cluster_store_meets_the_contract() {
    let urls = cluster_urls();
    let nodes: Vec<&str> = urls.split(',').collect();
    let store = RedisStore::connect_cluster(&nodes, Duration::from_secs(2))
        .await
        .unwrap()
        .for_issuer(&unique("issuer"));
    contract(Store::Redis(store)).await;
}

#[tokio::test]
async fn redis_store_meets_the_contract() {
    let store = RedisStore::connect(&redis_url(), Duration::from_secs(2))
        .await
        .unwrap()
        .for_issuer(&unique("issuer"));
    contract(Store::Redis(store)).await;
}
