//! Client registrations: a family rotates only for the registration of its client it was
//! opened under, so a client removed and registered again under the same id never gets its old
//! sessions back; presenting one changes nothing.

use tessera::secret::SecretHash;
use tessera::store::{Backend, Presenter, Rotation, Store, TokenState};

use super::{by, family, next};

use crate::helpers::unique;

pub async fn registration_contract(store: &Store) {
    let client = unique("client");
    let mut opened = family(&unique("sub"), &client, "openid");
    opened.client_registered_at = 1_700_000_000_123;
    let (id, h0, h1, h2) = (
        unique("fam"),
        SecretHash::of(&unique("t")),
        SecretHash::of(&unique("t")),
        SecretHash::of(&unique("t")),
    );
    store.create_family(&id, &opened, &h0, 600).await.unwrap();
    assert_eq!(
        store.refresh_token_state(&id, &h0).await.unwrap(),
        TokenState::Current(opened.clone()),
        "the family keeps its registration"
    );
    let scope: &[&str] = &[];
    let under = |client_registered_at| Presenter {
        client_registered_at,
        ..by(&client, None, scope)
    };
    for other in [0, 1_700_000_000_124] {
        let r = store
            .rotate_refresh_token(&id, &h0, next(&h1), under(other))
            .await
            .unwrap();
        assert_eq!(
            r,
            Rotation::Invalid,
            "another registration of the client id"
        );
    }
    assert_eq!(
        store.refresh_token_state(&id, &h0).await.unwrap(),
        TokenState::Current(opened.clone()),
        "nothing changed"
    );
    let r = store
        .rotate_refresh_token(&id, &h0, next(&h1), under(opened.client_registered_at))
        .await
        .unwrap();
    assert_eq!(r, Rotation::Rotated(opened.clone()));
    // A rotated-away token under another registration is not reuse: the family lives on.
    let r = store
        .rotate_refresh_token(&id, &h0, next(&h2), under(0))
        .await
        .unwrap();
    assert_eq!(r, Rotation::Invalid);
    assert!(store.family_alive(&id).await.unwrap());
}
