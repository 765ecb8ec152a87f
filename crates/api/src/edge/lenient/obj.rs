//! [`Obj`]: a parsed body object read by name, for the bodies that stay free-form.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeOwned, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::datetime::parse_datetime;
use super::de::{from_map, OBJ_TOKEN};
use super::scalar::{parse_bool, parse_enum, truncate};
use super::syntax::parse_value;
use crate::edge::error::ApiError;

/// Parsing entry point for request bodies.
pub struct Body;

impl Body {
    /// Parses a body that must be a JSON object (empty or whitespace-only bodies give an empty object, as
    /// Newtonsoft bound them to default options).
    pub fn parse(bytes: &[u8]) -> Result<Obj, ApiError> {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Obj::default());
        }
        match parse_value(bytes)? {
            Value::Object(map) => Ok(Obj::new(map)),
            Value::Null => Ok(Obj::default()),
            _ => Err(ApiError::bad_request("The request body must be a JSON object.")),
        }
    }
}

/// A JSON object with case-insensitive, typed, lenient accessors.
///
/// Getters return `Ok(None)` for an absent or `null` property and `Err` (400 naming the property, with its path for
/// nested objects: `'explore.showDeleted' must be a boolean`) for a wrongly typed one. Unknown properties are simply
/// never asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Obj {
    map: Map<String, Value>,
    /// Path of this object inside the body (`"explore."`), for error messages.
    prefix: String,
}

impl Obj {
    /// Wraps a parsed JSON object.
    pub fn new(map: Map<String, Value>) -> Obj {
        Obj { map, prefix: String::new() }
    }

    /// Element `index` of a body that is an array, for its error texts (`'[2].type' is required`).
    pub fn element(map: Map<String, Value>, index: usize) -> Obj {
        Obj::at_path(map, &format!("[{index}]"))
    }

    /// An object found at `path` inside the body (`explore`, `documents[1]`), for its error texts.
    fn at_path(map: Map<String, Value>, path: &str) -> Obj {
        let prefix = if path.is_empty() { String::new() } else { format!("{path}.") };
        Obj { map, prefix }
    }

    /// Where this object sits in the body (`explore`; empty at the top).
    fn path(&self) -> &str {
        self.prefix.strip_suffix('.').unwrap_or(&self.prefix)
    }

    /// This object as typed options (see [`super::de`]); errors name fields by their path in the whole body.
    pub fn to_typed<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        from_map(self.map.clone(), self.path())
    }

    fn child(&self, name: &str, map: Map<String, Value>) -> Obj {
        Obj { map, prefix: format!("{}{}.", self.prefix, name) }
    }

    fn field(&self, name: &str) -> String {
        format!("'{}{}'", self.prefix, name)
    }

    /// The underlying map (original property spellings).
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// Property names as sent.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// No properties at all.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The raw value of `name` (exact spelling first, then any case). `Some(Null)` for an explicit `null`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).or_else(|| self.map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
    }

    /// The value of `name` unless absent or `null`.
    fn present(&self, name: &str) -> Option<&Value> {
        self.get(name).filter(|v| !v.is_null())
    }

    /// Whether `name` is present and not `null`.
    pub fn has(&self, name: &str) -> bool {
        self.present(name).is_some()
    }

    /// A string; numbers and booleans are accepted and given as their JSON text (Newtonsoft converted them).
    pub fn str(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(if *b { "True" } else { "False" }.to_string())),
            Some(_) => Err(ApiError::bad_request(format!("{} must be a string", self.field(name)))),
        }
    }

    /// A string that must be present and not empty.
    pub fn required_str(&self, name: &str) -> Result<String, ApiError> {
        match self.str(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ApiError::bad_request(format!("{} is required", self.field(name)))),
        }
    }

    /// A boolean: `true`, `"true"`, `"True"`, `1`, `0`, ….
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(v) => parse_bool(v)
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(format!("{} must be a boolean", self.field(name)))),
        }
    }

    /// A signed integer (numbers, or strings holding one).
    pub fn i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let bad = || ApiError::bad_request(format!("{} must be an integer", self.field(name)));
        match self.present(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
            Some(_) => Err(bad()),
        }
    }

    /// A non-negative integer.
    pub fn u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.i64(name) {
            Ok(Some(n)) if n < 0 => {
                Err(ApiError::bad_request(format!("{} must be a non-negative integer", self.field(name))))
            }
            Ok(n) => Ok(n.map(|n| n as u64)),
            Err(_) => Err(ApiError::bad_request(format!("{} must be a non-negative integer", self.field(name)))),
        }
    }

    /// An enum value matched case-insensitively, returned in the canonical spelling from `allowed`.
    pub fn enum_of(&self, name: &str, allowed: &[&'static str]) -> Result<Option<&'static str>, ApiError> {
        let bad = |got: &str| {
            ApiError::bad_request(format!(
                "{} must be one of: {} (got '{}')",
                self.field(name),
                allowed.join(", "),
                truncate(got)
            ))
        };
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => parse_enum(s, allowed).map(Some).ok_or_else(|| bad(s)),
            Some(v) => Err(bad(&v.to_string())),
        }
    }

    /// A date-time in any format [`parse_datetime`] accepts.
    pub fn datetime(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => parse_datetime(s).map(Some).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{} is not a valid date and time: '{}' (expected ISO 8601, yyyy.MM.dd HH:mm[:ss] or \
                     yyyy-MM-dd HH:mm:ss[.fff])",
                    self.field(name),
                    truncate(s)
                ))
            }),
            Some(_) => Err(ApiError::bad_request(format!("{} must be a date and time string", self.field(name)))),
        }
    }

    /// A UUID (any case, with or without braces).
    pub fn uuid(&self, name: &str) -> Result<Option<uuid::Uuid>, ApiError> {
        match self.str(name)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => uuid::Uuid::parse_str(s.trim().trim_start_matches('{').trim_end_matches('}'))
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("{} must be a GUID", self.field(name)))),
        }
    }

    /// A nested object.
    pub fn object(&self, name: &str) -> Result<Option<Obj>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(self.child(name, m.clone()))),
            Some(_) => Err(ApiError::bad_request(format!("{} must be an object", self.field(name)))),
        }
    }

    /// An array of raw values.
    pub fn array(&self, name: &str) -> Result<Option<Vec<Value>>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a.clone())),
            Some(_) => Err(ApiError::bad_request(format!("{} must be an array", self.field(name)))),
        }
    }

    /// An array of objects (`"Documents": [{"id": …}, …]`).
    pub fn objects(&self, name: &str) -> Result<Option<Vec<Obj>>, ApiError> {
        let Some(items) = self.array(name)? else { return Ok(None) };
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Object(m) => Ok(self.child(&format!("{name}[{i}]"), m)),
                _ => Err(ApiError::bad_request(format!("'{}{}[{}]' must be an object", self.prefix, name, i))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The item ids of a bulk body (`"Documents": [{"id": …}, …]`, plain strings accepted too): at least one, each
    /// non-empty; a 400 names the missing list or the position of a bad entry.
    pub fn id_list(&self, name: &str) -> Result<Vec<String>, ApiError> {
        let Some(items) = self.array(name)? else {
            return Err(ApiError::bad_request(format!(
                "{} is required: a list of objects with 'id'",
                self.field(name)
            )));
        };
        if items.is_empty() {
            return Err(ApiError::bad_request(format!("{} must name at least one item", self.field(name))));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            let id = match v {
                Value::String(s) => Some(s),
                Value::Object(m) => self.child(&format!("{name}[{i}]"), m).str("id")?,
                _ => None,
            };
            match id.filter(|s| !s.trim().is_empty()) {
                Some(id) => out.push(id),
                None => return Err(ApiError::bad_request(format!("'{}{name}[{i}].id' is required", self.prefix))),
            }
        }
        Ok(out)
    }

    /// The Action-era dispatcher (v2–v5 `POST …/Action`): the body must hold exactly one property, whose name (any
    /// case) selects one of `actions`; its value is an object or a `null` marker (given as an empty [`Obj`]).
    ///
    /// Returns the action's canonical name from `actions` and its options. 400 when the body is empty, names an
    /// unknown action (`Unknown action 'frobnicate'…`), or names more than one.
    pub fn action(&self, actions: &[&'static str]) -> Result<(&'static str, Obj), ApiError> {
        let expected = actions.join(", ");
        if self.map.is_empty() {
            return Err(ApiError::bad_request(format!("The request body must name one action: one of {expected}.")));
        }
        let mut found: Vec<(&'static str, &String, &Value)> = Vec::new();
        for (k, v) in &self.map {
            match parse_enum(k, actions) {
                Some(a) => found.push((a, k, v)),
                None => {
                    return Err(ApiError::bad_request(format!(
                        "Unknown action '{}'; expected one of: {expected}.",
                        truncate(k)
                    )))
                }
            }
        }
        if found.len() > 1 {
            let names: Vec<String> = found.iter().map(|(_, k, _)| format!("'{k}'")).collect();
            return Err(ApiError::bad_request(format!(
                "Only one action is allowed per request; found {}.",
                names.join(", ")
            )));
        }
        let (action, key, value) = found.remove(0);
        match value {
            Value::Null => Ok((action, self.child(key, Map::new()))),
            Value::Object(m) => Ok((action, self.child(key, m.clone()))),
            _ => Err(ApiError::bad_request(format!("'{key}' must be an object or null"))),
        }
    }
}

/// An `Obj` inside typed options keeps its place in the body (for its own error texts) through the pair the
/// lenient deserializer hands it; from any other deserializer it is an object at the top.
impl<'de> Deserialize<'de> for Obj {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Obj, D::Error> {
        deserializer.deserialize_newtype_struct(OBJ_TOKEN, ObjVisitor)
    }
}

struct ObjVisitor;

impl<'de> Visitor<'de> for ObjVisitor {
    type Value = Obj;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Obj, E> {
        Ok(Obj::default())
    }

    /// From this module's deserializer: the path, then the object.
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Obj, A::Error> {
        let path: String = seq.next_element()?.unwrap_or_default();
        let map: Map<String, Value> = seq.next_element()?.unwrap_or_default();
        Ok(Obj::at_path(map, &path))
    }

    /// From any other deserializer: a plain object at the top of the body.
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Obj, D::Error> {
        Map::<String, Value>::deserialize(d).map(Obj::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn obj(s: &str) -> Obj {
        Body::parse(s.as_bytes()).unwrap()
    }
    #[test]
    fn case_insensitive_typed_getters() {
        let o =
            obj(r#"{"ShowDeleted":"True","showAllVersions":"false","Type":"veod","n":"42","DocumentVersion":"last",
                       "flag":1,"empty":"","nul":null}"#);
        assert_eq!(o.bool("showDeleted").unwrap(), Some(true));
        assert_eq!(o.bool("SHOWALLVERSIONS").unwrap(), Some(false));
        assert_eq!(o.bool("flag").unwrap(), Some(true));
        assert_eq!(o.bool("nul").unwrap(), None);
        assert_eq!(o.bool("empty").unwrap(), None);
        assert_eq!(o.bool("missing").unwrap(), None);
        assert_eq!(o.enum_of("type", &["Vex", "Veod", "Vesp", "Vet"]).unwrap(), Some("Veod"));
        assert_eq!(o.enum_of("documentVersion", &["All", "Last"]).unwrap(), Some("Last"));
        assert_eq!(o.i64("N").unwrap(), Some(42));
        assert_eq!(o.str("n").unwrap().as_deref(), Some("42"));
        assert_eq!(o.str("flag").unwrap().as_deref(), Some("1"));
        assert!(!o.has("nul") && o.get("nul") == Some(&Value::Null));
    }

    #[test]
    fn typed_errors_name_the_field() {
        let o = obj(r#"{"showDeleted":"yes","type":"vexx","n":"x","o":[],"explore":{"showAllVersions":"maybe"}}"#);
        assert_eq!(o.bool("showDeleted").unwrap_err().message, "'showDeleted' must be a boolean");
        let e = o.enum_of("type", &["Vex", "Veod"]).unwrap_err();
        assert_eq!(e.message, "'type' must be one of: Vex, Veod (got 'vexx')");
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(o.i64("n").unwrap_err().message, "'n' must be an integer");
        assert_eq!(o.object("o").unwrap_err().message, "'o' must be an object");
        assert_eq!(o.required_str("missing").unwrap_err().message, "'missing' is required");
        let ex = o.object("explore").unwrap().unwrap();
        assert_eq!(ex.bool("showallversions").unwrap_err().message, "'explore.showallversions' must be a boolean");
        assert!(o.u64("n").is_err());
        let neg = obj(r#"{"n":-1}"#);
        assert_eq!(neg.u64("n").unwrap_err().message, "'n' must be a non-negative integer");
    }

    #[test]
    fn actions() {
        const A: &[&str] = &["explore", "stop", "save", "restoreToOriginalLocation", "sendTo", "copyTo"];
        let (name, o) = obj(r#"{"save":null}"#).action(A).unwrap();
        assert_eq!(name, "save");
        assert!(o.is_empty());
        let (name, o) =
            obj(r#"{ "restoretoOriginallocation": {"userName": "j", "userPassword": "p" } }"#).action(A).unwrap();
        assert_eq!(name, "restoreToOriginalLocation");
        assert_eq!(o.str("username").unwrap().as_deref(), Some("j"));
        assert_eq!(o.bool("x").unwrap(), None);
        let e = obj(r#"{"frobnicate":{}}"#).action(A).unwrap_err();
        assert!(e.message.contains("Unknown action 'frobnicate'"), "{}", e.message);
        let e = obj(r#"{"save":null,"stop":null}"#).action(A).unwrap_err();
        assert!(e.message.contains("Only one action"), "{}", e.message);
        let e = obj("").action(A).unwrap_err();
        assert!(e.message.contains("must name one action"), "{}", e.message);
        let e = obj(r#"{"save":"true"}"#).action(A).unwrap_err();
        assert_eq!(e.message, "'save' must be an object or null");
        let (_, o) = obj(r#"{"explore":{"showDeleted":"x"}}"#).action(A).unwrap();
        assert_eq!(o.bool("showDeleted").unwrap_err().message, "'explore.showDeleted' must be a boolean");
    }

    #[test]
    fn body_must_be_object() {
        assert!(Body::parse(b"  ").unwrap().is_empty());
        assert!(Body::parse(b"null").unwrap().is_empty());
        assert_eq!(Body::parse(b"[1]").unwrap_err().message, "The request body must be a JSON object.");
        let e = Body::parse(b"{\"a\":").unwrap_err();
        assert!(e.message.contains("line 1, column 6"), "{}", e.message);
    }

    #[test]
    fn objects_arrays_and_uuids() {
        let o = obj(r#"{"Documents":[{"Id":"a"},{"id":"b"},],"bad":[1],"g":"{6F9619FF-8B86-D011-B42D-00C04FC964FF}"}"#);
        let docs = o.objects("documents").unwrap().unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].str("ID").unwrap().as_deref(), Some("b"));
        assert_eq!(o.objects("bad").unwrap_err().message, "'bad[0]' must be an object");
        assert!(o.uuid("g").unwrap().is_some());
        assert_eq!(o.uuid("documents").unwrap_err().message, "'documents' must be a string");
    }

    #[test]
    fn datetimes() {
        let utc = |y, mo, d, h, mi, s| Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap();
        let o = obj(r#"{"DateTime":"2021.04.27 10:49","bad":"x"}"#);
        assert_eq!(o.datetime("datetime").unwrap(), Some(utc(2021, 4, 27, 10, 49, 0)));
        assert!(o.datetime("bad").unwrap_err().message.starts_with("'bad' is not a valid date and time"));
    }

    #[test]
    fn bulk_id_lists() {
        let o = Body::parse(br#"{"Documents":[{"Id":"a"},"b",{"id":"c"}]}"#).unwrap();
        assert_eq!(o.id_list("documents").unwrap(), vec!["a", "b", "c"]);
        let o = Body::parse(br#"{"documents":[{"id":"a"},{"x":1}]}"#).unwrap();
        assert!(o.id_list("documents").unwrap_err().message.contains("'documents[1].id' is required"));
        let o = Body::parse(br#"{"documents":[{"id":"a"}, 7]}"#).unwrap();
        assert!(o.id_list("documents").unwrap_err().message.contains("'documents[1].id'"));
        let o = Body::parse(br#"{"documents":[]}"#).unwrap();
        assert!(o.id_list("documents").unwrap_err().message.contains("at least one"));
        let o = Body::parse(br#"{}"#).unwrap();
        assert!(o.id_list("documents").unwrap_err().message.contains("'documents' is required"));
        let o = Body::parse(br#"{"documents":"a"}"#).unwrap();
        assert!(o.id_list("documents").unwrap_err().message.contains("must be an array"));
    }
}
