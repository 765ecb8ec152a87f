//! Bearer tokens of the API's accounts: issue, refresh (with rotation), revoke, authenticate.
//!
//! Tokens are 256-bit random opaque strings (base64url). Only their BLAKE3 hashes are stored (`api_tokens` in the
//! catalog database), with kind (`access`/`refresh`), owner, expiry and a *family* id shared by every token of one
//! logon, so any server node can validate them and logout revokes the whole logon. Rows of tokens expired for a day
//! are pruned at each password logon.

use base64::Engine;
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

use crate::state::TokenPolicy;

/// An API account as the caller of a request (authenticated by its access token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    /// Account id.
    pub id: String,
    /// Account name.
    pub name: String,
}

/// A newly issued access/refresh token pair.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Token for the `refresh_token` grant (single use: it is rotated).
    pub refresh_token: String,
    /// Issue instant.
    pub issued: DateTime<Utc>,
    /// Access-token expiry.
    pub expires: DateTime<Utc>,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
    /// Whom it was issued to.
    pub user: CurrentUser,
}

/// Failures of the token store.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No randomness available.
    #[error("random number generator failed")]
    Random,
    /// Database failure.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

const ACCESS: &str = "access";
const REFRESH: &str = "refresh";

fn random_token() -> Result<String, TokenError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| TokenError::Random)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token: BLAKE3, hex. A database leak does not reveal usable tokens.
pub fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

async fn insert_pair(
    pool: &AnyPool,
    policy: &TokenPolicy,
    user: &CurrentUser,
    family: &str,
) -> Result<IssuedTokens, TokenError> {
    let now = Utc::now();
    let access = random_token()?;
    let refresh = random_token()?;
    let expires = now + policy.access_ttl;
    let refresh_expires = now + policy.refresh_ttl;
    let mut tx = pool.begin().await?;
    for (token, kind, exp) in [(&access, ACCESS, expires), (&refresh, REFRESH, refresh_expires)] {
        sqlx::query(
            "INSERT INTO api_tokens (token_hash, kind, user_id, family, issued_at, expires_at, revoked)
             VALUES ($1, $2, $3, $4, $5, $6, 0)",
        )
        .bind(token_hash(token))
        .bind(kind)
        .bind(&user.id)
        .bind(family)
        .bind(now.timestamp_micros())
        .bind(exp.timestamp_micros())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(IssuedTokens {
        access_token: access,
        refresh_token: refresh,
        issued: now,
        expires,
        expires_in: policy.access_ttl.num_seconds(),
        user: user.clone(),
    })
}

/// Issues a new logon (a new token family) for `user`.
pub async fn issue(pool: &AnyPool, policy: &TokenPolicy, user: &CurrentUser) -> Result<IssuedTokens, TokenError> {
    let cutoff = (Utc::now() - chrono::Duration::days(1)).timestamp_micros();
    if let Err(e) = sqlx::query("DELETE FROM api_tokens WHERE expires_at < $1").bind(cutoff).execute(pool).await {
        tracing::warn!("pruning expired tokens failed: {e}");
    }
    insert_pair(pool, policy, user, &uuid::Uuid::new_v4().to_string()).await
}

/// Exchanges a refresh token for a new pair in the same family. The presented token is consumed atomically, so of
/// two concurrent refreshes with one token only one succeeds. `Ok(None)`: unknown, expired, used or revoked; a used
/// one also revokes its whole family (see [`revoke_family_on_reuse`]).
pub async fn refresh(
    pool: &AnyPool,
    policy: &TokenPolicy,
    refresh_token: &str,
) -> Result<Option<IssuedTokens>, TokenError> {
    let hash = token_hash(refresh_token);
    let now = Utc::now().timestamp_micros();
    let row = sqlx::query(
        "SELECT t.user_id, t.family, u.name FROM api_tokens t JOIN api_users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.kind = $2 AND t.revoked = 0 AND t.expires_at > $3 AND u.disabled = 0",
    )
    .bind(&hash)
    .bind(REFRESH)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        revoke_family_on_reuse(pool, &hash).await?;
        return Ok(None);
    };
    let family: String = row.try_get("family")?;
    let claimed = sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE token_hash = $1 AND revoked = 0")
        .bind(&hash)
        .execute(pool)
        .await?;
    if claimed.rows_affected() != 1 {
        // Consumed by a concurrent refresh a moment ago: a reuse as well.
        revoke_family_on_reuse(pool, &hash).await?;
        return Ok(None);
    }
    let user = CurrentUser { id: row.try_get("user_id")?, name: row.try_get("name")? };
    // The old access token stays valid until it expires (clients refresh shortly before expiry, in flight calls
    // must not fail).
    Ok(Some(insert_pair(pool, policy, &user, &family).await?))
}

/// A refresh token that is known but already consumed (or revoked) was presented again: either the client or a thief
/// holds a copy, and the server cannot tell which is the rightful one, so the whole logon is revoked (OAuth 2.0
/// Security BCP, refresh-token rotation): the tokens issued by the refresh that consumed it stop working too.
/// Unknown and merely expired tokens change nothing.
async fn revoke_family_on_reuse(pool: &AnyPool, hash: &str) -> Result<(), TokenError> {
    let row = sqlx::query("SELECT family, user_id FROM api_tokens WHERE token_hash = $1 AND kind = $2 AND revoked = 1")
        .bind(hash)
        .bind(REFRESH)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(()) };
    let family: String = row.try_get("family")?;
    let user_id: String = row.try_get("user_id")?;
    let revoked = sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE family = $1 AND revoked = 0")
        .bind(&family)
        .execute(pool)
        .await?;
    if revoked.rows_affected() > 0 {
        tracing::warn!(user_id, "a consumed refresh token was presented again; its whole logon is revoked");
    }
    Ok(())
}

/// The owner of a valid (known, unexpired, unrevoked) access token.
pub async fn authenticate(pool: &AnyPool, access_token: &str) -> Result<Option<CurrentUser>, TokenError> {
    let row = sqlx::query(
        "SELECT t.user_id, u.name FROM api_tokens t JOIN api_users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.kind = $2 AND t.revoked = 0 AND t.expires_at > $3 AND u.disabled = 0",
    )
    .bind(token_hash(access_token))
    .bind(ACCESS)
    .bind(Utc::now().timestamp_micros())
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some(r) => Some(CurrentUser { id: r.try_get("user_id")?, name: r.try_get("name")? }),
        None => None,
    })
}

/// Revokes every token of the logon that `access_token` belongs to. Returns whether one was found.
pub async fn revoke_family(pool: &AnyPool, access_token: &str) -> Result<bool, TokenError> {
    let row = sqlx::query("SELECT family FROM api_tokens WHERE token_hash = $1")
        .bind(token_hash(access_token))
        .fetch_optional(pool)
        .await?;
    let Some(r) = row else { return Ok(false) };
    let family: String = r.try_get("family")?;
    sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE family = $1").bind(&family).execute(pool).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
