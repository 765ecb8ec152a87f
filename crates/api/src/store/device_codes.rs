//! Pending restore device codes, kept in the catalog (`api_device_codes`) so that a code asked for on one server
//! node can be used by a restore on any node, and survives a restart while the user approves it. The Entra
//! `device_code` is a secret (whoever holds it gets the user's tokens once approved), so the stored code is sealed
//! with the repository key; only a server without a repository (browse-only) keeps it plain. A code is claimed by a
//! `DELETE` that exactly one request can win, so it serves one restore.

use base64::Engine;
use chrono::Utc;
use m365::auth::DeviceCode;
use sqlx::Row;
use uuid::Uuid;

use crate::state::AppState;
use crate::store::{StoreError, StoreResult};

/// A device code waiting to be used by a restore.
pub struct PendingCode {
    /// The API user who asked for it (only they can use it).
    pub owner: String,
    /// The organization it signs in to.
    pub organization: Uuid,
    /// The application the code was issued to.
    pub client_id: String,
    pub code: DeviceCode,
}

/// User codes compare without case, dashes and blanks (how people type them back).
pub fn normalise(user_code: &str) -> String {
    user_code.chars().filter(|c| *c != '-' && !c.is_whitespace()).collect::<String>().to_uppercase()
}

/// Associated data of a sealed code: bound to its user code, so a sealed value cannot be moved to another row.
fn purpose(key: &str) -> String {
    format!("restore-device-code:{key}")
}

/// Forgets the expired codes.
async fn prepare(state: &AppState) -> StoreResult<()> {
    sqlx::query("DELETE FROM api_device_codes WHERE expires_at <= $1")
        .bind(Utc::now().timestamp())
        .execute(state.pool())
        .await?;
    Ok(())
}

/// Keeps `pending` until a restore claims it or it expires (Entra's `expires_in`).
pub async fn keep(state: &AppState, pending: &PendingCode) -> StoreResult<()> {
    prepare(state).await?;
    let key = normalise(&pending.code.user_code);
    let json = serde_json::to_vec(&pending.code).map_err(|e| StoreError::Internal(e.to_string()))?;
    let (sealed, code) = match &state.repo {
        Some(repo) => {
            let sealed = repo
                .seal_secret(&purpose(&key), &json)
                .map_err(|e| StoreError::Internal(format!("Cannot encrypt the device code: {e}")))?;
            (1i64, base64::engine::general_purpose::STANDARD.encode(sealed))
        }
        None => (0i64, String::from_utf8(json).map_err(|e| StoreError::Internal(e.to_string()))?),
    };
    let expires_at = Utc::now().timestamp() + i64::try_from(pending.code.expires_in).unwrap_or(i64::MAX / 2);
    // Entra never reissues a live user code; a stale row with the same code is replaced.
    sqlx::query("DELETE FROM api_device_codes WHERE user_code = $1").bind(&key).execute(state.pool()).await?;
    sqlx::query(
        "INSERT INTO api_device_codes (user_code, owner, organization, client_id, sealed, code, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&key)
    .bind(&pending.owner)
    .bind(pending.organization.to_string())
    .bind(&pending.client_id)
    .bind(sealed)
    .bind(code)
    .bind(expires_at)
    .execute(state.pool())
    .await?;
    Ok(())
}

/// Takes the live code `user_code` of `owner` for `organization`; `None` when there is none (unknown, expired,
/// already used, someone else's, or another organization's).
pub async fn claim(
    state: &AppState,
    user_code: &str,
    owner: &str,
    organization: Uuid,
) -> StoreResult<Option<PendingCode>> {
    prepare(state).await?;
    let key = normalise(user_code);
    let row = sqlx::query(
        "SELECT client_id, sealed, code FROM api_device_codes WHERE user_code = $1 AND owner = $2 AND organization = $3",
    )
    .bind(&key)
    .bind(owner)
    .bind(organization.to_string())
    .fetch_optional(state.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    // Only the request whose DELETE removes the row uses the code: two restores racing for it cannot both win.
    let won = sqlx::query("DELETE FROM api_device_codes WHERE user_code = $1").bind(&key).execute(state.pool()).await?;
    if won.rows_affected() != 1 {
        return Ok(None);
    }
    let client_id: String = row.try_get("client_id")?;
    let sealed: i64 = row.try_get("sealed")?;
    let code: String = row.try_get("code")?;
    let json = if sealed != 0 {
        let bytes = base64::engine::general_purpose::STANDARD.decode(code.as_bytes()).ok();
        let opened = state.repo.as_ref().zip(bytes).and_then(|(repo, b)| repo.open_secret(&purpose(&key), &b).ok());
        match opened {
            Some(json) => json,
            // Sealed by a repository this server does not have: unusable, like an expired code.
            None => return Ok(None),
        }
    } else {
        code.into_bytes()
    };
    let code: DeviceCode =
        serde_json::from_slice(&json).map_err(|e| StoreError::Internal(format!("Stored device code: {e}")))?;
    Ok(Some(PendingCode { owner: owner.to_string(), organization, client_id, code }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_normalise() {
        assert_eq!(normalise("abcd-efgh"), "ABCDEFGH");
        assert_eq!(normalise(" C6A9 DB737 "), "C6A9DB737");
    }
}
