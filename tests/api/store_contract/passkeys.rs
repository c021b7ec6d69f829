//! The passkey part of the contract: a user's passkeys by credential id, the per-user limit
//! (atomic), replacing only a registered passkey, removal of one and of all.

use tessera::store::{Added, PasskeyBackend, Store};

use crate::helpers::unique;

pub async fn passkey_contract(store: &Store) {
    let sub = unique("sub");
    assert!(store.passkeys(&sub).await.unwrap().is_empty());
    assert_eq!(
        store.add_passkey(&sub, "a", "{\"n\":1}", 2).await.unwrap(),
        Added::Added
    );
    assert_eq!(
        store.add_passkey(&sub, "a", "{\"n\":9}", 2).await.unwrap(),
        Added::Exists
    );
    assert_eq!(
        store.add_passkey(&sub, "b", "{\"n\":2}", 2).await.unwrap(),
        Added::Added
    );
    assert_eq!(
        store.add_passkey(&sub, "c", "{\"n\":3}", 2).await.unwrap(),
        Added::Full
    );
    assert_eq!(store.passkey_count(&sub).await.unwrap(), 2);
    let mut all = store.passkeys(&sub).await.unwrap();
    all.sort();
    assert_eq!(all, ["{\"n\":1}", "{\"n\":2}"]);
    assert!(store.replace_passkey(&sub, "a", "{\"n\":4}").await.unwrap());
    assert!(
        !store.replace_passkey(&sub, "z", "{\"n\":5}").await.unwrap(),
        "unknown id"
    );
    assert!(store
        .passkeys(&sub)
        .await
        .unwrap()
        .contains(&"{\"n\":4}".to_owned()));
    assert!(store.remove_passkey(&sub, "a").await.unwrap());
    assert!(!store.remove_passkey(&sub, "a").await.unwrap());
    assert!(
        !store.replace_passkey(&sub, "a", "{}").await.unwrap(),
        "removed stays removed"
    );
    // Another user's passkeys are apart.
    let other = unique("sub");
    assert_eq!(store.passkey_count(&other).await.unwrap(), 0);
    assert_eq!(store.remove_passkeys(&sub).await.unwrap(), 1);
    assert_eq!(store.passkey_count(&sub).await.unwrap(), 0);
    assert_eq!(store.remove_passkeys(&sub).await.unwrap(), 0);
}
