//! `/token`: the request's fields and the OAuth answers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::edge::lenient::de;
use crate::edge::version::ApiVersion;
use crate::store::tokens::IssuedTokens;

/// Token request fields (form-urlencoded or JSON; names in any case; empty values count as absent).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `password` (default) or `refresh_token`. `urn:ietf:params:oauth:grant-type:jwt-bearer` and `operator` are
    /// answered with `unsupported_grant_type`.
    #[serde(default, deserialize_with = "de::text")]
    grant_type: Option<String>,
    /// Account name (password grant).
    #[serde(default, deserialize_with = "de::text")]
    username: Option<String>,
    /// Password (password grant).
    #[schema(format = Password)]
    #[serde(default, deserialize_with = "de::text")]
    password: Option<String>,
    /// Refresh token (refresh_token grant); ignored on password grants.
    #[serde(default, deserialize_with = "de::text")]
    refresh_token: Option<String>,
    /// Accepted and ignored: no antiforgery cookie is ever required.
    #[schema(value_type = Option<bool>)]
    #[serde(default, rename = "disable_antiforgery_token")]
    _disable_antiforgery_token: Option<serde::de::IgnoredAny>,
}

impl TokenRequest {
    pub fn grant_type(&self) -> Option<&str> {
        given(&self.grant_type)
    }

    pub fn username(&self) -> Option<&str> {
        given(&self.username)
    }

    pub fn password(&self) -> Option<&str> {
        given(&self.password)
    }

    pub fn refresh_token(&self) -> Option<&str> {
        given(&self.refresh_token)
    }
}

/// An empty field is no field (`refresh_token=` from scripts).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// The vendor's `OAuthTokenResponse`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthTokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Access-token lifetime in seconds (3600).
    pub expires_in: i64,
    #[serde(rename = "userName")]
    pub user_name: String,
    /// v2–v5: RFC 1123 (`Mon, 04 Sep 2017 04:45:57 GMT`, OWIN's format); v6+: ISO 8601.
    #[serde(rename = ".issued")]
    pub issued: String,
    #[serde(rename = ".expires")]
    pub expires: String,
}

impl OAuthTokenResponse {
    /// The answer for `version`'s clients.
    pub fn new(version: ApiVersion, t: IssuedTokens) -> OAuthTokenResponse {
        OAuthTokenResponse {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "bearer",
            expires_in: t.expires_in,
            user_name: t.user.name,
            issued: format_time(version, t.issued),
            expires: format_time(version, t.expires),
        }
    }
}

fn format_time(version: ApiVersion, t: DateTime<Utc>) -> String {
    if version.is_action_era() {
        t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }
}

/// OAuth-style error of the token endpoint (plus `message`, which clients of the other endpoints read).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`; with 429 `temporarily_locked`, with 503
    /// `temporarily_unavailable` (both with `Retry-After`).
    pub error: &'static str,
    pub error_description: String,
    pub message: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        let description = description.into();
        OAuthError { error, error_description: description.clone(), message: description }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats_per_era() {
        let t = DateTime::parse_from_rfc3339("2017-09-04T04:45:57Z").unwrap().with_timezone(&Utc);
        assert_eq!(format_time(ApiVersion(5), t), "Mon, 04 Sep 2017 04:45:57 GMT");
        assert_eq!(format_time(ApiVersion(6), t), "2017-09-04T04:45:57.000000Z");
    }
}
