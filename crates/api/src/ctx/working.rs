//! The caller's working restore session, and the answer when it is stopped: `"Restore session is stopped."` as
//! [`ApiError::session_stopped`] (v8 409 `OperationConflict`, v2–v7 500, which clients map to "session expired"; the
//! edge renders the request's era). The store only says "stopped" ([`StoreError::SessionStopped`]).

use engine::restore::RestoreStats;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::state::AppState;
use crate::store::restore_stop::stopped_summary;
use crate::store::sessions::{self, RestoreSession, STOPPED_MESSAGE};
use crate::store::StoreError;

/// The caller's working session `id`, refreshing its last use: 404 for a malformed or unknown id and for another
/// user's session; a stopped session is [`stopped_error`].
pub async fn session(state: &AppState, user: &CurrentUser, id: &str) -> Result<RestoreSession, ApiError> {
    sessions::require_working(state, user, id).await.map_err(|e| match e {
        StoreError::SessionStopped => stopped_error(),
        e => e.into(),
    })
}

/// The error for an operation on a stopped session.
pub fn stopped_error() -> ApiError {
    ApiError::session_stopped(STOPPED_MESSAGE)
}

/// The answer of a v2–v7 restore that a Stop cut short: the era's error for a stopped session, saying how far it got.
/// The items it processed are events of the session, readable after the stop.
pub fn stopped_restore_error(stats: &RestoreStats) -> ApiError {
    let mut e = stopped_error();
    e.message = format!("{STOPPED_MESSAGE} {}", stopped_summary(stats));
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::version::ApiVersion;

    #[test]
    fn stopped_errors_per_era() {
        let e = stopped_error();
        assert_eq!(e.message, STOPPED_MESSAGE);
        for (v, status) in [(5, 500), (7, 500), (8, 409)] {
            assert_eq!(e.render(Some(ApiVersion(v))).status().as_u16(), status, "v{v}");
        }
    }

    #[test]
    fn a_stopped_restore_says_how_far_it_got() {
        let s = RestoreStats { restored: 2, failed: 1, ..RestoreStats::default() };
        let e = stopped_restore_error(&s);
        assert_eq!(e.render(Some(ApiVersion(7))).status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(e.message.starts_with(STOPPED_MESSAGE), "{}", e.message);
        assert!(e.message.ends_with(&stopped_summary(&s)), "{}", e.message);
    }
}
