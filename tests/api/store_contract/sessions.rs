//! The contract of session lists, the refresh grace window and the back-channel logout queue.

use std::time::Duration;

use tessera::clock::now_ms;
use tessera::secret::SecretHash;
use tessera::store::{
    Backend, NoticeBackend, Rotation, SessionBackend, Store, Successor, TokenState,
};

use super::{by, family, next, TTL};
use crate::helpers::unique;

fn hash() -> SecretHash {
    SecretHash::of(&unique("hash"))
}

fn grace<'a>(hash: &'a SecretHash, sealed: &'a str, ms: u64) -> Successor<'a> {
    Successor {
        hash,
        grace: Some((sealed, ms)),
    }
}

/// Finishes every claimable notice, so later claims see only what the test queues.
async fn drain(store: &Store) {
    loop {
        let claimed = store
            .claim_notices("drain", 100, 0, u64::MAX / 2)
            .await
            .unwrap();
        if claimed.is_empty() {
            return;
        }
        for c in claimed {
            store.finish_notice(&c.entry).await.unwrap();
        }
    }
}

pub async fn session_list_contract(store: &Store) {
    let sub = uuid::Uuid::new_v4().to_string();
    assert!(store.user_sessions(&sub).await.unwrap().is_empty());
    let (a, b) = (unique("fam"), unique("fam"));
    let (client_a, client_b) = (unique("client"), unique("client"));
    let h0 = hash();
    store
        .create_family(&a, &family(&sub, &client_a, "openid"), &h0, TTL)
        .await
        .unwrap();
    store
        .create_family(&b, &family(&sub, &client_b, "openid"), &hash(), TTL)
        .await
        .unwrap();
    let other = uuid::Uuid::new_v4().to_string();
    store
        .create_family(
            &unique("fam"),
            &family(&other, &client_a, "openid"),
            &hash(),
            TTL,
        )
        .await
        .unwrap();
    let sessions = store.user_sessions(&sub).await.unwrap();
    assert_eq!(sessions.len(), 2, "another user's sessions are not listed");
    let of = |sid: &str| sessions.iter().find(|s| s.sid == sid).unwrap().clone();
    assert_eq!(of(&a).client_id, client_a);
    assert_eq!(of(&b).client_id, client_b);
    assert_eq!(of(&a).amr, "pwd");
    assert!(of(&a).created_at >= tessera::clock::now() - 60);
    assert_eq!(of(&a).last_refreshed_at, None);
    let rotated = store
        .rotate_refresh_token(&a, &h0, next(&hash()), by(&client_a, None, &[]))
        .await
        .unwrap();
    assert!(matches!(rotated, Rotation::Rotated(_)));
    let sessions = store.user_sessions(&sub).await.unwrap();
    let refreshed = sessions.iter().find(|s| s.sid == a).unwrap();
    assert!(refreshed
        .last_refreshed_at
        .is_some_and(|t| t >= refreshed.created_at));
    assert!(store.revoke_family(&b).await.unwrap());
    let left: Vec<String> = store
        .user_sessions(&sub)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sid)
        .collect();
    assert_eq!(left, [a]);
}

pub async fn grace_contract(store: &Store) {
    let sub = uuid::Uuid::new_v4().to_string();
    let client = unique("client");
    let fam = family(&sub, &client, "openid profile");
    let id = unique("fam");
    let (h0, h1, h2) = (hash(), hash(), hash());
    store.create_family(&id, &fam, &h0, TTL).await.unwrap();
    let rotated = store
        .rotate_refresh_token(
            &id,
            &h0,
            grace(&h1, "sealed-1", 30_000),
            by(&client, None, &[]),
        )
        .await
        .unwrap();
    assert_eq!(rotated, Rotation::Rotated(fam.clone()));
    // The parent again, within the window: the same successor, nothing changes.
    for _ in 0..3 {
        let again = store
            .rotate_refresh_token(
                &id,
                &h0,
                grace(&hash(), "other", 30_000),
                by(&client, None, &[]),
            )
            .await
            .unwrap();
        assert_eq!(
            again,
            Rotation::Repeated {
                family: fam.clone(),
                sealed: "sealed-1".into()
            }
        );
    }
    assert_eq!(
        store.refresh_token_state(&id, &h1).await.unwrap(),
        TokenState::Current(fam.clone())
    );
    // Scope beyond the grant: refused, nothing changes.
    let wider = store
        .rotate_refresh_token(&id, &h0, next(&hash()), by(&client, None, &["email"]))
        .await
        .unwrap();
    assert_eq!(wider, Rotation::ScopeExceeded);
    // The successor is used: the parent is now reuse, the family revoked.
    let used = store
        .rotate_refresh_token(&id, &h1, next(&h2), by(&client, None, &[]))
        .await
        .unwrap();
    assert!(matches!(used, Rotation::Rotated(_)));
    let reuse = store
        .rotate_refresh_token(&id, &h0, next(&hash()), by(&client, None, &[]))
        .await
        .unwrap();
    assert!(matches!(reuse, Rotation::Reused { .. }));
    assert!(!store.family_alive(&id).await.unwrap());

    // After the window the parent is reuse.
    let id = unique("fam");
    let (h0, h1) = (hash(), hash());
    store.create_family(&id, &fam, &h0, TTL).await.unwrap();
    store
        .rotate_refresh_token(&id, &h0, grace(&h1, "sealed", 50), by(&client, None, &[]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let late = store
        .rotate_refresh_token(&id, &h0, next(&hash()), by(&client, None, &[]))
        .await
        .unwrap();
    assert!(matches!(late, Rotation::Reused { .. }));

    // Without a grace window the parent is reuse at once.
    let id = unique("fam");
    let (h0, h1) = (hash(), hash());
    store.create_family(&id, &fam, &h0, TTL).await.unwrap();
    store
        .rotate_refresh_token(&id, &h0, next(&h1), by(&client, None, &[]))
        .await
        .unwrap();
    let strict = store
        .rotate_refresh_token(&id, &h0, next(&hash()), by(&client, None, &[]))
        .await
        .unwrap();
    assert!(matches!(strict, Rotation::Reused { .. }));
}

pub async fn notice_contract(store: &Store) {
    drain(store).await;
    let sub = uuid::Uuid::new_v4().to_string();
    let client = unique("client");
    let id = unique("fam");
    let h0 = hash();
    store
        .create_family(&id, &family(&sub, &client, "openid"), &h0, TTL)
        .await
        .unwrap();
    assert!(store.revoke_family(&id).await.unwrap());
    assert!(
        !store.revoke_family(&id).await.unwrap(),
        "gone: no second notice"
    );

    let now = now_ms();
    let claimed = store.claim_notices("one", 10, 60_000, now).await.unwrap();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    let notice = &claimed[0].notice;
    assert_eq!(
        (notice.sid.as_str(), notice.sub.as_str()),
        (id.as_str(), sub.as_str())
    );
    assert_eq!(notice.client_id, client);
    assert_eq!(notice.attempts, 0);
    assert!(notice.ended_ms <= now_ms());
    // Claimed: another consumer does not get it, until the claim is abandoned.
    assert!(store
        .claim_notices("two", 10, 60_000, now)
        .await
        .unwrap()
        .is_empty());
    let taken = store.claim_notices("two", 10, 0, now).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].notice, *notice);

    // Rescheduled: waiting until due, then back with its attempts counted.
    let mut failed = notice.clone();
    failed.attempts = 1;
    store
        .retry_notice(&taken[0].entry, &failed, now + 10_000)
        .await
        .unwrap();
    assert!(store
        .claim_notices("two", 10, 0, now)
        .await
        .unwrap()
        .is_empty());
    let due = store
        .claim_notices("two", 10, 60_000, now + 10_000)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].notice, failed);
    store.finish_notice(&due[0].entry).await.unwrap();
    assert!(store
        .claim_notices("two", 10, 0, now + 100_000)
        .await
        .unwrap()
        .is_empty());

    // A detected reuse and the end of every session of a user queue notices too.
    let (id, h1) = (unique("fam"), hash());
    let fam = family(&sub, &client, "openid");
    store.create_family(&id, &fam, &h0, TTL).await.unwrap();
    store
        .rotate_refresh_token(&id, &h0, next(&h1), by(&client, None, &[]))
        .await
        .unwrap();
    store
        .rotate_refresh_token(&id, &h0, next(&hash()), by(&client, None, &[]))
        .await
        .unwrap();
    let second = unique("fam");
    store
        .create_family(&second, &fam, &hash(), TTL)
        .await
        .unwrap();
    assert_eq!(store.revoke_user_families(&sub).await.unwrap(), 1);
    let mut sids: Vec<String> = store
        .claim_notices("one", 10, 60_000, now_ms())
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.notice.sid)
        .collect();
    sids.sort();
    let mut expected = vec![id, second];
    expected.sort();
    assert_eq!(sids, expected);
    drain(store).await;
}
