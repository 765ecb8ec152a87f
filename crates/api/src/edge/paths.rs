//! Case-insensitive paths: the table of known literal segments and path canonicalisation.
//!
//! Clients spell paths in every case (`restoresessions`, `RestoreSessions`, `organization/onedrives`, …) and add
//! trailing slashes. Route modules register each path **once**, in the canonical spelling, e.g.
//! `/{version}/RestoreSessions/{id}/Organization/OneDrives`; before routing, the edge middleware rewrites every
//! segment that case-insensitively equals a known literal to its canonical spelling and drops a trailing slash. Ids
//! (segments that are not literals) are left untouched.
//!
//! The canonical spelling of a literal is the one in [`crate::edge::segments::VENDOR_SEGMENTS`] (the vendor's most
//! frequent spelling, e.g. `Organization`, `OneDrives`, `token`, `Action`; our own literals are listed there too). The
//! table is built from that list alone, so the edge never asks the route modules. Use [`canonical_route`] in a
//! module's unit test to check that its registered paths are canonical: `assert_eq!(paths::canonical_route(P), P)`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::edge::segments::VENDOR_SEGMENTS;
use crate::edge::version::ApiVersion;

/// Literal segment lookup: lower-cased spelling → canonical spelling.
#[derive(Debug, Clone, Default)]
pub struct SegmentTable {
    map: HashMap<String, &'static str>,
}

impl SegmentTable {
    /// A table with the vendor's literals.
    pub fn vendor() -> SegmentTable {
        SegmentTable::default().with(VENDOR_SEGMENTS)
    }

    /// Adds literals; a spelling given here replaces an earlier spelling of the same word.
    pub fn with(mut self, segments: &[&'static str]) -> SegmentTable {
        for s in segments {
            self.map.insert(s.to_ascii_lowercase(), s);
        }
        self
    }

    /// The canonical spelling of `segment`, if it is a known literal.
    pub fn canonical(&self, segment: &str) -> Option<&'static str> {
        if segment.len() > 64 {
            return None;
        }
        self.map.get(&segment.to_ascii_lowercase()).copied()
    }

    /// Canonicalises a request path: the version segment lower-cased (`V6` → `v6`), known literals in their canonical
    /// spelling, everything else unchanged, and trailing slashes removed. Borrowed when nothing changes.
    pub fn canonicalize<'a>(&self, path: &'a str) -> Cow<'a, str> {
        let trimmed = if path.len() > 1 { path.trim_end_matches('/') } else { path };
        let mut out = String::with_capacity(path.len());
        let mut changed = trimmed.len() != path.len();
        for (i, seg) in trimmed.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            let replacement: Option<Cow<'_, str>> = if i == 1 {
                ApiVersion::parse(seg).map(|v| Cow::Owned(v.segment()))
            } else if i > 1 {
                self.canonical(seg).map(Cow::Borrowed)
            } else {
                None
            };
            match replacement {
                Some(r) if r != seg => {
                    changed = true;
                    out.push_str(&r);
                }
                _ => out.push_str(seg),
            }
        }
        if !changed {
            return Cow::Borrowed(path);
        }
        if out.is_empty() {
            out.push('/');
        }
        Cow::Owned(out)
    }

    /// v2–v5 href spelling: literals lower-cased (as Veeam's own hrefs), ids unchanged.
    pub fn lowercase_literals(&self, path: &str) -> String {
        path.split('/')
            .map(
                |seg| {
                    if self.canonical(seg).is_some() {
                        Cow::Owned(seg.to_ascii_lowercase())
                    } else {
                        Cow::Borrowed(seg)
                    }
                },
            )
            .collect::<Vec<_>>()
            .join("/")
    }
}

static GLOBAL: OnceLock<SegmentTable> = OnceLock::new();

/// The process-wide table of [`VENDOR_SEGMENTS`].
pub fn table() -> &'static SegmentTable {
    GLOBAL.get_or_init(SegmentTable::vendor)
}

/// The canonical form of a route template such as `/{version}/restoresessions/{id}/stop`: literal segments in their
/// canonical spelling, `{param}` segments unchanged. A route is registered correctly when this returns it unchanged.
pub fn canonical_route(route: &str) -> String {
    route
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                seg.to_string()
            } else {
                table().canonical(seg).map(str::to_string).unwrap_or_else(|| seg.to_string())
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalizes_literals_not_ids() {
        let t = SegmentTable::vendor();
        assert_eq!(
            t.canonicalize("/V6/restoresessions/AbC-123/organization/onedrives/"),
            "/v6/RestoreSessions/AbC-123/Organization/OneDrives"
        );
        assert_eq!(t.canonicalize("/v5/TOKEN"), "/v5/token");
        assert!(matches!(t.canonicalize("/v6/RestoreSessions"), Cow::Borrowed(_)));
        assert_eq!(t.canonicalize("/"), "/");
        assert_eq!(t.canonicalize("/v6///"), "/v6");
        // Ids (here an EWS-style base64 id) are never touched.
        assert_eq!(t.canonicalize("/v6/Jobs/AAAAAKGE4dIvQUtG_x-="), "/v6/Jobs/AAAAAKGE4dIvQUtG_x-=");
    }

    #[test]
    fn module_segments_override() {
        let t = SegmentTable::vendor().with(&["organization", "Frobnicate"]);
        assert_eq!(t.canonicalize("/v6/ORGANIZATION/frobnicate"), "/v6/organization/Frobnicate");
    }

    #[test]
    fn lowercase_for_action_era_hrefs() {
        let t = SegmentTable::vendor();
        assert_eq!(
            t.lowercase_literals("RestoreSessions/AbC/Organization/OneDrives/XyZ"),
            "restoresessions/AbC/organization/onedrives/XyZ"
        );
    }

    #[test]
    fn canonical_routes() {
        assert_eq!(canonical_route("/{version}/TOKEN/Logout"), "/{version}/token/logout");
        assert_eq!(
            canonical_route("/{version}/restoresessions/{id}/organization/onedrives"),
            "/{version}/RestoreSessions/{id}/Organization/OneDrives"
        );
    }
}
