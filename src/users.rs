//! Users: the one place usernames and passwords are normalised, and the operations on accounts
//! (create, change password, disable, log out everywhere, authenticate).

use unicode_normalization::UnicodeNormalization;

use crate::credentials::{HashError, PasswordHasher, Verification};
use crate::error::StoreError;
use crate::store::{Backend, Store, User};

/// Longest accepted password, in bytes (UTF-8), checked before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest accepted username after normalisation, in bytes.
pub const MAX_USERNAME_BYTES: usize = 256;

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

/// Creates a user with a fresh `sub` (UUID v4).
///
/// # Errors
/// Invalid name or password, [`UserError::Exists`], store or hashing failures.
pub async fn add_user(
    store: &Store,
    hasher: &PasswordHasher,
    username: &str,
    email: Option<String>,
    password: &str,
) -> Result<User, UserError> {
    let username = normalize_username(username)?;
    let password = normalize_password(password)?;
    let user = User {
        sub: uuid::Uuid::new_v4().to_string(),
        username,
        email,
        password_hash: hasher.hash(password).await?,
        disabled: false,
        totp: None,
        totp_pending: None,
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

/// Sets a new password and revokes every refresh-token family of the user.
///
/// # Errors
/// [`UserError::NotFound`], invalid password, store or hashing failures.
pub async fn change_password(
    store: &Store,
    hasher: &PasswordHasher,
    username: &str,
    password: &str,
) -> Result<User, UserError> {
    let mut user = existing(store, username).await?;
    user.password_hash = hasher.hash(normalize_password(password)?).await?;
    store.put_user(&user, false).await?;
    let revoked = store.revoke_user_families(&user.sub).await?;
    tracing::info!(target: "audit", event = "user_password_changed", sub = %user.sub, revoked);
    Ok(user)
}

/// Disables the user (no more logins) and revokes every refresh-token family.
///
/// # Errors
/// [`UserError::NotFound`] or store failures.
pub async fn disable(store: &Store, username: &str) -> Result<User, UserError> {
    let mut user = existing(store, username).await?;
    user.disabled = true;
    store.put_user(&user, false).await?;
    let revoked = store.revoke_user_families(&user.sub).await?;
    tracing::info!(target: "audit", event = "user_disabled", sub = %user.sub, revoked);
    Ok(user)
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
    let stored = user.as_ref().map(|u| u.password_hash.clone());
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
