//! Authentication context classes (`acr`, OIDC Core §2) and what each demands, derived from the
//! RFC 8176 `amr` values a session was authenticated with. A leaf: it imports nothing.
//!
//! tessera's classes, weakest first (listed in discovery `acr_values_supported`):
//! - [`SINGLE_FACTOR`] `urn:tessera:acr:1fa`: one factor (a password).
//! - [`TWO_FACTOR`] `urn:tessera:acr:2fa`: a password and a second factor (`otp`).
//! - [`PHISHING_RESISTANT`] `urn:tessera:acr:phr`: a passkey (`hwk`/`swk` with user
//!   verification, see `crate::passkeys`). A request for it from a user without a passkey is
//!   answered with the strongest class the user can reach (`acr_values` is voluntary, OIDC
//!   Core §3.1.2.1; the token's `acr` says what was achieved).
//!
//! A class is satisfied by itself or a stronger one. Essential `acr` through the `claims`
//! parameter (OIDC Core §5.5.1.1) is not supported.

/// One factor: a password.
pub const SINGLE_FACTOR: &str = "urn:tessera:acr:1fa";
/// Two factors: a password and a one-time password (TOTP or recovery code).
pub const TWO_FACTOR: &str = "urn:tessera:acr:2fa";
/// Phishing-resistant: a passkey with user verification.
pub const PHISHING_RESISTANT: &str = "urn:tessera:acr:phr";
/// Every class, weakest first: discovery's `acr_values_supported`.
pub const SUPPORTED: [&str; 3] = [SINGLE_FACTOR, TWO_FACTOR, PHISHING_RESISTANT];

/// A class as an ordered level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// [`SINGLE_FACTOR`].
    SingleFactor,
    /// [`TWO_FACTOR`].
    TwoFactor,
    /// [`PHISHING_RESISTANT`].
    PhishingResistant,
}

impl Level {
    /// The class's `acr` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::SingleFactor => SINGLE_FACTOR,
            Level::TwoFactor => TWO_FACTOR,
            Level::PhishingResistant => PHISHING_RESISTANT,
        }
    }

    /// The level reached by the space-separated RFC 8176 methods `amr`: a key-based method
    /// (`hwk`, `swk`) is phishing-resistant; two methods, or `mfa`, are two factors.
    pub fn of_amr(amr: &str) -> Self {
        // No allocation: this runs for every access token, refreshes included.
        let mut methods = 0;
        let mut mfa = false;
        for method in amr.split_whitespace() {
            match method {
                "hwk" | "swk" => return Level::PhishingResistant,
                "mfa" => mfa = true,
                _ => {}
            }
            methods += 1;
        }
        if methods >= 2 || mfa {
            Level::TwoFactor
        } else {
            Level::SingleFactor
        }
    }

    /// The level an `acr_values` request demands (OIDC Core §3.1.2.1: space-separated, in
    /// order of preference): the weakest class it names, since any of them is acceptable.
    /// Values tessera does not know are ignored; `None` when none is known.
    pub fn required_by(acr_values: &str) -> Option<Self> {
        acr_values
            .split_whitespace()
            .filter_map(|v| match v {
                SINGLE_FACTOR => Some(Level::SingleFactor),
                TWO_FACTOR => Some(Level::TwoFactor),
                PHISHING_RESISTANT => Some(Level::PhishingResistant),
                _ => None,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_methods() {
        assert_eq!(Level::of_amr("pwd"), Level::SingleFactor);
        assert_eq!(Level::of_amr("pwd otp"), Level::TwoFactor);
        assert_eq!(Level::of_amr("hwk user"), Level::PhishingResistant);
        assert_eq!(Level::of_amr(""), Level::SingleFactor);
    }

    #[test]
    fn the_weakest_named_class_is_required() {
        assert_eq!(Level::required_by("urn:x"), None);
        assert_eq!(Level::required_by(TWO_FACTOR), Some(Level::TwoFactor));
        let both = format!("{PHISHING_RESISTANT} {TWO_FACTOR} urn:x");
        assert_eq!(Level::required_by(&both), Some(Level::TwoFactor));
    }
}
