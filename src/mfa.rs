//! Second factor: TOTP (RFC 6238) enrollment and verification, recovery codes, and the
//! `mfa_token` that links a password step to its second step. HTTP-free.
//!
//! Parameters are the ones authenticator apps honour: HMAC-SHA1, 6 digits, 30-second steps, a
//! 160-bit secret (RFC 4226 §4 recommends ≥ 160 bits). Codes are accepted within ±1 step
//! (RFC 6238 §5.2), and a (user, step) is accepted at most once across all instances: the last
//! accepted step is kept in the store and advanced with an atomic compare-and-set, so a replayed
//! code, or an earlier step's code after a later one, is refused.

use std::net::IpAddr;

use totp_rs::{Algorithm, Secret, Totp};

use crate::clock::now;
use crate::datakey::DataKey;
use crate::error::{OAuthError, StoreError};
use crate::ratelimit::Limiter;
use crate::secret::{random_token, SecretHash};
use crate::state::AppState;
use crate::store::{Backend, PasskeyBackend, Record, Store, User};
use crate::users::{authenticate_limited, normalize_password};

/// Number of recovery codes issued at confirmation.
pub const RECOVERY_CODES: usize = 10;
/// Wrong second-factor attempts that kill an `mfa_token`.
pub const MFA_TOKEN_ATTEMPTS: u32 = 5;
/// Lifetime of an `mfa_token`, seconds.
pub const MFA_TOKEN_TTL: u64 = 300;

/// Errors of MFA operations. Messages never contain secrets or codes.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// The code, recovery code or enrollment state does not check out.
    #[error("invalid code")]
    Invalid,
    /// Refused before any code was checked: the account's second-factor back-off (429 with
    /// `Retry-After`), or the store is down (503).
    #[error("{0}")]
    Refused(OAuthError),
    /// A stored secret does not open with the data key.
    #[error(transparent)]
    DataKey(#[from] crate::datakey::DataKeyError),
    /// The store is unavailable.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn sealing_context(sub: &str) -> String {
    format!("totp:{sub}")
}

/// A TOTP for `secret` (RFC 6238 with SHA-1, `digits`, 30 s, ±1 step).
fn totp(secret: Vec<u8>, digits: u8, issuer: &str, account: &str) -> Option<Totp> {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        // The otpauth label cannot hold ':' (Key Uri Format); it is only a display name.
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(issuer.replace(':', "_")))
        .build()
        .ok()
}

/// The time step (RFC 6238 §4: T = floor(unix time / 30)) whose `digits`-digit code equals
/// `code`, searching the current step ±1 at `time` (unix seconds). Comparison is constant-time.
pub fn matching_step(secret: &[u8], digits: u8, code: &str, time: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != usize::from(digits) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret.to_vec(), digits, "tessera", "check")?.check(code, time)
}

/// A started enrollment: what the user scans, or types in.
pub struct Enrollment {
    /// `otpauth://totp/...` Key URI.
    pub otpauth_uri: String,
    /// The secret as unpadded base32 (RFC 4648 §6), for typing into an authenticator app.
    pub secret: String,
    /// The QR code of the URI as a base64 PNG.
    pub qr_png: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
}

impl Enrollment {
    /// What `username` scans for `secret` under `issuer_name`.
    fn of(secret: Vec<u8>, issuer_name: &str, username: &str) -> Result<Self, MfaError> {
        let totp = totp(secret, 6, issuer_name, username).ok_or(MfaError::Invalid)?;
        let otpauth_uri = totp.to_url().map_err(|_| MfaError::Invalid)?;
        let qr_png = totp.to_qr_base64().map_err(|_| MfaError::Invalid)?;
        let qr_svg = qr_svg(&otpauth_uri).ok_or(MfaError::Invalid)?;
        Ok(Self {
            secret: totp.secret().to_base32(),
            otpauth_uri,
            qr_png,
            qr_svg,
        })
    }
}

/// Starts (or restarts) enrollment: a new 160-bit secret, sealed and stored as pending.
/// Active MFA, if any, stays in force until the new secret is confirmed.
///
/// # Errors
/// [`MfaError::Store`].
pub async fn start_enrollment(
    store: &Store,
    key: &DataKey,
    issuer_name: &str,
    mut user: User,
) -> Result<Enrollment, MfaError> {
    let secret = Secret::generate().as_bytes().to_vec();
    let enrollment = Enrollment::of(secret.clone(), issuer_name, &user.username)?;
    user.totp_pending = Some(key.seal(&sealing_context(&user.sub), &secret));
    store.put_user(&user, false).await?;
    Ok(enrollment)
}

/// The enrollment `user` has pending, shown again (after a wrong confirmation code, so the
/// user need not scan a new QR code: WCAG 2.2 SC 3.3.7). `None` without one, or when the
/// sealed secret does not open.
pub fn pending_enrollment(key: &DataKey, issuer_name: &str, user: &User) -> Option<Enrollment> {
    let sealed = user.totp_pending.as_deref()?;
    let secret = key.open(&sealing_context(&user.sub), sealed).ok()?;
    Enrollment::of(secret, issuer_name, &user.username).ok()
}

/// Renders `text` as a QR code in SVG (one `<path>` of unit squares, 4-module quiet zone).
fn qr_svg(text: &str) -> Option<String> {
    let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = size + 2 * border;
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {dim} {dim}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    ))
}

/// Checks a 6-digit code against `sealed` for `sub` and consumes its time step.
async fn check_code(
    store: &Store,
    key: &DataKey,
    sub: &str,
    sealed: &str,
    code: &str,
) -> Result<(), MfaError> {
    let secret = key.open(&sealing_context(sub), sealed)?;
    let step = matching_step(&secret, 6, code, now()).ok_or(MfaError::Invalid)?;
    if store.accept_totp_step(sub, step).await? {
        Ok(())
    } else {
        Err(MfaError::Invalid)
    }
}

/// Confirms enrollment with a current code: the pending secret becomes active and 10 fresh
/// single-use recovery codes are returned (shown once, stored hashed).
///
/// # Errors
/// [`MfaError::Invalid`] without a pending enrollment or with a wrong/replayed code.
pub async fn confirm_enrollment(
    store: &Store,
    key: &DataKey,
    mut user: User,
    code: &str,
) -> Result<Vec<String>, MfaError> {
    let pending = user.totp_pending.clone().ok_or(MfaError::Invalid)?;
    check_code(store, key, &user.sub, &pending, code).await?;
    let codes = new_recovery_codes(store, &user.sub).await?;
    user.totp = Some(pending);
    user.totp_pending = None;
    store.put_user(&user, false).await?;
    tracing::info!(target: "audit", event = "mfa_enabled", sub = %user.sub);
    Ok(codes)
}

/// Replaces the recovery codes of `sub` with [`RECOVERY_CODES`] new ones, returned to be shown
/// once (stored hashed).
async fn new_recovery_codes(store: &Store, sub: &str) -> Result<Vec<String>, MfaError> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<SecretHash> = codes.iter().map(|c| hash_recovery_code(c)).collect();
    store.set_recovery_codes(sub, &hashes).await?;
    Ok(codes)
}

/// Regenerates the recovery codes of `user`, who has TOTP active: the old ones stop working.
///
/// # Errors
/// [`MfaError::Invalid`] without active TOTP; store failures.
pub async fn regenerate_recovery_codes(
    store: &Store,
    user: &User,
) -> Result<Vec<String>, MfaError> {
    if user.totp.is_none() {
        return Err(MfaError::Invalid);
    }
    let codes = new_recovery_codes(store, &user.sub).await?;
    tracing::info!(target: "audit", event = "recovery_codes_regenerated", sub = %user.sub);
    Ok(codes)
}

/// The answer to a refused second factor, in the RFC 6749 §5.2 format (`invalid_grant` without
/// saying which part was wrong).
impl From<MfaError> for OAuthError {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::Invalid => {
                OAuthError::invalid_grant("the credentials or the code are invalid")
            }
            MfaError::Refused(e) => e,
            MfaError::Store(e) => e.into(),
            MfaError::DataKey(e) => StoreError(e.to_string()).into(),
        }
    }
}

/// Verifies a second factor of an active user: a TOTP code (consuming its step) or a recovery
/// code (consuming it), under the account's second-factor limit ([`Limiter::second_factor`]:
/// counted before the code is looked at, cleared only by a right one). Returns the RFC 8176
/// `amr` value of the factor used. Every second-factor check goes through here: the hosted
/// second step, the `mfa-otp` grant and the owner's proof ([`prove_owner`]).
///
/// # Errors
/// [`MfaError::Invalid`] when neither checks out; [`MfaError::Refused`] during the account's
/// back-off (nothing was checked).
pub async fn verify_second_factor(
    limiter: &Limiter,
    store: &Store,
    key: &DataKey,
    user: &User,
    otp: Option<&str>,
    recovery: Option<&str>,
) -> Result<&'static str, MfaError> {
    let check = check_second_factor(store, key, user, otp, recovery);
    limiter
        .second_factor(&user.sub, check)
        .await
        .map_err(MfaError::Refused)?
}

/// [`verify_second_factor`] without the limit.
async fn check_second_factor(
    store: &Store,
    key: &DataKey,
    user: &User,
    otp: Option<&str>,
    recovery: Option<&str>,
) -> Result<&'static str, MfaError> {
    let sealed = user.totp.as_deref().ok_or(MfaError::Invalid)?;
    match (otp, recovery) {
        (Some(code), None) => check_code(store, key, &user.sub, sealed, code)
            .await
            .map(|()| "otp"),
        (None, Some(code)) => {
            if store
                .use_recovery_code(&user.sub, &hash_recovery_code(code))
                .await?
            {
                tracing::info!(target: "audit", event = "recovery_code_used", sub = %user.sub);
                Ok("otp")
            } else {
                Err(MfaError::Invalid)
            }
        }
        _ => Err(MfaError::Invalid),
    }
}

/// What a caller without a recent sign-in gives to prove it is the account's owner before a
/// second factor is added, replaced or removed: the current password, and a current TOTP or
/// recovery code when an authenticator app is set up. No `Debug`: it holds secrets.
#[derive(Clone, Copy)]
pub struct OwnerProof<'a> {
    /// The current password.
    pub password: &'a str,
    /// A current TOTP code (RFC 6238).
    pub otp: Option<&'a str>,
    /// An unused recovery code.
    pub recovery_code: Option<&'a str>,
}

/// Checks `proof` that the caller from `ip` is the owner of `user` now: an authentication that
/// includes the current factor, for changing a second factor without a recent sign-in. The
/// password goes through the login limiter ([`Limiter::check_login`]) and is checked first,
/// so a wrong password never spends a code; then, when TOTP is active, the code goes through
/// [`verify_second_factor`] (spent when right). A user with passkeys but no authenticator app
/// cannot prove the passkey this way and must sign in again.
///
/// # Errors
/// `invalid_grant` when the password or the code is wrong (without saying which),
/// `invalid_request` for an empty or over-long password;
/// `insufficient_user_authentication` (RFC 9470 §3) for a passkey-only user; 429 from the
/// login or second-factor limits; 503 when the store is down.
pub async fn prove_owner(
    state: &AppState,
    user: &User,
    ip: IpAddr,
    proof: OwnerProof<'_>,
) -> Result<(), OAuthError> {
    let password = normalize_password(proof.password)?;
    let (limiter, store, hasher) = (&state.limiter, &state.store, &state.hasher);
    let owner = authenticate_limited(limiter, store, hasher, &user.username, password, ip).await?;
    if owner.filter(|u| u.sub == user.sub).is_none() {
        tracing::info!(target: "audit", event = "login_failure", sub = %user.sub, %ip, reason = "factor change");
        return Err(MfaError::Invalid.into());
    }
    if user.totp.is_some() {
        let (otp, recovery) = (proof.otp, proof.recovery_code);
        let key = &state.data_key;
        let checked = verify_second_factor(&state.limiter, &state.store, key, user, otp, recovery);
        if let Err(e) = checked.await {
            tracing::info!(target: "audit", event = "mfa_failure", sub = %user.sub, %ip, reason = "factor change");
            return Err(e.into());
        }
    } else if state.store.passkey_count(&user.sub).await? > 0 {
        return Err(OAuthError::insufficient_user_authentication(
            state.settings.passkey_reauth_max_age,
        ));
    }
    Ok(())
}

/// Turns MFA off for `user` (after the caller checked password and second factor).
///
/// # Errors
/// [`MfaError::Store`].
pub async fn disable(store: &Store, mut user: User) -> Result<(), MfaError> {
    user.totp = None;
    user.totp_pending = None;
    store.set_recovery_codes(&user.sub, &[]).await?;
    store.put_user(&user, false).await?;
    tracing::info!(target: "audit", event = "mfa_disabled", sub = %user.sub);
    Ok(())
}

/// A recovery code: 80 random bits as four groups of four base32 characters.
fn recovery_code() -> String {
    let mut bytes = [0u8; 10];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let text = Secret::from(bytes.to_vec()).to_base32().to_lowercase();
    let text = text.trim_end_matches('=');
    text.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// Recovery codes are compared case- and dash-insensitively, by SHA-256 (80-bit codes).
fn hash_recovery_code(code: &str) -> SecretHash {
    let canonical: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SecretHash::of(&canonical)
}

/// The pending second step of a login, referenced by an opaque `mfa_token`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingLogin {
    /// The user's normalised username.
    pub username: String,
    /// The user's `sub`.
    pub sub: String,
    /// The client the token is bound to.
    pub client_id: String,
    /// The scope granted by the password step.
    pub scope: String,
    /// When the password was checked, unix seconds.
    pub auth_time: u64,
}

impl Record for PendingLogin {
    const KIND: &'static str = "mfa";
}

/// Opens a pending login; returns the `mfa_token` (256 random bits, stored hashed, valid
/// [`MFA_TOKEN_TTL`] seconds, single use).
///
/// # Errors
/// [`StoreError`].
pub async fn open_pending_login(
    store: &Store,
    pending: &PendingLogin,
) -> Result<String, StoreError> {
    let token = random_token();
    store
        .put(&SecretHash::of(&token), pending, MFA_TOKEN_TTL)
        .await?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: seed "12345678901234567890", 8 digits.
    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let seed = b"12345678901234567890";
        for (time, code) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(
                matching_step(seed, 8, code, time),
                Some(time / 30),
                "T={time}"
            );
        }
    }

    #[test]
    fn window_is_one_step_each_way() {
        let seed = b"12345678901234567890";
        // The code of T=59 (step 1) is accepted at step 2 but not at step 3.
        assert_eq!(matching_step(seed, 8, "94287082", 89), Some(1));
        assert_eq!(matching_step(seed, 8, "94287082", 90), None);
        assert_eq!(matching_step(seed, 8, "9428708", 59), None);
        assert_eq!(matching_step(seed, 8, "abcdefgh", 59), None);
    }

    #[test]
    fn recovery_codes_are_80_bits_and_compare_loosely() {
        let code = recovery_code();
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(
            hash_recovery_code(&code),
            hash_recovery_code(&code.to_uppercase().replace('-', ""))
        );
        assert_ne!(recovery_code(), code);
    }

    #[test]
    fn svg_is_an_svg() {
        let svg = qr_svg("otpauth://totp/x?secret=ABC").unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
