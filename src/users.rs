//! Users: the one place usernames and passwords are normalised, and the operations on accounts
//! (create, change password, disable, log out everywhere, authenticate), including the
//! administration by `sub` that the admin API and the CLI share ([`describe`], [`list`],
//! [`update`], [`set_password`], [`reset_factors`], [`remove`]). Every change that weakens or
//! moves an account signs out all its sessions; audit events name the actor (the admin
//! client's id, or `cli`).

use unicode_normalization::UnicodeNormalization;

use crate::credentials::{HashError, PasswordHasher, Verification};
use crate::error::{OAuthError, StoreError};
use crate::ratelimit::Limiter;
use crate::store::{Backend, FactorBackend, PasskeyBackend, Store, User, UsersPage};

/// Longest accepted password, in bytes (UTF-8), checked before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest accepted username after normalisation, in bytes.
pub const MAX_USERNAME_BYTES: usize = 256;
/// Longest accepted email address, in bytes (RFC 5321 §4.5.3.1.3 path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Most users a listing page holds.
pub const MAX_PAGE: usize = 100;

/// Errors of user operations. None carries a password.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The username is empty, too long or has control characters.
    #[error("invalid username: {0}")]
    InvalidUsername(&'static str),
    /// The password is empty or longer than [`MAX_PASSWORD_BYTES`].
    #[error("invalid password: {0}")]
    InvalidPassword(&'static str),
    /// `user add` for a name that exists.
    #[error("user already exists")]
    Exists,
    /// No such user.
    #[error("no such user")]
    NotFound,
    /// The email address is empty, too long, or not `local@domain`.
    #[error("invalid email: {0}")]
    InvalidEmail(&'static str),
    /// A listing cursor that no listing returned.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The store is unavailable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// Normalises a username: trim surrounding white space, Unicode NFKC, then lowercase. `Bob`,
/// ` bob ` and the full-width `Ｂｏｂ` are the same account.
///
/// # Errors
/// [`UserError::InvalidUsername`] when the result is empty, longer than [`MAX_USERNAME_BYTES`]
/// or contains control characters.
pub fn normalize_username(raw: &str) -> Result<String, UserError> {
    let name: String = raw.trim().nfkc().collect::<String>().to_lowercase();
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err(UserError::InvalidUsername("empty"));
    }
    if name.len() > MAX_USERNAME_BYTES {
        return Err(UserError::InvalidUsername("longer than 256 bytes"));
    }
    if name.chars().any(char::is_control) {
        return Err(UserError::InvalidUsername("contains control characters"));
    }
    Ok(name)
}

/// Prepares a password for hashing: length check on the raw bytes, then Unicode NFC (the
/// RFC 8265 §4.2 OpaqueString profile's normalisation), so the same password typed on different
/// platforms hashes the same.
///
/// # Errors
/// [`UserError::InvalidPassword`] when empty or longer than [`MAX_PASSWORD_BYTES`].
pub fn normalize_password(raw: &str) -> Result<String, UserError> {
    if raw.is_empty() {
        return Err(UserError::InvalidPassword("empty"));
    }
    if raw.len() > MAX_PASSWORD_BYTES {
        return Err(UserError::InvalidPassword("longer than 1024 bytes"));
    }
    Ok(raw.nfc().collect())
}

/// Checks an email address: trimmed, at most [`MAX_EMAIL_BYTES`], one `@` with text on both
/// sides, no white space or control characters. Not a deliverability check.
///
/// # Errors
/// [`UserError::InvalidEmail`].
pub fn normalize_email(raw: &str) -> Result<String, UserError> {
    let email = raw.trim();
    if email.is_empty() || email.len() > MAX_EMAIL_BYTES {
        return Err(UserError::InvalidEmail("empty or longer than 254 bytes"));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UserError::InvalidEmail("contains white space"));
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(email.to_owned())
        }
        _ => Err(UserError::InvalidEmail("not of the form local@domain")),
    }
}

/// Creates a user with a fresh `sub` (UUID v4). Without a password the account cannot sign in
/// until one is set ([`set_password`]).
///
/// # Errors
/// Invalid name, email or password, [`UserError::Exists`], store or hashing failures.
pub async fn add_user(
    store: &Store,
    hasher: &PasswordHasher,
    username: &str,
    email: Option<String>,
    password: Option<&str>,
) -> Result<User, UserError> {
    let username = normalize_username(username)?;
    let email = email.as_deref().map(normalize_email).transpose()?;
    let password_hash = match password {
        Some(password) => hasher.hash(normalize_password(password)?).await?,
        None => String::new(),
    };
    let user = User {
        sub: uuid::Uuid::new_v4().to_string(),
        username,
        email,
        password_hash,
        disabled: false,
        totp: None,
        totp_pending: None,
        created_at: crate::clock::now(),
    };
    if !store.put_user(&user, true).await? {
        return Err(UserError::Exists);
    }
    tracing::info!(target: "audit", event = "user_added", sub = %user.sub);
    Ok(user)
}

async fn existing(store: &Store, username: &str) -> Result<User, UserError> {
    store
        .user(&normalize_username(username)?)
        .await?
        .ok_or(UserError::NotFound)
}

/// Stores the changed `user`, revokes every refresh-token family (session) of it, and records
/// audit `event` by `actor`.
async fn save_and_sign_out(
    store: &Store,
    user: User,
    event: &str,
    actor: &str,
) -> Result<User, UserError> {
    store.put_user(&user, false).await?;
    let revoked = store.revoke_user_families(&user.sub).await?;
    tracing::info!(target: "audit", event, sub = %user.sub, actor, revoked);
    Ok(user)
}

/// Sets a new password (hashed on the bounded pool) and revokes every refresh-token family of
/// the user.
///
/// # Errors
/// [`UserError::NotFound`], invalid password, store or hashing failures.
pub async fn change_password(
    store: &Store,
    hasher: &PasswordHasher,
    username: &str,
    password: &str,
) -> Result<User, UserError> {
    let user = existing(store, username).await?;
    set_password(store, hasher, user, password, "cli").await
}

/// Sets `user`'s password, as [`change_password`], on behalf of `actor`.
///
/// # Errors
/// Invalid password, store or hashing failures.
pub async fn set_password(
    store: &Store,
    hasher: &PasswordHasher,
    mut user: User,
    password: &str,
    actor: &str,
) -> Result<User, UserError> {
    user.password_hash = hasher.hash(normalize_password(password)?).await?;
    save_and_sign_out(store, user, "user_password_changed", actor).await
}

/// Disables the user (no more logins), removes their passkeys and revokes every refresh-token
/// family.
///
/// # Errors
/// [`UserError::NotFound`] or store failures.
pub async fn disable(store: &Store, username: &str) -> Result<User, UserError> {
    let mut user = existing(store, username).await?;
    user.disabled = true;
    store.remove_passkeys(&user.sub).await?;
    save_and_sign_out(store, user, "user_disabled", "cli").await
}

/// Revokes every refresh-token family (session) of user `sub`; returns how many were alive.
///
/// # Errors
/// Store failures.
pub async fn logout_all(store: &Store, sub: &str) -> Result<usize, StoreError> {
    let revoked = store.revoke_user_families(sub).await?;
    tracing::info!(target: "audit", event = "logout_all", sub = %sub, revoked);
    Ok(revoked)
}

/// [`authenticate`] under the login limits: `limiter` checks (and counts) the attempt from `ip`
/// before any hashing, and a right password clears its failures. The one password check of
/// every sign-in path: the password grant, the hosted login form, and the owner's proof before
/// a second factor changes.
///
/// # Errors
/// 429 `temporarily_unavailable` (RFC 6585 §4, with `Retry-After`) from a login limit; 503
/// when the store is down or hashing is saturated.
pub async fn authenticate_limited(
    limiter: &Limiter,
    store: &Store,
    hasher: &PasswordHasher,
    username: &str,
    password: String,
    ip: std::net::IpAddr,
) -> Result<Option<User>, OAuthError> {
    limiter.check_login(username, ip).await?;
    let user = authenticate(store, hasher, username, password).await?;
    if user.is_some() {
        limiter.login_succeeded(username, ip).await?;
    }
    Ok(user)
}

/// Checks `password` for the (already normalised) `username`. Unknown, disabled and wrong all
/// return `Ok(None)` after the same Argon2 work. On success with outdated hash parameters the new
/// hash is stored.
///
/// # Errors
/// Store or hashing failures.
pub async fn authenticate(
    store: &Store,
    hasher: &PasswordHasher,
    username: &str,
    password: String,
) -> Result<Option<User>, UserError> {
    let user = store.user(username).await?;
    // A user without a password (created without one) costs the dummy hash, like an unknown one.
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .filter(|h| !h.is_empty());
    match hasher.verify(stored, password).await? {
        Verification::Match(rehash) => {
            let Some(mut user) = user.filter(|u| !u.disabled) else {
                return Ok(None);
            };
            if let Some(phc) = rehash {
                user.password_hash = phc;
                store.put_user(&user, false).await?;
                tracing::info!(target: "audit", event = "password_rehashed", sub = %user.sub);
            }
            Ok(Some(user))
        }
        Verification::Mismatch => Ok(None),
    }
}

/// What the administration shows of a user's second factors.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct SecondFactors {
    /// Whether a confirmed TOTP secret is active.
    pub totp: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: usize,
    /// Registered passkeys (WebAuthn).
    pub passkeys: usize,
}

/// A user as the admin API and `user show` present it: never a hash or a secret.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct UserView {
    /// The stable subject identifier.
    pub sub: String,
    /// The normalised username.
    pub username: String,
    /// Email address, if known.
    pub email: Option<String>,
    /// Whether sign-in is refused.
    pub disabled: bool,
    /// Creation time, unix seconds (0: created before tessera recorded it).
    pub created_at: u64,
    /// Which second factors the user has.
    pub second_factors: SecondFactors,
}

/// The [`UserView`] of `user` (two store round trips: recovery codes, passkeys).
///
/// # Errors
/// Store failures.
pub async fn describe(store: &Store, user: &User) -> Result<UserView, StoreError> {
    Ok(UserView {
        sub: user.sub.clone(),
        username: user.username.clone(),
        email: user.email.clone(),
        disabled: user.disabled,
        created_at: user.created_at,
        second_factors: SecondFactors {
            totp: user.totp.is_some(),
            recovery_codes_left: store.recovery_codes_left(&user.sub).await?,
            passkeys: store.passkey_count(&user.sub).await?,
        },
    })
}

/// The user with `sub`.
///
/// # Errors
/// [`UserError::NotFound`] or store failures.
pub async fn by_sub(store: &Store, sub: &str) -> Result<User, UserError> {
    store.user_by_sub(sub).await?.ok_or(UserError::NotFound)
}

/// The user named `username` (normalised first).
///
/// # Errors
/// [`UserError::InvalidUsername`], [`UserError::NotFound`] or store failures.
pub async fn by_username(store: &Store, username: &str) -> Result<User, UserError> {
    existing(store, username).await
}

/// A page of at most `limit` (1..=[`MAX_PAGE`]) users after `cursor`, an opaque value a previous
/// page returned as `next` (see `store::names::USER_INDEX`: stable under inserts).
///
/// # Errors
/// [`UserError::InvalidCursor`] for a cursor no page returned, or store failures.
pub async fn list(
    store: &Store,
    cursor: Option<&str>,
    limit: usize,
) -> Result<UsersPage, UserError> {
    if let Some(c) = cursor {
        let well_formed = c.split_once(':').is_some_and(|(time, sub)| {
            time.len() == 20 && time.bytes().all(|b| b.is_ascii_digit()) && !sub.is_empty()
        });
        if !well_formed {
            return Err(UserError::InvalidCursor);
        }
    }
    Ok(store.users_page(cursor, limit.clamp(1, MAX_PAGE)).await?)
}

/// Changes `user`'s email (`Some(None)` removes it) and disabled flag, on behalf of `actor`.
/// Disabling or changing the email signs out every session; re-enabling does not.
///
/// # Errors
/// [`UserError::InvalidEmail`] (then nothing changed) or store failures.
pub async fn update(
    store: &Store,
    mut user: User,
    email: Option<Option<&str>>,
    disabled: Option<bool>,
    actor: &str,
) -> Result<User, UserError> {
    let email = email
        .map(|e| e.map(normalize_email).transpose())
        .transpose()?;
    let mut moved = false;
    if let Some(email) = email {
        moved |= user.email != email;
        user.email = email;
    }
    if let Some(disabled) = disabled {
        if disabled && !user.disabled {
            store.remove_passkeys(&user.sub).await?;
        }
        moved |= disabled && !user.disabled;
        user.disabled = disabled;
    }
    if moved {
        return save_and_sign_out(store, user, "user_updated", actor).await;
    }
    store.put_user(&user, false).await?;
    tracing::info!(target: "audit", event = "user_updated", sub = %user.sub, actor, revoked = 0);
    Ok(user)
}

/// Removes every second factor of `user` (TOTP, pending TOTP, recovery codes, passkeys),
/// forgets its second-factor failures (`rl:factor:<sub>`, so the owner can set up a new factor
/// and sign in at once) and signs out every session, on behalf of `actor`.
///
/// # Errors
/// Store failures.
pub async fn reset_factors(store: &Store, mut user: User, actor: &str) -> Result<User, UserError> {
    user.totp = None;
    user.totp_pending = None;
    store.set_recovery_codes(&user.sub, &[]).await?;
    store.remove_passkeys(&user.sub).await?;
    store.factor_success(&user.sub).await?;
    save_and_sign_out(store, user, "user_factors_reset", actor).await
}

/// Deletes `user` and every session; the username becomes free. On behalf of `actor`.
///
/// # Errors
/// [`UserError::NotFound`] when it was already gone, or store failures.
pub async fn remove(store: &Store, user: &User, actor: &str) -> Result<(), UserError> {
    if !store.remove_user(user).await? {
        return Err(UserError::NotFound);
    }
    store.remove_passkeys(&user.sub).await?;
    tracing::info!(target: "audit", event = "user_deleted", sub = %user.sub, actor);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_fold_case_width_and_space() {
        let a = normalize_username("Bob").unwrap();
        assert_eq!(a, "bob");
        assert_eq!(normalize_username(" bob ").unwrap(), a);
        assert_eq!(normalize_username("\u{ff22}\u{ff4f}\u{ff42}").unwrap(), a);
        assert!(normalize_username("   ").is_err());
        assert!(normalize_username("a\u{0}b").is_err());
    }

    #[test]
    fn passwords_are_nfc_and_bounded() {
        // "é" as e + combining acute (NFD) becomes the single code point (NFC).
        assert_eq!(normalize_password("e\u{301}").unwrap(), "\u{e9}");
        assert!(normalize_password(&"x".repeat(1025)).is_err());
        assert!(normalize_password(&"x".repeat(1024)).is_ok());
    }
}
