//! How a failure of the API's tables answers over HTTP: the statuses and messages the API has always given.

use crate::edge::error::ApiError;
use crate::store::sessions::STOPPED_MESSAGE;
use crate::store::tokens::TokenError;
use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Db(e) => e.into(),
            StoreError::NotFound(message) => ApiError::not_found(message),
            // Without the request's era, the v2–v7 answer; era-aware callers use `crate::ctx::working`.
            StoreError::SessionStopped => ApiError::session_stopped(STOPPED_MESSAGE),
            StoreError::Invalid(message) => ApiError::bad_request(message),
            StoreError::Internal(message) => ApiError::internal(message),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> ApiError {
        tracing::error!("token store: {e}");
        ApiError::internal("The token store is unavailable.")
    }
}
