//! The API version of a request (`/v2` … `/v8`) and its era.

use std::fmt;

/// The version number from the request's path prefix (`/v6/...` → `ApiVersion(6)`).
///
/// Extract it in a handler (`version: ApiVersion`, see `extract.rs`) to branch on the era. The edge middleware has already answered
/// 404 for any prefix outside [`ApiVersion::MIN`]..=[`ApiVersion::MAX`], so handlers only see served versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion(pub u8);

impl ApiVersion {
    /// Oldest served version.
    pub const MIN: u8 = 2;
    /// Newest served version.
    pub const MAX: u8 = 8;

    /// Parses a path segment such as `v6` or `V6`; `None` when it is not a served version.
    pub fn parse(segment: &str) -> Option<ApiVersion> {
        let digits = segment.strip_prefix(['v', 'V'])?;
        if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u8 = digits.parse().ok()?;
        (Self::MIN..=Self::MAX).contains(&n).then_some(ApiVersion(n))
    }

    /// The version number (2..=8).
    pub fn number(self) -> u8 {
        self.0
    }

    /// v2–v5: operations are `POST …/Action` with a one-key body; hrefs are absolute and lower-case.
    pub fn is_action_era(self) -> bool {
        self.0 <= 5
    }

    /// v6+: one endpoint per verb, bare option bodies, server-relative hrefs.
    pub fn is_verb_era(self) -> bool {
        !self.is_action_era()
    }

    /// v8: asynchronous restores, unified status codes (204 for logout/stop/send), `stackTrace` in errors.
    pub fn is_v8(self) -> bool {
        self.0 >= 8
    }

    /// The path prefix segment, e.g. `"v6"`.
    pub fn segment(self) -> String {
        format!("v{}", self.0)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// The version of a request path (its first segment), if served.
pub fn version_of_path(path: &str) -> Option<ApiVersion> {
    ApiVersion::parse(path.trim_start_matches('/').split('/').next().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_versions() {
        assert_eq!(ApiVersion::parse("v2"), Some(ApiVersion(2)));
        assert_eq!(ApiVersion::parse("V8"), Some(ApiVersion(8)));
        for bad in ["v1", "v9", "v", "6", "v06x", "v-6", "v+6", "vv6", "v100", ""] {
            assert_eq!(ApiVersion::parse(bad), None, "{bad}");
        }
        assert!(ApiVersion(5).is_action_era());
        assert!(!ApiVersion(6).is_action_era());
        assert!(ApiVersion(6).is_verb_era());
        assert_eq!(version_of_path("/v7/token"), Some(ApiVersion(7)));
        assert_eq!(ApiVersion(3).to_string(), "v3");
    }
}
