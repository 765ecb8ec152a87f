//! Paging (`offset`/`limit`, veeam-api-notes §4) and HAL `_links`.
//!
//! ```ignore
//! async fn list(ctx: PageContext, paging: Paging) -> Result<Page<Item>, ApiError> {
//!     let rows = fetch(paging.offset, paging.limit).await?;          // total known? use .with_total_count(n)
//!     Ok(Page::new(&ctx, paging, rows))
//! }
//! ```
//! Hrefs: v2–v5 absolute `https://host:port/vN/…` with lower-cased literal segments; v6+ server-relative `/vN/…`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use uuid::Uuid;

use crate::edge::era::Era;
use crate::edge::error::{ApiError, JSON_UTF8};
use crate::edge::query::LenientQuery;
use crate::edge::version::{version_of_path, ApiVersion};

/// `offset`/`limit` of a paged request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Rows to skip (default 0).
    pub offset: u64,
    /// Rows per page (default [`Paging::DEFAULT_LIMIT`], at most [`Paging::MAX_LIMIT`]).
    pub limit: u64,
}

impl Default for Paging {
    fn default() -> Paging {
        Paging { offset: 0, limit: Paging::DEFAULT_LIMIT }
    }
}

impl Paging {
    /// The vendor's default page size.
    pub const DEFAULT_LIMIT: u64 = 30;
    /// The vendor's maximum page size (v5+); larger limits are refused with 400.
    pub const MAX_LIMIT: u64 = 10_000;

    /// Reads `offset` and `limit` (any case). Negative or non-numeric values and limits above the maximum → 400.
    /// `limit=0` means the default.
    pub fn from_query(q: &LenientQuery) -> Result<Paging, ApiError> {
        let offset = q.get_u64("offset")?.unwrap_or(0);
        let limit = match q.get_u64("limit")? {
            None | Some(0) => Paging::DEFAULT_LIMIT,
            Some(n) if n > Paging::MAX_LIMIT => {
                return Err(ApiError::bad_request(format!("'limit' must not exceed {}", Paging::MAX_LIMIT)))
            }
            Some(n) => n,
        };
        Ok(Paging { offset, limit })
    }

    /// The page's window of an in-memory list.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.offset.min(items.len() as u64)) as usize;
        let end = (self.offset.saturating_add(self.limit).min(items.len() as u64)) as usize;
        &items[start..end]
    }

    /// `offset` as `i64` for SQL (saturating).
    pub fn offset_i64(&self) -> i64 {
        i64::try_from(self.offset).unwrap_or(i64::MAX)
    }

    /// `limit` as `i64` for SQL.
    pub fn limit_i64(&self) -> i64 {
        self.limit as i64
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Paging::from_query(&LenientQuery::from_request_parts(parts, state).await?)
    }
}

/// A HAL link `{"href": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Link {
    /// The target.
    pub href: String,
}

/// A `_links` object: relation name → link, serialised in insertion order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links(Vec<(String, Link)>);

impl Links {
    /// No links.
    pub fn new() -> Links {
        Links::default()
    }

    /// Adds (or replaces) `rel`.
    pub fn with(mut self, rel: &str, href: impl Into<String>) -> Links {
        self.insert(rel, href);
        self
    }

    /// Adds (or replaces) `rel`.
    pub fn insert(&mut self, rel: &str, href: impl Into<String>) {
        let link = Link { href: href.into() };
        match self.0.iter_mut().find(|(r, _)| r == rel) {
            Some(slot) => slot.1 = link,
            None => self.0.push((rel.to_string(), link)),
        }
    }

    /// The href of `rel`.
    pub fn get(&self, rel: &str) -> Option<&str> {
        self.0.iter().find(|(r, _)| r == rel).map(|(_, l)| l.href.as_str())
    }
}

impl Serialize for Links {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (rel, link) in &self.0 {
            m.serialize_entry(rel, link)?;
        }
        m.end()
    }
}

/// Builds hrefs for one API version: `Hrefs::for_version(v, origin).href("RestoreSessions/{id}")`.
///
/// Extract it in a handler (`hrefs: Hrefs`): the origin is `https://` + the request's `Host` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hrefs {
    version: ApiVersion,
    origin: String,
}

impl Hrefs {
    /// `origin` is `https://host:port` (used by v2–v5 only).
    pub fn for_version(version: ApiVersion, origin: impl Into<String>) -> Hrefs {
        Hrefs { version, origin: origin.into().trim_end_matches('/').to_string() }
    }

    /// The version these hrefs are for.
    pub fn version(&self) -> ApiVersion {
        self.version
    }

    /// The href of `path`, given relative to the version root in canonical spelling and possibly with a query
    /// (`"RestoreSessions/abc/Organization/OneDrives?offset=0"`). v2–v5: `https://host:port/v5/restoresessions/abc/
    /// organization/onedrives?offset=0`; v6+: `/v6/RestoreSessions/abc/Organization/OneDrives?offset=0`.
    pub fn href(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        let (p, q) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let mut out = if self.version.is_action_era() {
            format!("{}/{}/{}", self.origin, self.version.segment(), crate::edge::paths::table().lowercase_literals(p))
        } else {
            format!("/{}/{}", self.version.segment(), p)
        };
        if out.ends_with('/') {
            out.pop();
        }
        if let Some(q) = q.filter(|q| !q.is_empty()) {
            out.push('?');
            out.push_str(q);
        }
        out
    }

    /// `{"href": …}` for `path`.
    pub fn link(&self, path: &str) -> Link {
        Link { href: self.href(path) }
    }
}

fn origin_of(parts: &Parts) -> String {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost:4443".to_string());
    format!("https://{host}")
}

impl<S: Send + Sync> FromRequestParts<S> for Hrefs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let version = ApiVersion::from_request_parts(parts, state).await?;
        Ok(Hrefs::for_version(version, origin_of(parts)))
    }
}

/// What a page needs to link to its neighbours: the hrefs, the request path below the version and its query.
#[derive(Debug, Clone)]
pub struct PageContext {
    /// Href builder of the request.
    pub hrefs: Hrefs,
    /// The canonical request path below the version (`RestoreSessions/abc/Organization/OneDrives`).
    pub path: String,
    /// The query parameters other than offset/limit, kept in page links (e.g. `parentId`, `setId`).
    pub query: Vec<(String, String)>,
}

impl PageContext {
    /// The href of this listing at `offset`.
    pub fn href_at(&self, offset: u64, limit: u64) -> String {
        let mut pairs = self.query.clone();
        pairs.push(("offset".into(), offset.to_string()));
        pairs.push(("limit".into(), limit.to_string()));
        let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        self.hrefs.href(&format!("{}?{}", self.path, q))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let hrefs = Hrefs::from_request_parts(parts, state).await?;
        let query = LenientQuery::from_request_parts(parts, state).await?;
        let full = parts.uri.path();
        let path = match version_of_path(full) {
            // Strip "/vN/".
            Some(_) => full.trim_start_matches('/').split_once('/').map(|(_, rest)| rest).unwrap_or("").to_string(),
            None => full.trim_start_matches('/').to_string(),
        };
        Ok(PageContext { hrefs, path, query: query.without(&["offset", "limit"]) })
    }
}

/// A list whose envelope depends on the era: from `paged` on a [`Page`] with `totalCount` (the query's `offset`/
/// `limit` apply), before it the plain JSON array of every row. The handler windows its rows and answers through it,
/// so it has no era test of its own.
#[derive(Debug, Clone)]
pub struct Listing {
    /// `None`: the era answers the whole list as an array.
    paging: Option<Paging>,
}

impl Listing {
    /// The listing `version` answers, paged from `paged` on.
    pub fn of(version: ApiVersion, paged: Era, q: &LenientQuery) -> Result<Listing, ApiError> {
        let paging = if paged.contains(version) { Some(Paging::from_query(q)?) } else { None };
        Ok(Listing { paging })
    }

    /// The rows this answer shows.
    pub fn window<'a, T>(&self, rows: &'a [T]) -> &'a [T] {
        match &self.paging {
            Some(p) => p.slice(rows),
            None => rows,
        }
    }

    /// The window as `(offset, limit)` for a query that pages in the database (the whole list: at most
    /// [`Listing::UNPAGED_ROWS`]).
    pub fn offset_limit(&self) -> (i64, i64) {
        match &self.paging {
            Some(p) => (p.offset_i64(), p.limit_i64()),
            None => (0, Listing::UNPAGED_ROWS),
        }
    }

    /// The most rows an era without paging lists.
    pub const UNPAGED_ROWS: i64 = 100_000;

    /// The answer: `shown` (the rendered [`Listing::window`]) out of `total` rows.
    pub fn answer<T: Serialize>(self, ctx: &PageContext, shown: Vec<T>, total: usize) -> Response {
        match self.paging {
            Some(p) => Page::new(ctx, p, shown).with_total_count(total as u64).into_response(),
            None => json_response(axum::http::StatusCode::OK, &shown),
        }
    }
}

/// A page envelope `{offset, limit, [totalCount], [setId], results, _links{first?, prev?, self, next?}}`.
///
/// Links: `first` and `prev` when `offset > 0` (`prev = max(0, offset - limit)`); `next` when more rows exist —
/// known exactly with [`Page::with_total_count`] / [`Page::with_more`], else assumed when the page is full.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Rows skipped.
    pub offset: u64,
    /// Page size asked for.
    pub limit: u64,
    /// The rows.
    pub results: Vec<T>,
    /// `setId` (v6+ cached result sets).
    pub set_id: Option<Uuid>,
    /// `totalCount` (some v6+ pages).
    pub total_count: Option<u64>,
    more: Option<bool>,
    ctx: PageContext,
}

impl<T> Page<T> {
    /// A page of `results` for the request described by `ctx`.
    pub fn new(ctx: &PageContext, paging: Paging, results: Vec<T>) -> Page<T> {
        Page {
            offset: paging.offset,
            limit: paging.limit,
            results,
            set_id: None,
            total_count: None,
            more: None,
            ctx: ctx.clone(),
        }
    }

    /// Adds `totalCount` (also decides `next`).
    pub fn with_total_count(mut self, total: u64) -> Page<T> {
        self.total_count = Some(total);
        self
    }

    /// Adds `setId`.
    pub fn with_set_id(mut self, id: Uuid) -> Page<T> {
        self.set_id = Some(id);
        self
    }

    /// States whether rows exist after this page (when the total is unknown but the query fetched `limit + 1`).
    pub fn with_more(mut self, more: bool) -> Page<T> {
        self.more = Some(more);
        self
    }

    /// The `_links` of this page.
    pub fn links(&self) -> Links {
        let mut links = Links::new();
        if self.offset > 0 {
            links.insert("first", self.ctx.href_at(0, self.limit));
            links.insert("prev", self.ctx.href_at(self.offset.saturating_sub(self.limit), self.limit));
        }
        links.insert("self", self.ctx.href_at(self.offset, self.limit));
        let more = match (self.more, self.total_count) {
            (Some(m), _) => m,
            (None, Some(total)) => self.offset.saturating_add(self.results.len() as u64) < total,
            (None, None) => self.results.len() as u64 >= self.limit,
        };
        if more {
            links.insert("next", self.ctx.href_at(self.offset.saturating_add(self.limit), self.limit));
        }
        links
    }
}

impl<T: Serialize> Serialize for Page<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("offset", &self.offset)?;
        m.serialize_entry("limit", &self.limit)?;
        if let Some(t) = self.total_count {
            m.serialize_entry("totalCount", &t)?;
        }
        if let Some(id) = self.set_id {
            m.serialize_entry("setId", &id)?;
        }
        m.serialize_entry("results", &self.results)?;
        m.serialize_entry("_links", &self.links())?;
        m.end()
    }
}

/// `200 application/json` with any serialisable body (camelCase is the caller's `serde` attributes' business).
pub fn json_response<T: Serialize>(status: axum::http::StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut r = (status, bytes).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
            r
        }
        Err(e) => ApiError::internal(format!("Response serialisation failed: {e}")).into_response(),
    }
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        json_response(axum::http::StatusCode::OK, &self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(v: u8, q: &str) -> PageContext {
        PageContext {
            hrefs: Hrefs::for_version(ApiVersion(v), "https://srv:4443"),
            path: "RestoreSessions/AbC/Organization/OneDrives".into(),
            query: LenientQuery::parse(q).unwrap().without(&["offset", "limit"]),
        }
    }

    #[test]
    fn paging_defaults_and_limits() {
        let p = |q: &str| Paging::from_query(&LenientQuery::parse(q).unwrap());
        assert_eq!(p("").unwrap(), Paging { offset: 0, limit: 30 });
        assert_eq!(p("Offset=5&LIMIT=10000").unwrap(), Paging { offset: 5, limit: 10_000 });
        assert_eq!(p("limit=0").unwrap().limit, 30);
        assert_eq!(p("limit=10001").unwrap_err().message, "'limit' must not exceed 10000");
        assert_eq!(p("limit=-1").unwrap_err().status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(p("offset=-5").unwrap_err().message, "'offset' must be a non-negative integer");
        let items: Vec<u32> = (0..10).collect();
        assert_eq!(Paging { offset: 8, limit: 5 }.slice(&items), &[8, 9]);
        assert!(Paging { offset: 80, limit: 5 }.slice(&items).is_empty());
        assert_eq!(Paging { offset: u64::MAX, limit: 5 }.offset_i64(), i64::MAX);
    }

    #[test]
    fn envelope_v6_relative_links() {
        let page = Page::new(&ctx(6, "parentID=xyz&offset=19&limit=10"), Paging { offset: 19, limit: 10 }, vec![1; 10]);
        let v = serde_json::to_value(&page).unwrap();
        let base = "/v6/RestoreSessions/AbC/Organization/OneDrives?parentID=xyz";
        assert_eq!(
            v,
            json!({
                "offset": 19, "limit": 10, "results": [1,1,1,1,1,1,1,1,1,1],
                "_links": {
                    "first": {"href": format!("{base}&offset=0&limit=10")},
                    "prev": {"href": format!("{base}&offset=9&limit=10")},
                    "self": {"href": format!("{base}&offset=19&limit=10")},
                    "next": {"href": format!("{base}&offset=29&limit=10")},
                }
            })
        );
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["offset", "limit", "results", "_links"]);
    }

    #[test]
    fn envelope_v5_absolute_lowercase_and_last_page() {
        let page = Page::new(&ctx(5, ""), Paging { offset: 0, limit: 30 }, vec!["a"]);
        let links = page.links();
        assert_eq!(
            links.get("self"),
            Some("https://srv:4443/v5/restoresessions/AbC/organization/onedrives?offset=0&limit=30")
        );
        assert_eq!(links.get("first"), None);
        assert_eq!(links.get("prev"), None);
        assert_eq!(links.get("next"), None);
    }

    #[test]
    fn total_count_set_id_and_more() {
        let id = Uuid::nil();
        let page =
            Page::new(&ctx(7, ""), Paging { offset: 0, limit: 2 }, vec![1, 2]).with_total_count(2).with_set_id(id);
        let v = serde_json::to_value(&page).unwrap();
        assert_eq!(v["totalCount"], 2);
        assert_eq!(v["setId"], id.to_string());
        assert!(v["_links"].get("next").is_none(), "total reached: no next");
        let page = Page::new(&ctx(7, ""), Paging { offset: 0, limit: 2 }, vec![1]).with_more(true);
        assert!(page.links().get("next").is_some());
        let page = Page::new(&ctx(7, ""), Paging { offset: 3, limit: 10 }, Vec::<u8>::new());
        assert_eq!(page.links().get("prev"), Some("/v7/RestoreSessions/AbC/Organization/OneDrives?offset=0&limit=10"));
    }

    #[test]
    fn hrefs_and_links() {
        let h = Hrefs::for_version(ApiVersion(4), "https://h:4443/");
        assert_eq!(h.href("/RestoreSessions/Id-X/Events"), "https://h:4443/v4/restoresessions/Id-X/events");
        let h8 = Hrefs::for_version(ApiVersion(8), "https://h:4443");
        assert_eq!(h8.href("RestoreSessions/Id-X"), "/v8/RestoreSessions/Id-X");
        let links = Links::new().with("self", h8.href("Organizations/1")).with("self", "/x").with("parent", "/p");
        assert_eq!(serde_json::to_value(&links).unwrap(), json!({"self": {"href": "/x"}, "parent": {"href": "/p"}}));
    }
}
