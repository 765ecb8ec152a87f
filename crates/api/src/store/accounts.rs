//! Local API accounts (the vendor's "Windows accounts on the server"): names with argon2id password hashes, kept in
//! the catalog database so several server nodes share them.
//!
//! Tables (portable SQL: `$n` placeholders, `TEXT`/`BIGINT` only, created by the catalog's migrations):
//! * `api_users(id, name, name_key UNIQUE, password_hash, created_at, disabled)` — `name_key` is the lower-cased
//!   name: account names are case-insensitive as Windows logons are (`DOMAIN\admin` = `domain\ADMIN`);
//! * `api_tokens(…)` — see [`crate::store::tokens`].

use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

use crate::store::password_pool::{self, HashError, HashPermit, PoolBusy};

/// New passwords must have at least this many characters (not bytes: `ü` counts once). The password is the only
/// factor here, and short ones fall quickly to offline guessing if a copy of the catalog leaks; twelve is common
/// guidance for that case (NIST SP 800-63B-4 asks even 15). Existing shorter passwords still log on.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest accepted password, in bytes (argon2 takes any length; this only bounds the work a request asks for).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A local account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id (UUID text).
    pub id: String,
    /// The name as given at creation (returned as `userName` in token responses).
    pub name: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
}

/// Account failures.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Empty, too long, or containing control characters.
    #[error("invalid account name: {0}")]
    InvalidName(String),
    /// Empty or over [`MAX_PASSWORD_BYTES`].
    #[error("the password must be 1 to 1024 bytes long")]
    InvalidPassword,
    /// A new password shorter than [`MIN_PASSWORD_CHARS`].
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters long (this one has {0})")]
    PasswordTooShort(usize),
    /// An account with that name (any case) exists.
    #[error("an account named '{0}' already exists")]
    AlreadyExists(String),
    /// No account with that name.
    #[error("no account named '{0}'")]
    NotFound(String),
    /// Hashing failed (or a stored hash is corrupt).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// Every hashing slot stayed busy for [`password_pool::MAX_WAIT`]; try again later.
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    /// Database failure.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

fn validate_name(name: &str) -> Result<(), AccountError> {
    if name.trim().is_empty() {
        return Err(AccountError::InvalidName("the name is empty".into()));
    }
    if name.len() > 256 {
        return Err(AccountError::InvalidName("the name is longer than 256 bytes".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(AccountError::InvalidName("the name contains control characters".into()));
    }
    Ok(())
}

/// The case-insensitive key of an account name (also the logon throttle's key for the name).
pub(crate) fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl From<HashError> for AccountError {
    fn from(e: HashError) -> AccountError {
        match e {
            HashError::Busy(b) => AccountError::Busy(b),
            HashError::Hash(m) => AccountError::Hash(m),
        }
    }
}

/// Checks a new password: 1 to [`MAX_PASSWORD_BYTES`] bytes and at least [`MIN_PASSWORD_CHARS`] characters.
pub fn validate_new_password(password: &str) -> Result<(), AccountError> {
    if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountError::InvalidPassword);
    }
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort(chars));
    }
    Ok(())
}

/// An argon2id hash of a new password, computed in the bounded hashing pool.
async fn hash_new_password(password: &str) -> Result<String, AccountError> {
    Ok(password_pool::acquire().await?.hash(password.to_string()).await?)
}

fn micros_to_time(us: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default()
}

/// Creates an account. Names are unique ignoring case.
pub async fn add_user(pool: &AnyPool, name: &str, password: &str) -> Result<User, AccountError> {
    validate_name(name)?;
    validate_new_password(password)?;
    if find_user(pool, name).await?.is_some() {
        return Err(AccountError::AlreadyExists(name.to_string()));
    }
    let hash = hash_new_password(password).await?;
    let user = User { id: uuid::Uuid::new_v4().to_string(), name: name.trim().to_string(), created_at: Utc::now() };
    let res = sqlx::query(
        "INSERT INTO api_users (id, name, name_key, password_hash, created_at, disabled) VALUES ($1, $2, $3, $4, $5, 0)",
    )
    .bind(&user.id)
    .bind(&user.name)
    .bind(name_key(name))
    .bind(&hash)
    .bind(user.created_at.timestamp_micros())
    .execute(pool)
    .await;
    match res {
        Ok(_) => Ok(user),
        // A concurrent insert of the same name lost the race on the UNIQUE constraint.
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(AccountError::AlreadyExists(name.into())),
        Err(e) => Err(e.into()),
    }
}

/// Replaces an account's password and revokes its tokens.
pub async fn set_password(pool: &AnyPool, name: &str, password: &str) -> Result<(), AccountError> {
    validate_new_password(password)?;
    let user = find_user(pool, name).await?.ok_or_else(|| AccountError::NotFound(name.to_string()))?;
    let hash = hash_new_password(password).await?;
    sqlx::query("UPDATE api_users SET password_hash = $1 WHERE id = $2")
        .bind(&hash)
        .bind(&user.id)
        .execute(pool)
        .await?;
    sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE user_id = $1").bind(&user.id).execute(pool).await?;
    Ok(())
}

/// Removes the account named `name` (any case) and every token issued to it, in one transaction: its clients are
/// refused from their next request. Its restore sessions stay as history (no one can reach them any more).
pub async fn remove_user(pool: &AnyPool, name: &str) -> Result<User, AccountError> {
    let user = find_user(pool, name).await?.ok_or_else(|| AccountError::NotFound(name.to_string()))?;
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM api_tokens WHERE user_id = $1").bind(&user.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM api_users WHERE id = $1").bind(&user.id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(user)
}

/// The account named `name` (any case).
pub async fn find_user(pool: &AnyPool, name: &str) -> Result<Option<User>, AccountError> {
    let row = sqlx::query("SELECT id, name, created_at FROM api_users WHERE name_key = $1")
        .bind(name_key(name))
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(r) => Some(User {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            created_at: micros_to_time(r.try_get("created_at")?),
        }),
        None => None,
    })
}

/// All accounts, by name.
pub async fn list_users(pool: &AnyPool) -> Result<Vec<User>, AccountError> {
    let rows = sqlx::query("SELECT id, name, created_at FROM api_users ORDER BY name_key").fetch_all(pool).await?;
    rows.into_iter()
        .map(|r| {
            Ok(User {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: micros_to_time(r.try_get("created_at")?),
            })
        })
        .collect()
}

/// Checks a name and password. `Ok(None)` for an unknown name, a disabled account or a wrong password (the caller
/// cannot tell which, on purpose). Waits for a hashing slot; see [`verify_password_with`].
pub async fn verify_password(pool: &AnyPool, name: &str, password: &str) -> Result<Option<User>, AccountError> {
    let permit = password_pool::acquire().await?;
    verify_password_with(pool, permit, name, password).await
}

/// [`verify_password`] with a hashing slot the caller already holds (the token endpoint takes the slot first, then
/// re-checks the logon throttle, so no request that waited in the queue checks a password of a locked account).
/// Unknown names cost the same argon2 work as wrong passwords.
pub async fn verify_password_with(
    pool: &AnyPool,
    permit: HashPermit,
    name: &str,
    password: &str,
) -> Result<Option<User>, AccountError> {
    let row = sqlx::query("SELECT id, name, created_at, password_hash, disabled FROM api_users WHERE name_key = $1")
        .bind(name_key(name))
        .fetch_optional(pool)
        .await?;
    let Some(r) = row else {
        permit.decoy(password.to_string()).await?;
        return Ok(None);
    };
    let hash: String = r.try_get("password_hash")?;
    let disabled: i64 = r.try_get("disabled")?;
    let ok = match permit.verify(password.to_string(), hash).await {
        Ok(ok) => ok,
        Err(HashError::Hash(e)) => {
            tracing::error!("password check of an account failed: {e}");
            false
        }
        Err(e) => return Err(e.into()),
    };
    if !ok || disabled != 0 {
        return Ok(None);
    }
    Ok(Some(User {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_at: micros_to_time(r.try_get("created_at")?),
    }))
}
