//! The device-authorization part of the contract (RFC 8628): creation with a unique user code,
//! lookup by user code, one decision, and the poll's answers, with the time passed in.

use serde::{Deserialize, Serialize};
use tessera::secret::SecretHash;
use tessera::store::{DevicePoll, NewDevice, Store};

use crate::helpers::unique;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Request {
    scope: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Approval {
    sub: String,
}

const NOW: u64 = 1_900_000_000_000;
const INTERVAL: u64 = 5_000;

fn new(client_id: &str) -> NewDevice<'_> {
    NewDevice {
        client_id,
        json: "",
        interval_ms: INTERVAL,
        slow_down_ms: 5_000,
        expires_ms: NOW + 600_000,
        ttl: 900,
    }
}

/// A fresh pending authorization of `client_id`: (id, user code, request).
async fn created(store: &Store, client_id: &str) -> (SecretHash, SecretHash, Request) {
    let (id, user_code) = (SecretHash::of(&unique("dc")), SecretHash::of(&unique("uc")));
    let request = Request {
        scope: unique("scope"),
    };
    let created = store.create_device(&id, &user_code, &request, new(client_id));
    assert!(created.await.unwrap());
    (id, user_code, request)
}

async fn poll(
    store: &Store,
    id: &SecretHash,
    client: &str,
    at: u64,
) -> DevicePoll<(Request, Approval)> {
    store.poll_device(id, client, at).await.unwrap()
}

pub(super) async fn device_contract(store: &Store) {
    let client = unique("client");
    let (id, user_code, request) = created(store, &client).await;

    // A user code is never shared by two live authorizations.
    let clash = SecretHash::of(&unique("dc"));
    let taken = store.create_device(&clash, &user_code, &request, new(&client));
    assert!(!taken.await.unwrap(), "user code taken");
    assert_eq!(poll(store, &clash, &client, NOW).await, DevicePoll::Invalid);

    // Found by user code while pending and unexpired.
    let found = store
        .pending_device::<Request>(&user_code, NOW)
        .await
        .unwrap();
    assert_eq!(found, Some((id.clone(), request.clone())));
    let late = store.pending_device::<Request>(&user_code, NOW + 600_000);
    assert_eq!(late.await.unwrap(), None, "expired");
    let unknown = SecretHash::of(&unique("uc"));
    assert_eq!(
        store
            .pending_device::<Request>(&unknown, NOW)
            .await
            .unwrap(),
        None
    );

    // Pending; too early is slow_down and grows the interval for good; another client's
    // poll changes nothing.
    assert_eq!(poll(store, &id, &client, NOW).await, DevicePoll::Pending);
    assert_eq!(
        poll(store, &id, "other", NOW + 1).await,
        DevicePoll::Invalid
    );
    assert_eq!(
        poll(store, &id, &client, NOW + INTERVAL - 1).await,
        DevicePoll::SlowDown
    );
    let after = NOW + 2 * INTERVAL;
    assert_eq!(
        poll(store, &id, &client, after).await,
        DevicePoll::SlowDown,
        "interval is 10 s"
    );
    let later = after + 3 * INTERVAL; // 15 s after the previous poll: the interval now
    assert_eq!(poll(store, &id, &client, later).await, DevicePoll::Pending);

    // One decision; then redeemed by the first poll only.
    let approval = Approval { sub: unique("sub") };
    assert!(store
        .decide_device(&id, Some(&approval), later)
        .await
        .unwrap());
    assert!(
        !store
            .decide_device::<Approval>(&id, None, later)
            .await
            .unwrap(),
        "decided once"
    );
    assert_eq!(
        store
            .pending_device::<Request>(&user_code, later)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        poll(store, &id, "other", later + 1).await,
        DevicePoll::Invalid
    );
    assert_eq!(
        poll(store, &id, &client, later + 1).await,
        DevicePoll::Approved((request, approval.clone()))
    );
    assert_eq!(
        poll(store, &id, &client, later + 2).await,
        DevicePoll::Invalid,
        "redeemed"
    );

    // Denied; expired (while the key lives on).
    let (denied, _, _) = created(store, &client).await;
    assert!(store
        .decide_device::<Approval>(&denied, None, NOW)
        .await
        .unwrap());
    assert_eq!(poll(store, &denied, &client, NOW).await, DevicePoll::Denied);
    let (expired, _, _) = created(store, &client).await;
    let end = NOW + 600_000;
    assert!(!store
        .decide_device(&expired, Some(&approval), end)
        .await
        .unwrap());
    assert_eq!(
        poll(store, &expired, &client, end).await,
        DevicePoll::Expired
    );
    assert_eq!(
        poll(store, &SecretHash::of("nothing"), &client, NOW).await,
        DevicePoll::Invalid
    );
}
