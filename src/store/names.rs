//! Every key the store writes, in one place. Both backends use these names (the memory backend
//! as map keys where it keeps counters), so the layout below is the whole of it.
//!
//! Key layout (all under `tessera:`):
//! - `user:<username>` → JSON [`super::User`]; `sub:<sub>` → username
//! - `users` → sorted set, every score 0, member `<created_at, 20 digits>:<sub>`
//!   ([`user_index_member`]): lexicographic order is creation order (ties by `sub`), so a
//!   listing pages with `ZRANGEBYLEX users (<cursor> + LIMIT 0 <n>`, never `KEYS`, and a user
//!   created meanwhile sorts after every existing one (pages stay stable under inserts: every
//!   user present when a listing began is listed once). The cursor is the last member listed;
//!   a user created in the very second of that member, with a smaller `sub`, sorts before it
//!   and is not seen by that listing. Users stored before the index existed enter it on their
//!   next write.
//! - `client:<client_id>` → JSON [`super::Client`]; `clients` → set of client ids
//! - `fam:{<id>}` → hash `sub client_id scope auth_time amr username email jkt current created
//!   refreshed reg` (TTL = refresh-token TTL; `created` and `refreshed` are unix seconds; `reg`
//!   is the client's `registered_at`, ms, when the family was opened, absent meaning 0);
//!   `fam:{<id>}:used` → set of rotated-away token hashes (same TTL); `fam:{<id>}:grace` →
//!   hash `parent successor sealed` of the last rotation, kept only for the refresh grace
//!   window (PX = `refresh_reuse_grace`): the parent's hash, the successor's hash, and the
//!   successor sealed with the data key. The hash tag `{<id>}` keeps a family in one Redis
//!   Cluster slot.
//! - `user-fams:<sub>` → set of the user's family ids (TTL = refresh-token TTL, renewed at each
//!   login; families never outlive it because rotation does not extend a family's life)
//! - `session-fams:<hash>` → families opened by a browser login session
//! - `totp-step:<sub>` → last accepted TOTP step (TTL 300 s); `recovery:<sub>` → set of
//!   recovery-code hashes
//! - `rl:ip:<ip>` → GCRA theoretical arrival time, ms; `rl:{acct:<username>}` → hash
//!   `failures until`; `rl:{acct:<username>}:ip:<ip>` → unresolved attempts of the pair (the
//!   account and its pairs share a hash tag: one slot, one script); `rl:factor:<sub>` → hash
//!   `failures until` of the account's second-factor attempts (TOTP, recovery codes, passkey
//!   assertions at the second step): every attempt counts until a correct factor clears it,
//!   with the back-off of the account limit; not cleared by a correct password, and not tied
//!   to an `mfa_token`, a pending request or an address
//! - `<kind>:<hash>` → hash `data failures family` of a typed short-lived record (see
//!   [`super::Record`]; `failures` counts the attempts spent on its budget): the kinds are `authreq` (authorization request waiting for sign-in),
//!   `session` (browser login session), `code` (authorization code), `mfa` (password step
//!   waiting for its second factor), `pkreg` (a passkey registration in progress, keyed by the
//!   hash of the user's `sub`) and `pkauth` (a passkey sign-in challenge, keyed like the
//!   authorization request it belongs to); each kind is a constant of its own type
//! - `device:<hash>` → hash `client data status expires interval step last approval` of a
//!   device authorization (RFC 8628), keyed by the SHA-256 of its device code: `status` is
//!   `pending`, `approved`, `denied` or `redeemed`; `expires` (ms) is its `expires_in`, while
//!   the key lives [`super::device::EXPIRED_GRACE`] longer; `interval` and `step` (ms) are the
//!   polling interval and its slow-down step, `last` (ms) the previous poll; `approval` is the
//!   user's approval (JSON). One key, so every poll and decision is one single-slot script.
//! - `user-code:<hash>` → the device-code hash (a JSON string) of the authorization whose user
//!   code hashes to `<hash>` (same TTL; taken with `SET NX`: two live authorizations never
//!   share a user code)
//! - `dpop-jti:<hash>` → `1`, a DPoP proof seen (RFC 9449 §11.1): the hash is SHA-256 of
//!   `<jkt>:<jti>`; PX = twice the `dpop_iat_window`, so a proof is refused for as long as its
//!   `iat` could be accepted. Set with one `SET NX PX` ([`dpop_proof`])
//! - `{bcl:<scope>}` → stream of back-channel logout notices (OIDC Back-Channel Logout 1.0),
//!   read by the consumer group `tessera` that every instance joins, each entry one field `n`
//!   (JSON [`super::Notice`]); `{bcl:<scope>}:retry` → sorted set of notices waiting for their
//!   next attempt, scored by when it is due (unix ms). `<scope>` is the start of the SHA-256 of
//!   the issuer ([`notices`]), so servers of different issuers sharing one Redis never deliver
//!   each other's notices; the one hash tag keeps both keys in one slot for one script.
//! - `passkeys:<sub>` → hash credential id (base64url) → JSON
//!   [`super::passkeys::StoredPasskey`]: a user's passkeys (WebAuthn), at most 20
//! - `data-key-check` → a constant sealed with the data key
//! - `keys` → hash kid → JSON [`super::KeyMeta`]; `lock:<name>` → short locks

use std::net::IpAddr;

use crate::secret::SecretHash;

/// Hash of key rotation metadata.
pub const KEY_META: &str = "tessera:keys";
/// Set of all registered client ids (for `client list`).
pub const CLIENT_INDEX: &str = "tessera:clients";
/// The user index (see the module docs).
pub const USER_INDEX: &str = "tessera:users";
/// The sealed data-key check value.
pub const DATA_KEY_CHECK: &str = "tessera:data-key-check";

/// A user by normalised username.
pub fn user(username: &str) -> String {
    format!("tessera:user:{username}")
}

/// A `sub` → username index entry.
pub fn sub(sub: &str) -> String {
    format!("tessera:sub:{sub}")
}

/// The member of `user` in [`USER_INDEX`]: creation time (zero-padded) and `sub`.
pub fn user_index_member(user: &super::User) -> String {
    format!("{:020}:{}", user.created_at, user.sub)
}

/// A client.
pub fn client(client_id: &str) -> String {
    format!("tessera:client:{client_id}")
}

/// A family's hash and its set of used token hashes (one hash tag).
pub fn family(id: &str) -> (String, String) {
    (
        format!("tessera:fam:{{{id}}}"),
        format!("tessera:fam:{{{id}}}:used"),
    )
}

/// A family's refresh grace record (same hash tag as [`family`]).
pub fn family_grace(id: &str) -> String {
    format!("tessera:fam:{{{id}}}:grace")
}

/// The back-channel logout queue of `issuer`: its stream and its retry schedule (one hash tag).
pub fn notices(issuer: &str) -> (String, String) {
    let hash = SecretHash::of(issuer);
    let scope = &hash.as_str()[..16];
    (
        format!("tessera:{{bcl:{scope}}}"),
        format!("tessera:{{bcl:{scope}}}:retry"),
    )
}

/// The consumer group of the back-channel logout stream, joined by every instance.
pub const NOTICE_GROUP: &str = "tessera";

/// The set of a user's family ids.
pub fn user_families(sub: &str) -> String {
    format!("tessera:user-fams:{sub}")
}

/// The set of families a browser login session opened.
pub fn session_families(session: &SecretHash) -> String {
    format!("tessera:session-fams:{}", session.as_str())
}

/// The last accepted TOTP step of a user.
pub fn totp_step(sub: &str) -> String {
    format!("tessera:totp-step:{sub}")
}

/// The set of a user's recovery-code hashes.
pub fn recovery_codes(sub: &str) -> String {
    format!("tessera:recovery:{sub}")
}

/// The per-IP login limit of `ip`, the limit address the caller computed (an IPv6 client
/// is counted by its /64: `tessera:rl:ip:2001:db8:1:2::`).
pub fn ip_limit(ip: IpAddr) -> String {
    format!("tessera:rl:ip:{ip}")
}

/// The per-account failure state (hash: `failures`, `until` ms) and the (account, limit
/// address) pair counter of unresolved attempts (one hash tag: the account).
pub fn account_limits(username: &str, ip: IpAddr) -> (String, String) {
    (
        format!("tessera:rl:{{acct:{username}}}"),
        format!("tessera:rl:{{acct:{username}}}:ip:{ip}"),
    )
}

/// The second-factor failure state of the user `sub` (see the module docs).
pub fn factor_limit(sub: &str) -> String {
    format!("tessera:rl:factor:{sub}")
}

/// A typed record of `kind` under `id`.
pub fn record(kind: &str, id: &SecretHash) -> String {
    format!("tessera:{kind}:{}", id.as_str())
}

/// A short lock.
pub fn lock(name: &str) -> String {
    format!("tessera:lock:{name}")
}

/// A device authorization (RFC 8628) by the hash of its device code.
pub fn device(id: &SecretHash) -> String {
    format!("tessera:device:{}", id.as_str())
}

/// The user-code index entry of a device authorization, by the hash of the user code.
pub fn user_code(code: &SecretHash) -> String {
    format!("tessera:user-code:{}", code.as_str())
}

/// A seen DPoP proof (see the module docs).
pub fn dpop_proof(proof: &SecretHash) -> String {
    format!("tessera:dpop-jti:{}", proof.as_str())
}

/// The hash of a user's passkeys.
pub fn passkeys(sub: &str) -> String {
    format!("tessera:passkeys:{sub}")
}
