//! The caller's working restore session, and the era's answer when it is stopped: v2–v7 answer 500
//! `"Restore session is stopped."` (what clients map to "session expired"), v8 answers 409 `OperationConflict` with the
//! same message. The store only says "stopped" ([`StoreError::SessionStopped`]); the era is the request's.

use engine::restore::RestoreStats;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::restore_stop::stopped_summary;
use crate::store::sessions::{self, RestoreSession, STOPPED_MESSAGE};
use crate::store::StoreError;

/// The caller's working session `id`, refreshing its last use: 404 for a malformed or unknown id and for another
/// user's session; a stopped session gets `version`'s answer ([`stopped_error`]).
pub async fn session(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    version: ApiVersion,
) -> Result<RestoreSession, ApiError> {
    sessions::require_working(state, user, id).await.map_err(|e| match e {
        StoreError::SessionStopped => stopped_error(version),
        e => e.into(),
    })
}

/// The error for an operation on a stopped session in `version`'s era.
pub fn stopped_error(version: ApiVersion) -> ApiError {
    if version.is_v8() {
        ApiError::conflict(STOPPED_MESSAGE)
    } else {
        ApiError::internal(STOPPED_MESSAGE)
    }
}

/// The answer of a v2–v7 restore that a Stop cut short: the era's error for a stopped session, saying how far it got.
/// The items it processed are events of the session, readable after the stop.
pub fn stopped_restore_error(version: ApiVersion, stats: &RestoreStats) -> ApiError {
    let mut e = stopped_error(version);
    e.message = format!("{STOPPED_MESSAGE} {}", stopped_summary(stats));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopped_errors_per_era() {
        assert_eq!(stopped_error(ApiVersion(5)).status, axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(stopped_error(ApiVersion(7)).status, axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let e = stopped_error(ApiVersion(8));
        assert_eq!(e.status, axum::http::StatusCode::CONFLICT);
        assert_eq!(e.message, STOPPED_MESSAGE);
    }

    #[test]
    fn a_stopped_restore_says_how_far_it_got() {
        let s = RestoreStats { restored: 2, failed: 1, ..RestoreStats::default() };
        let e = stopped_restore_error(ApiVersion(7), &s);
        assert_eq!(e.status, axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(e.message.starts_with(STOPPED_MESSAGE), "{}", e.message);
        assert!(e.message.ends_with(&stopped_summary(&s)), "{}", e.message);
    }
}
