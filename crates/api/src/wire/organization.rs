//! Organizations: the explore options that start a restore session.

use axum::extract::{FromRequest, Request};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::edge::error::ApiError;
use crate::edge::lenient::datetime::StatedTime;
use crate::edge::lenient::{de, LenientJson, Obj};
use crate::store::sessions::SessionKind;

/// The product a restore session explores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ExploreType {
    Vex,
    Veod,
    Vesp,
    Vet,
}

impl From<ExploreType> for SessionKind {
    fn from(t: ExploreType) -> SessionKind {
        match t {
            ExploreType::Vex => SessionKind::Vex,
            ExploreType::Veod => SessionKind::Veod,
            ExploreType::Vesp => SessionKind::Vesp,
            ExploreType::Vet => SessionKind::Vet,
        }
    }
}

/// Explore options (`RESTExploreOptions`); v2–v5 wrap them as `{"explore": {…}}`. Names in any case, booleans as
/// strings, enums in any case.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTExploreOptions)]
pub struct ExploreOptions {
    /// Required: `Vex`, `Veod`, `Vesp`, `Vet` (any case).
    #[schema(value_type = String)]
    r#type: Option<ExploreType>,
    /// Point in time (ISO 8601, `yyyy.MM.dd HH:mm[:ss]`, `yyyy-MM-dd HH:mm:ss[.fff]`, …); omitted = latest.
    // Errors name it as the vendor's v2 documentation spelled it: 'datetime'.
    #[serde(rename(deserialize = "datetime"))]
    #[schema(value_type = Option<String>)]
    pub date_time: Option<StatedTime>,
    /// v8; accepted and ignored (one repository).
    #[serde(default, deserialize_with = "de::guid::option")]
    #[schema(value_type = Option<String>)]
    pub repository_id: Option<Uuid>,
    pub show_deleted: Option<bool>,
    pub show_all_versions: Option<bool>,
    /// v6+: free text kept with the session.
    #[serde(default, deserialize_with = "de::text")]
    pub reason: Option<String>,
}

/// The v2–v5 `POST …/Action` body of an organization or job: `{"explore": {…}}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExploreAction {
    Explore(ExploreOptions),
}

/// Extractor: the v6+ explore body, bare options or a v2–v5 style `{"explore": {…}}` (unwrapped).
#[derive(Debug)]
pub struct VerbExplore(pub ExploreOptions);

impl<S: Send + Sync> FromRequest<S> for VerbExplore {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let LenientJson(body) = LenientJson::<Obj>::from_request(req, state).await?;
        ExploreOptions::from_verb_body(&body).map(VerbExplore)
    }
}

impl ExploreOptions {
    /// The required `type`.
    pub fn kind(&self) -> Result<SessionKind, ApiError> {
        self.r#type
            .map(SessionKind::from)
            .ok_or_else(|| ApiError::bad_request("'type' is required: one of Vex, Veod, Vesp, Vet".to_string()))
    }

    fn from_verb_body(body: &Obj) -> Result<ExploreOptions, ApiError> {
        let keys: Vec<&str> = body.keys().collect();
        if keys.len() == 1 && keys[0].eq_ignore_ascii_case("explore") {
            let ExploreAction::Explore(o) = body.to_typed()?;
            return Ok(o);
        }
        body.to_typed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::lenient::Body;

    fn verb(s: &str) -> Result<ExploreOptions, ApiError> {
        ExploreOptions::from_verb_body(&Body::parse(s.as_bytes()).unwrap())
    }

    #[test]
    fn explore_options() {
        let p = verb(r#"{"DateTime":"2021.04.27 10:49","TYPE":"veod","ShowDeleted":"True"}"#).unwrap();
        assert_eq!(p.kind().unwrap(), SessionKind::Veod);
        assert_eq!(p.date_time.unwrap().text, "2021.04.27 10:49");
        assert_eq!((p.show_deleted, p.show_all_versions), (Some(true), None));
        assert_eq!(
            verb(r#"{"showDeleted":true}"#).unwrap().kind().unwrap_err().message,
            "'type' is required: one of Vex, Veod, Vesp, Vet"
        );
        assert_eq!(
            verb(r#"{"type":"x"}"#).unwrap_err().message,
            "'type' must be one of: Vex, Veod, Vesp, Vet (got 'x')"
        );
        assert_eq!(verb(r#"{"explore":{"type":"Vesp"}}"#).unwrap().kind().unwrap(), SessionKind::Vesp);
        assert_eq!(
            verb(r#"{"explore":{"type":"x"}}"#).unwrap_err().message,
            "'explore.type' must be one of: Vex, Veod, Vesp, Vet (got 'x')"
        );
        assert!(verb(r#"{"type":"veod","datetime":"yesterday"}"#)
            .unwrap_err()
            .message
            .starts_with("'datetime' is not a valid date and time: 'yesterday'"));
        assert_eq!(verb(r#"{"type":"veod","repositoryId":"x"}"#).unwrap_err().message, "'repositoryId' must be a GUID");
        assert_eq!(verb(r#"{"type":"veod","reason":""}"#).unwrap().reason.as_deref(), Some(""));
        assert!(verb(r#"{"type":"veod","dateTime":" "}"#).unwrap().date_time.is_none());
    }
}
