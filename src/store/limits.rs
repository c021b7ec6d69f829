//! The limiter arithmetic, as the store runs it: the Rust twin of the Lua in
//! `redis/scripts/ip_attempt.lua`, `redis/scripts/account_attempt.lua` and
//! `redis/scripts/backoff.lua` (the back-off the account and second-factor limits share); the
//! memory backend calls these functions, and the unit tests below pin the numbers both must
//! produce. What limits apply and what a refusal means to a client is policy, decided above
//! the store.

/// Which limit refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitedBy {
    /// Attempts per client IP per minute (GCRA).
    Ip,
    /// The account is in its back-off.
    Account,
    /// Too many unresolved attempts on one (account, IP) pair.
    Pair,
    /// The account is in its second-factor back-off.
    SecondFactor,
}

impl LimitedBy {
    /// The limit's name, as used in metrics labels and audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitedBy::Ip => "ip",
            LimitedBy::Account => "account",
            LimitedBy::Pair => "pair",
            LimitedBy::SecondFactor => "second_factor",
        }
    }
}

/// The answer of a limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Go ahead (the attempt has been counted).
    Allowed,
    /// Refused; nothing was counted.
    Limited {
        /// Which limit.
        by: LimitedBy,
        /// Milliseconds until a retry can succeed (at least 1).
        retry_after_ms: u64,
    },
}

/// The per-account failure rule: `failure_limit` failures within `window_ms` start a back-off
/// of `base_ms` × 2^(failures − limit), at most `max_ms`, where only an address's first
/// unresolved failure counts against the account. The same limit applies to the unresolved
/// attempts of each (account, address) pair, for `window_ms` from its first, without back-off,
/// and the same rule (all failures counted) to the account's second-factor failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures before the back-off starts (0: no account limit).
    pub failure_limit: u32,
    /// How long failures are remembered after the last one, milliseconds.
    pub window_ms: u64,
    /// First back-off step, milliseconds.
    pub base_ms: u64,
    /// Longest back-off, milliseconds.
    pub max_ms: u64,
}

/// Back-off after `failures` failures (≥ the limit): base × 2^(failures − limit), capped.
pub fn backoff_ms(failures: u64, rule: &Backoff) -> u64 {
    let exponent = failures
        .saturating_sub(u64::from(rule.failure_limit))
        .min(32);
    rule.base_ms
        .saturating_mul(1u64 << exponent)
        .min(rule.max_ms)
}

/// GCRA (generic cell rate algorithm) step for `per_minute` attempts with a burst of the same
/// size: given the stored theoretical arrival time `tat` (ms) and `now` (ms), returns the new
/// TAT when the attempt is allowed, or the milliseconds to wait.
///
/// # Errors
/// The wait, in milliseconds, when the attempt is over the rate.
pub fn gcra(tat: u64, now: u64, per_minute: u32) -> Result<u64, u64> {
    let interval = 60_000u64.div_ceil(u64::from(per_minute.max(1)));
    let new_tat = tat.max(now) + interval;
    if new_tat - now > 60_000 {
        Err(new_tat - now - 60_000)
    } else {
        Ok(new_tat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_allows_the_limit_per_minute_then_refuses() {
        let mut tat = 0;
        let now = 1_000_000;
        for _ in 0..10 {
            tat = gcra(tat, now, 10).unwrap();
        }
        let wait = gcra(tat, now, 10).unwrap_err();
        assert!(wait > 0 && wait <= 6_000);
        assert!(gcra(tat, now + 6_000, 10).is_ok());
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let rule = Backoff {
            failure_limit: 5,
            window_ms: 900_000,
            base_ms: 1_000,
            max_ms: 900_000,
        };
        assert_eq!(backoff_ms(5, &rule), 1_000);
        assert_eq!(backoff_ms(7, &rule), 4_000);
        assert_eq!(backoff_ms(60, &rule), 900_000);
    }
}
