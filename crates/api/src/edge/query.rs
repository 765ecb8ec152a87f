//! Query strings with case-insensitive parameter names (`parentID` = `parentId`, `Offset` = `offset`): read by name
//! ([`LenientQuery`]) or as typed options ([`Query`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use serde::de::DeserializeOwned;

use crate::edge::error::ApiError;
use crate::edge::lenient::de::from_query_pairs;

/// Extractor: the query as typed options `T`, with [`LenientQuery`]'s rules: names in any case (the first pair of a
/// name counts), an empty value is absent (`None`), booleans `true`/`True`/`1`, and its error texts (`'limit' must be
/// a non-negative integer`). Unknown parameters are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = LenientQuery::parse(parts.uri.query().unwrap_or(""))?;
        Ok(Query(query.typed()?))
    }
}

/// The decoded query parameters of a request, looked up case-insensitively.
///
/// Typed getters treat an empty value (`?parentId=`) as absent and answer 400 naming the parameter when a value does
/// not parse (`'limit' must be a non-negative integer`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LenientQuery {
    pairs: Vec<(String, String)>,
}

impl LenientQuery {
    /// Decodes a raw query string (without `?`).
    pub fn parse(query: &str) -> Result<LenientQuery, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::bad_request(format!("The query string is malformed: {e}")))?;
        Ok(LenientQuery { pairs })
    }

    /// The parameters as typed options (see [`Query`]).
    pub fn typed<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        from_query_pairs(&self.pairs)
    }

    /// All decoded pairs, in request order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `name` (any case), possibly empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The value of `name` when present and not empty.
    pub fn get_non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Whether `name` is present (even with an empty value).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A boolean: `true`/`false` in any case, or `1`/`0`.
    pub fn get_bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get_non_empty(name) {
            None => Ok(None),
            Some(v) => crate::edge::lenient::parse_bool_str(v)
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(format!("'{name}' must be a boolean"))),
        }
    }

    /// A non-negative integer.
    pub fn get_u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.get_non_empty(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("'{name}' must be a non-negative integer"))),
        }
    }

    /// A signed integer.
    pub fn get_i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get_non_empty(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("'{name}' must be an integer"))),
        }
    }

    /// A date-time in any format [`crate::edge::lenient::parse_datetime`] accepts.
    pub fn get_datetime(&self, name: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
        match self.get_non_empty(name) {
            None => Ok(None),
            Some(v) => crate::edge::lenient::parse_datetime(v)
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(format!("'{name}' is not a valid date and time"))),
        }
    }

    /// The pairs except those named in `drop` (any case); used to rebuild paging links.
    pub fn without(&self, drop: &[&str]) -> Vec<(String, String)> {
        self.pairs.iter().filter(|(k, _)| !drop.iter().any(|d| k.eq_ignore_ascii_case(d))).cloned().collect()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for LenientQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        LenientQuery::parse(parts.uri.query().unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_names() {
        let q = LenientQuery::parse("parentID=abc&Offset=5&LIMIT=10&showDeleted=True&x=").unwrap();
        assert_eq!(q.get("parentId"), Some("abc"));
        assert_eq!(q.get_u64("offset").unwrap(), Some(5));
        assert_eq!(q.get_u64("limit").unwrap(), Some(10));
        assert_eq!(q.get_bool("showdeleted").unwrap(), Some(true));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.get_u64("x").unwrap(), None);
        assert!(q.has("X"));
        assert_eq!(q.get("missing"), None);
        assert_eq!(q.without(&["offset", "limit"]).len(), 3);
    }

    #[test]
    fn typed_errors_name_the_parameter() {
        let q = LenientQuery::parse("limit=-1&flag=maybe&n=abc").unwrap();
        let e = q.get_u64("limit").unwrap_err();
        assert_eq!(e.message, "'limit' must be a non-negative integer");
        assert_eq!(q.get_bool("flag").unwrap_err().message, "'flag' must be a boolean");
        assert_eq!(q.get_i64("n").unwrap_err().message, "'n' must be an integer");
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Paging {
        offset: Option<u64>,
        limit: Option<u64>,
        parent_id: Option<String>,
        show_deleted: Option<bool>,
        delta: Option<i64>,
        #[serde(default, deserialize_with = "crate::edge::lenient::datetime::option")]
        since: Option<chrono::DateTime<chrono::Utc>>,
    }

    #[test]
    fn typed_options_read_like_the_getters() {
        let q = LenientQuery::parse("parentID=abc&Offset=5&LIMIT=&showDeleted=True&offset=9&delta=-2&x=1").unwrap();
        let p: Paging = q.typed().unwrap();
        assert_eq!(
            p,
            Paging {
                offset: q.get_u64("offset").unwrap(),
                limit: q.get_u64("limit").unwrap(),
                parent_id: q.get("parentId").map(str::to_string),
                show_deleted: q.get_bool("showDeleted").unwrap(),
                delta: q.get_i64("delta").unwrap(),
                since: None,
            }
        );
        assert_eq!((p.offset, p.limit, p.delta), (Some(5), None, Some(-2)));
        let p: Paging = LenientQuery::parse("since=2021.04.27%2010:49").unwrap().typed().unwrap();
        assert_eq!(p.since, crate::edge::lenient::parse_datetime("2021-04-27T10:49:00Z"));
    }

    #[test]
    fn typed_errors_are_the_getters_texts() {
        for (query, name) in [
            ("limit=-1", "limit"),
            ("offset=x", "offset"),
            ("showDeleted=maybe", "showDeleted"),
            ("delta=1.5", "delta"),
            ("since=yesterday", "since"),
        ] {
            let q = LenientQuery::parse(query).unwrap();
            let typed = q.typed::<Paging>().unwrap_err();
            let getter = match name {
                "showDeleted" => q.get_bool(name).unwrap_err(),
                "delta" => q.get_i64(name).unwrap_err(),
                "since" => q.get_datetime(name).unwrap_err(),
                _ => q.get_u64(name).unwrap_err(),
            };
            assert_eq!((typed.status, &typed.message), (getter.status, &getter.message), "{query}");
        }
        let e = LenientQuery::parse("limit=-1").unwrap().typed::<Paging>().unwrap_err();
        assert_eq!(e.message, "'limit' must be a non-negative integer");
    }

    #[test]
    fn percent_decoding() {
        let q = LenientQuery::parse("parentId=a%2Fb%3D%3D&name=x+y").unwrap();
        assert_eq!(q.get("parentid"), Some("a/b=="));
        assert_eq!(q.get("NAME"), Some("x y"));
    }
}
