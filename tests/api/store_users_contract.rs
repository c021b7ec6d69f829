//! The user-administration part of the store contract (run by `store_contract::contract` on
//! memory, Redis and Redis Cluster): cursor listing stable under inserts, and removal.

use std::collections::HashSet;

use tessera::secret::SecretHash;
use tessera::store::{names, Backend, Family, Store, User};

use crate::helpers::{bulk_user, unique};

fn user_at(created_at: u64) -> User {
    bulk_user(created_at)
}

/// Pages through the index from `cursor` in pages of `limit`, calling `between` with the next
/// cursor after each page; returns every `sub` listed, in order.
async fn traverse(
    store: &Store,
    cursor: String,
    limit: usize,
    mut between: impl AsyncFnMut(Option<&str>),
) -> Vec<String> {
    let mut cursor = Some(cursor);
    let mut seen = Vec::new();
    while let Some(c) = cursor {
        let page = store.users_page(Some(&c), limit).await.unwrap();
        assert!(page.users.len() <= limit);
        seen.extend(page.users.into_iter().map(|u| u.sub));
        cursor = page.next;
        between(cursor.as_deref()).await;
    }
    seen
}

pub async fn user_listing_contract(store: &Store) {
    // A private stretch of the index: a random creation time far from other tests' users.
    let t = 3_000_000_000 + u64::from(rand::random::<u32>()) * 10;
    let mut mine = Vec::new();
    for i in 0..23 {
        let user = user_at(t + i / 10);
        assert!(store.put_user(&user, true).await.unwrap());
        mine.push(user);
    }
    // Updating a user keeps its single place in the index.
    assert!(store.put_user(&mine[0], false).await.unwrap());
    let mut inserted = Vec::new();
    let start = format!("{t:020}:");
    let seen = traverse(store, start, 5, async |cursor: Option<&str>| {
        // Time moves on between pages. (A shared Redis may hold later users of earlier runs;
        // only an insert past the listing's position is due to appear.)
        let user = user_at(t + 100 + inserted.len() as u64);
        store.put_user(&user, true).await.unwrap();
        let ahead = cursor.is_some_and(|c| c < names::user_index_member(&user).as_str());
        inserted.push((user.clone(), ahead));
    })
    .await;
    let unique_seen: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique_seen.len(), seen.len(), "no user is listed twice");
    let mut expected: Vec<(u64, String)> =
        mine.iter().map(|u| (u.created_at, u.sub.clone())).collect();
    expected.sort();
    let listed_mine: Vec<&String> = seen
        .iter()
        .filter(|s| mine.iter().any(|u| &u.sub == *s))
        .collect();
    let expected: Vec<&String> = expected.iter().map(|(_, s)| s).collect();
    assert_eq!(listed_mine, expected, "every user once, in creation order");
    // Users created while paging sort after every existing one, so all but the last are seen.
    for (user, _) in inserted.iter().filter(|(_, ahead)| *ahead) {
        assert!(
            unique_seen.contains(&user.sub),
            "an insert between pages is listed"
        );
    }
    let empty = store
        .users_page(Some(&format!("{:020}:", u64::MAX / 2)), 5)
        .await
        .unwrap();
    assert!(empty.users.is_empty() && empty.next.is_none());
    assert!(
        inserted.iter().any(|(_, ahead)| *ahead),
        "inserts were checked"
    );
    // Leave a shared Redis as it was.
    for user in mine.iter().chain(inserted.iter().map(|(u, _)| u)) {
        assert!(store.remove_user(user).await.unwrap());
    }
}

pub async fn user_removal_contract(store: &Store) {
    let t = 3_000_000_000 + u64::from(rand::random::<u32>()) * 10;
    let user = user_at(t);
    assert!(store.put_user(&user, true).await.unwrap());
    let codes = [SecretHash::of("a"), SecretHash::of("b")];
    store.set_recovery_codes(&user.sub, &codes).await.unwrap();
    assert_eq!(store.recovery_codes_left(&user.sub).await.unwrap(), 2);
    let family_id = unique("fam");
    let family = Family {
        sub: user.sub.clone(),
        client_id: "c".into(),
        scope: "openid".into(),
        auth_time: t,
        amr: "pwd".into(),
        username: user.username.clone(),
        email: None,
        jkt: None,
        client_registered_at: 0,
    };
    store
        .create_family(&family_id, &family, &SecretHash::of(&unique("rt")), 600)
        .await
        .unwrap();

    assert!(store.remove_user(&user).await.unwrap());
    assert!(store.user(&user.username).await.unwrap().is_none());
    assert!(store.user_by_sub(&user.sub).await.unwrap().is_none());
    assert!(
        !store.family_alive(&family_id).await.unwrap(),
        "sessions end"
    );
    assert_eq!(store.recovery_codes_left(&user.sub).await.unwrap(), 0);
    let page = store
        .users_page(Some(&format!("{:020}:", t)), 10)
        .await
        .unwrap();
    assert!(page.users.iter().all(|u| u.sub != user.sub), "not listed");
    assert!(!store.remove_user(&user).await.unwrap(), "already gone");
    // The username is free again.
    let mut again = user_at(t);
    again.username = user.username.clone();
    assert!(store.put_user(&again, true).await.unwrap());
}
