//! The DPoP part of the contract (RFC 9449): the proof replay cache (one `SET NX PX`) and
//! refresh families bound to a key, whose rotation without that key changes nothing.

use std::time::Duration;

use tessera::secret::SecretHash;
use tessera::store::{Backend, Family, Rotation, Store, TokenState};

use super::{by, next};

use crate::helpers::unique;

pub async fn dpop_contract(store: &Store) {
    let proof = SecretHash::of(&unique("jkt:jti"));
    assert!(store.first_dpop_proof(&proof, 300).await.unwrap());
    assert!(
        !store.first_dpop_proof(&proof, 300).await.unwrap(),
        "replay"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        store.first_dpop_proof(&proof, 300).await.unwrap(),
        "expired"
    );

    let client = unique("client");
    let family = Family {
        sub: unique("sub"),
        client_id: client.clone(),
        scope: "openid".into(),
        auth_time: 1_700_000_000,
        amr: "pwd".into(),
        username: unique("user"),
        email: None,
        jkt: Some("key-one".into()),
        client_registered_at: 0,
    };
    let (id, h0, h1) = (
        unique("fam"),
        SecretHash::of(&unique("t")),
        SecretHash::of(&unique("t")),
    );
    store.create_family(&id, &family, &h0, 600).await.unwrap();
    for jkt in [None, Some("key-two")] {
        let r = store
            .rotate_refresh_token(&id, &h0, next(&h1), by(&client, jkt, &[]))
            .await
            .unwrap();
        assert_eq!(r, Rotation::KeyMismatch);
    }
    assert!(matches!(
        store.refresh_token_state(&id, &h0).await.unwrap(),
        TokenState::Current(f) if f.jkt.as_deref() == Some("key-one")
    ));
    let r = store
        .rotate_refresh_token(&id, &h0, next(&h1), by(&client, Some("key-one"), &[]))
        .await
        .unwrap();
    assert_eq!(r, Rotation::Rotated(family));
    // A rotated token without the key is refused without revoking the family.
    let r = store
        .rotate_refresh_token(&id, &h0, next(&h1), by(&client, None, &[]))
        .await
        .unwrap();
    assert_eq!(r, Rotation::KeyMismatch);
    assert!(store.family_alive(&id).await.unwrap());
}
