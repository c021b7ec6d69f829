//! The Lua scripts, one `.lua` file each beside this one (every read-check-write is one
//! script, atomic on the server; `backoff.lua` is a function the limit scripts share, put in
//! front of each). Each script touches one Redis Cluster slot.

use std::sync::LazyLock;

use redis::Script;

/// Refresh-token rotation with reuse detection.
pub(super) static ROTATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/rotate.lua")));

/// The state of one refresh token.
pub(super) static TOKEN_STATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/token_state.lua")));

/// Per-IP GCRA.
pub(super) static IP_ATTEMPT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/ip_attempt.lua")));

/// Per-account back-off and per-pair limit (after the shared back-off, `backoff.lua`).
pub(super) static ACCOUNT_ATTEMPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("scripts/backoff.lua"),
        include_str!("scripts/account_attempt.lua")
    ))
});

/// Per-account second-factor back-off (after the shared back-off, `backoff.lua`).
pub(super) static FACTOR_ATTEMPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("scripts/backoff.lua"),
        include_str!("scripts/factor_attempt.lua")
    ))
});

/// A success: the pair cleared, its account count taken back.
pub(super) static LOGIN_SUCCESS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/login_success.lua")));

/// TOTP step compare-and-set.
pub(super) static TOTP_STEP: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/totp_step.lua")));

/// An attempt against a typed record's budget.
pub(super) static RECORD_ATTEMPT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/record_attempt.lua")));

/// Single-use redemption of a typed record.
pub(super) static REDEEM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/redeem.lua")));

/// One poll of a device authorization (RFC 8628 §3.5).
pub(super) static DEVICE_POLL: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/device_poll.lua")));

/// The user's decision on a device authorization.
pub(super) static DEVICE_DECIDE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/device_decide.lua")));

/// Claims back-channel logout notices: due retries, abandoned claims, new entries.
pub(super) static CLAIM_NOTICES: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/claim_notices.lua")));

/// Adding a passkey under the per-user limit.
pub(super) static PASSKEY_ADD: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/passkey_add.lua")));

/// Replacing a still-registered passkey.
pub(super) static PASSKEY_REPLACE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/passkey_replace.lua")));
