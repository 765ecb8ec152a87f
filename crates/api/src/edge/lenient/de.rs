//! serde over the lenient parser: typed options with exactly [`Obj`]'s leniency, so handlers receive plain structs.
//!
//! ```ignore
//! #[derive(Deserialize)]
//! #[serde(rename_all = "camelCase")]
//! pub struct ExploreOptions {
//!     #[serde(default, deserialize_with = "lenient::datetime::option")]
//!     pub date_time: Option<DateTime<Utc>>,
//!     pub show_deleted: Option<bool>,
//!     pub r#type: Option<SessionType>,          // enum SessionType { Vex, Veod, … }: any case
//! }
//! ```
//!
//! The rules, each the same as the [`Obj`] getter a handler used before:
//! * property names match the struct's (serialised) field names in any case, an exact spelling first; properties the
//!   struct does not name are ignored, and `null` counts as absent;
//! * `bool` takes `true`, `"True"`, `"false"`, `1`, `0`; integers and floats take numbers or strings holding one;
//!   strings take numbers and booleans as their text (`True`/`False`, as .NET wrote them);
//! * `Option<T>` is `None` for `null`, absent, and a blank string;
//! * unit enum variants match in any case; a whole body selects a variant by its only key (the v2–v5 `/Action` body,
//!   `{"save": null}`, `{"SendTo": {…}}`), with [`Obj::action`]'s error texts;
//! * date-times through [`crate::edge::lenient::datetime::option`], GUIDs through [`guid`], required strings through
//!   [`non_empty`], id lists through [`IdList`], free-form objects as [`Obj`] (which keeps its place in the body for
//!   its own error texts);
//! * a partial update (PUT of settings, where `null` clears a value and an absent property keeps it) is read as
//!   [`Patch<T>`]: in `T`'s own properties `null` reaches the field instead of counting as absent, and [`nullable`]
//!   turns it into `Some(None)` (absent stays `None`).
//!
//! Errors are 400 with [`Obj`]'s texts, naming the field by its path in the body: `'explore.showDeleted' must be a
//! boolean`, `'documents[1].id' is required`, `'type' must be one of: Vex, Veod (got 'vexx')`.
//!
//! Two places where Obj read more finely than serde can ask: a blank string is `None` for every `Option` (Obj's
//! object getter gave an error, its string getter `Some("")`, which [`text`] keeps), and a missing [`IdList`] is only "is required" (Obj
//! added ": a list of objects with 'id'"). `#[serde(flatten)]` is not supported (serde would then read the object as
//! a map, without the case-insensitive names).
//!
//! [`Obj`]: super::Obj
//! [`Obj::action`]: super::Obj::action
//! [`Obj::str`]: super::Obj::str
//! [`Obj::uuid`]: super::Obj::uuid
//! [`Obj::i64`]: super::Obj::i64
//! [`Obj::u64`]: super::Obj::u64
//! [`Obj::id_list`]: super::Obj::id_list
//! [`Obj::required_str`]: super::Obj::required_str
//! [`Obj::to_typed`]: super::Obj::to_typed

use std::fmt;
use std::sync::LazyLock;

use serde::de::value::{BorrowedStrDeserializer, SeqDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::datetime::{parse_datetime, DATETIME_TOKEN};
use super::scalar::{parse_bool, parse_enum, truncate};
use crate::edge::error::ApiError;

/// Deserialises `T` from a body object found at `path` in the body (`explore`; empty for the whole body).
pub(super) fn from_map<T: DeserializeOwned>(map: Map<String, Value>, path: &str) -> Result<T, ApiError> {
    let value = Value::Object(map);
    Ok(T::deserialize(ValueDe::root(&value, path.to_string(), Source::Body)).map_err(|e| e.at(""))?)
}

/// Deserialises `T` from decoded query pairs; the first pair of each name (any case) counts, as the query getters
/// read them.
pub(crate) fn from_query_pairs<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, ApiError> {
    let mut map = Map::new();
    for (k, v) in pairs {
        if !map.keys().any(|seen| seen.eq_ignore_ascii_case(k)) {
            map.insert(k.clone(), Value::String(v.clone()));
        }
    }
    let value = Value::Object(map);
    Ok(T::deserialize(ValueDe::root(&value, String::new(), Source::Query)).map_err(|e| e.at(""))?)
}

/// Where the values come from: a query's blank value is no absent one, and its text for a bad date-time is shorter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Body,
    Query,
}

/// Private newtype names by which [`Obj`], [`IdList`] and the date-time helpers ask this deserializer for their
/// special handling (other deserializers treat them as plain newtypes).
pub(super) const OBJ_TOKEN: &str = "$vault365::lenient::Obj";
const ID_LIST_TOKEN: &str = "$vault365::lenient::IdList";
const PATCH_TOKEN: &str = "$vault365::lenient::Patch";

/// A deserialisation error: a finished message, or a predicate (`must be a GUID`) still waiting for the name of the
/// field it is about. serde's derive and the helpers only know the predicate; the deserializer knows the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError(Message);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Message {
    Located(String),
    /// `child` is set for a field missing from the object at the path where the error is located.
    Predicate {
        child: Option<String>,
        predicate: String,
    },
}

impl DeError {
    /// Names the field at `path` (if nobody closer did).
    fn at(self, path: &str) -> DeError {
        match self.0 {
            Message::Located(_) => self,
            Message::Predicate { child, predicate } => {
                let name = match child {
                    Some(c) => join(path, &c),
                    None => path.to_string(),
                };
                if name.is_empty() {
                    DeError(Message::Located(predicate))
                } else {
                    DeError(Message::Located(format!("'{name}' {predicate}")))
                }
            }
        }
    }

    fn located(message: String) -> DeError {
        DeError(Message::Located(message))
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Message::Located(m) => f.write_str(m),
            Message::Predicate { child: Some(c), predicate } => write!(f, "'{c}' {predicate}"),
            Message::Predicate { child: None, predicate } => f.write_str(predicate),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    /// A helper's message is the predicate about the field: `is not a valid date and time: …`.
    fn custom<T: fmt::Display>(msg: T) -> DeError {
        DeError(Message::Predicate { child: None, predicate: msg.to_string() })
    }

    fn invalid_type(_: de::Unexpected<'_>, expected: &dyn de::Expected) -> DeError {
        de::Error::custom(format_args!("must be {expected}"))
    }

    fn invalid_value(_: de::Unexpected<'_>, expected: &dyn de::Expected) -> DeError {
        de::Error::custom(format_args!("must be {expected}"))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> DeError {
        de::Error::custom(format_args!("must be one of: {} (got '{}')", expected.join(", "), truncate(variant)))
    }

    fn missing_field(field: &'static str) -> DeError {
        DeError(Message::Predicate { child: Some(field.to_string()), predicate: "is required".to_string() })
    }

    fn duplicate_field(field: &'static str) -> DeError {
        DeError(Message::Predicate { child: Some(field.to_string()), predicate: "is given twice".to_string() })
    }
}

impl From<DeError> for ApiError {
    fn from(e: DeError) -> ApiError {
        ApiError::bad_request(e.at("").to_string())
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The content of `{"save": null}`: options from an empty object.
static EMPTY_OBJECT: LazyLock<Value> = LazyLock::new(|| Value::Object(Map::new()));

/// The deserializer: one value of the parsed body and its path in it (`explore.showDeleted`, `documents[1]`).
struct ValueDe<'a> {
    value: &'a Value,
    path: String,
    source: Source,
    /// The whole body (or the whole object handed to [`Obj::to_typed`]): only there does an object name an action.
    root: bool,
    /// Read as a [`Patch`]: the struct's properties sent as `null` reach their fields.
    nulls: bool,
}

impl<'a> ValueDe<'a> {
    fn root(value: &'a Value, path: String, source: Source) -> ValueDe<'a> {
        ValueDe { value, path, source, root: true, nulls: false }
    }

    fn new(value: &'a Value, path: String, source: Source) -> ValueDe<'a> {
        ValueDe { value, path, source, root: false, nulls: false }
    }

    fn child(&self, value: &'a Value, path: String) -> ValueDe<'a> {
        ValueDe::new(value, path, self.source)
    }

    fn fail(&self, predicate: impl Into<String>) -> DeError {
        DeError(Message::Predicate { child: None, predicate: predicate.into() }).at(&self.path)
    }

    /// [`Obj::i64`]: a number without fraction, or a string holding one.
    fn integer(&self) -> Result<i64, DeError> {
        let n = match self.value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        n.ok_or_else(|| self.fail("must be an integer"))
    }

    /// [`Obj::u64`]: any failure, and a negative number, is "must be a non-negative integer".
    fn unsigned(&self) -> Result<u64, DeError> {
        match self.integer() {
            Ok(n) if n >= 0 => Ok(n as u64),
            _ => Err(self.fail("must be a non-negative integer")),
        }
    }

    fn signed_as<T: TryFrom<i64>>(&self) -> Result<T, DeError> {
        T::try_from(self.integer()?).map_err(|_| self.fail("must be an integer"))
    }

    fn unsigned_as<T: TryFrom<u64>>(&self) -> Result<T, DeError> {
        T::try_from(self.unsigned()?).map_err(|_| self.fail("must be a non-negative integer"))
    }

    fn float(&self) -> Result<f64, DeError> {
        let n = match self.value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        };
        n.ok_or_else(|| self.fail("must be a number"))
    }

    /// The v2–v5 `/Action` body ([`Obj::action`]): exactly one property, naming a variant in any case; its value, an
    /// object or `null`, holds the variant's options.
    fn action<V: Visitor<'a>>(
        self,
        map: &'a Map<String, Value>,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let expected = variants.join(", ");
        if map.is_empty() {
            return Err(DeError::located(format!("The request body must name one action: one of {expected}.")));
        }
        let mut found = Vec::new();
        for (key, value) in map {
            match parse_enum(key, variants) {
                Some(variant) => found.push((variant, key, value)),
                None => {
                    return Err(DeError::located(format!(
                        "Unknown action '{}'; expected one of: {expected}.",
                        truncate(key)
                    )))
                }
            }
        }
        if found.len() > 1 {
            let names: Vec<String> = found.iter().map(|(_, k, _)| format!("'{k}'")).collect();
            return Err(DeError::located(format!(
                "Only one action is allowed per request; found {}.",
                names.join(", ")
            )));
        }
        let (variant, key, value) = found[0];
        // The options' errors name the action as it was sent (`'Explore.showDeleted' must be a boolean`).
        let path = join(&self.path, key);
        let content = match value {
            Value::Null => &*EMPTY_OBJECT,
            Value::Object(_) => value,
            _ => return Err(DeError::located(format!("'{path}' must be an object or null"))),
        };
        visitor.visit_enum(VariantDe { variant, content: Some(self.child(content, path)) })
    }
}

impl<'a> de::Deserializer<'a> for ValueDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(SeqDe::new(&self, items)),
            Value::Object(map) => visitor.visit_map(MapDe::all(&self, map)),
        }
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match parse_bool(self.value) {
            Some(b) => visitor.visit_bool(b),
            None => Err(self.fail("must be a boolean")),
        }
    }

    fn deserialize_i8<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_i8(self.signed_as()?)
    }

    fn deserialize_i16<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_i16(self.signed_as()?)
    }

    fn deserialize_i32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_i32(self.signed_as()?)
    }

    fn deserialize_i64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_i64(self.integer()?)
    }

    fn deserialize_u8<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_u8(self.unsigned_as()?)
    }

    fn deserialize_u16<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_u16(self.unsigned_as()?)
    }

    fn deserialize_u32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_u32(self.unsigned_as()?)
    }

    fn deserialize_u64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_u64(self.unsigned()?)
    }

    fn deserialize_f32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_f32(self.float()? as f32)
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_f64(self.float()?)
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(s) if s.chars().count() == 1 => visitor.visit_char(s.chars().next().unwrap_or_default()),
            _ => Err(self.fail("must be a single character")),
        }
    }

    /// [`Obj::str`]: numbers and booleans are read as their text.
    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Number(n) => visitor.visit_string(n.to_string()),
            Value::Bool(b) => visitor.visit_borrowed_str(if *b { "True" } else { "False" }),
            _ => Err(self.fail("must be a string")),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
            _ => Err(self.fail("must be a string")),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            // The query getters treat only an empty value as absent (`?limit=`); a blank one is then a bad value.
            Value::String(s) if s.is_empty() || (self.source == Source::Body && s.trim().is_empty()) => {
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(self, name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        match name {
            OBJ_TOKEN => match self.value {
                Value::Object(_) => visitor.visit_seq(ObjSeq { de: Some(self), path_given: false }),
                Value::Null => visitor.visit_unit(),
                _ => Err(self.fail("must be an object")),
            },
            DATETIME_TOKEN => match self.value {
                Value::Null => visitor.visit_none(),
                Value::String(s) if s.trim().is_empty() => visitor.visit_none(),
                Value::String(s) if self.source == Source::Query && parse_datetime(s).is_none() => {
                    Err(self.fail("is not a valid date and time"))
                }
                Value::String(s) => visitor.visit_borrowed_str(s),
                _ => Err(self.fail("must be a date and time string")),
            },
            ID_LIST_TOKEN => self.id_list(visitor),
            PATCH_TOKEN => visitor.visit_newtype_struct(ValueDe { nulls: true, ..self }),
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Array(items) => visitor.visit_seq(SeqDe::new(&self, items)),
            _ => Err(self.fail("must be an array")),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Object(map) => visitor.visit_map(MapDe::all(&self, map)),
            _ => Err(self.fail("must be an object")),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Value::Object(map) => {
                let path = self.path.clone();
                visitor.visit_map(MapDe::fields(&self, map, fields)).map_err(|e| e.at(&path))
            }
            _ => Err(self.fail("must be an object")),
        }
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let one_of = |got: &str| format!("must be one of: {} (got '{}')", variants.join(", "), truncate(got));
        match self.value {
            Value::Object(map) if self.root => self.action(map, variants, visitor),
            Value::String(s) => match parse_enum(s, variants) {
                Some(variant) => visitor.visit_enum(VariantDe { variant, content: None }),
                None => Err(self.fail(one_of(s))),
            },
            other => Err(self.fail(one_of(&other.to_string()))),
        }
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

impl<'a> ValueDe<'a> {
    /// [`Obj::id_list`]: at least one entry, each a non-empty string or an object with a non-empty `id`.
    fn id_list<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let Value::Array(items) = self.value else {
            return Err(self.fail("must be an array"));
        };
        if items.is_empty() {
            return Err(self.fail("must name at least one item"));
        }
        let mut ids = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let entry = format!("{}[{i}]", self.path);
            let id = match item {
                Value::String(s) => Some(s.clone()),
                Value::Object(m) => {
                    let id =
                        m.get("id").or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case("id")).map(|(_, v)| v));
                    match id {
                        None | Some(Value::Null) => None,
                        Some(Value::String(s)) => Some(s.clone()),
                        Some(Value::Number(n)) => Some(n.to_string()),
                        Some(Value::Bool(b)) => Some(if *b { "True" } else { "False" }.to_string()),
                        Some(_) => return Err(DeError::located(format!("'{entry}.id' must be a string"))),
                    }
                }
                _ => None,
            };
            match id.filter(|s| !s.trim().is_empty()) {
                Some(id) => ids.push(id),
                None => return Err(DeError::located(format!("'{entry}.id' is required"))),
            }
        }
        visitor.visit_seq(SeqDeserializer::new(ids.into_iter()))
    }
}

/// The items of an array; each error names its index (`documents[1]`).
struct SeqDe<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    path: String,
    source: Source,
}

impl<'a> SeqDe<'a> {
    fn new(parent: &ValueDe<'a>, items: &'a [Value]) -> SeqDe<'a> {
        SeqDe { items: items.iter().enumerate(), path: parent.path.clone(), source: parent.source }
    }
}

impl<'a> de::SeqAccess<'a> for SeqDe<'a> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        let Some((i, value)) = self.items.next() else { return Ok(None) };
        let path = format!("{}[{i}]", self.path);
        let de = ValueDe::new(value, path.clone(), self.source);
        seed.deserialize(de).map(Some).map_err(|e| e.at(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The properties of an object: for a struct, its fields in any case (exact spelling first, `null` as absent,
/// unknown properties skipped); for a map, all properties as sent.
struct MapDe<'a> {
    entries: std::vec::IntoIter<(&'a str, &'a Value)>,
    value: Option<(&'a str, &'a Value)>,
    path: String,
    source: Source,
}

impl<'a> MapDe<'a> {
    fn all(parent: &ValueDe<'a>, map: &'a Map<String, Value>) -> MapDe<'a> {
        let entries: Vec<(&'a str, &'a Value)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
        MapDe { entries: entries.into_iter(), value: None, path: parent.path.clone(), source: parent.source }
    }

    fn fields(parent: &ValueDe<'a>, map: &'a Map<String, Value>, fields: &'static [&'static str]) -> MapDe<'a> {
        let mut used: Vec<&'a str> = Vec::new();
        let mut entries = Vec::new();
        for &field in fields {
            let found = map
                .get_key_value(field)
                .filter(|(k, _)| !used.contains(&k.as_str()))
                .or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(field) && !used.contains(&k.as_str())));
            if let Some((key, value)) = found {
                used.push(key.as_str());
                if !value.is_null() || parent.nulls {
                    entries.push((field, value));
                }
            }
        }
        MapDe { entries: entries.into_iter(), value: None, path: parent.path.clone(), source: parent.source }
    }
}

impl<'a> de::MapAccess<'a> for MapDe<'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some((key, value));
        seed.deserialize(BorrowedStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, value)) = self.value.take() else {
            return Err(de::Error::custom("value asked for before its key"));
        };
        let path = join(&self.path, key);
        seed.deserialize(ValueDe::new(value, path.clone(), self.source)).map_err(|e| e.at(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum variant chosen by name; `content` is the action's options object (`None` for a plain string value).
struct VariantDe<'a> {
    variant: &'static str,
    content: Option<ValueDe<'a>>,
}

impl<'a> de::EnumAccess<'a> for VariantDe<'a> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'a>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let name: StrDeserializer<'_, DeError> = self.variant.into_deserializer();
        Ok((seed.deserialize(name)?, self))
    }
}

impl<'a> de::VariantAccess<'a> for VariantDe<'a> {
    type Error = DeError;

    /// `{"stop": null}` and `{"stop": {…}}` alike: Obj::action gave options nobody read.
    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, DeError> {
        let de = self.content.unwrap_or_else(|| ValueDe::new(&EMPTY_OBJECT, String::new(), Source::Body));
        let path = de.path.clone();
        seed.deserialize(de).map_err(|e| e.at(&path))
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, _visitor: V) -> Result<V::Value, DeError> {
        Err(de::Error::custom(format_args!("'{}' cannot take a list of options", self.variant)))
    }

    fn struct_variant<V: Visitor<'a>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, DeError> {
        let de = self.content.unwrap_or_else(|| ValueDe::new(&EMPTY_OBJECT, String::new(), Source::Body));
        de::Deserializer::deserialize_struct(de, "", fields, visitor)
    }
}

/// How [`Obj`] receives its object together with its place in the body: a pair (path, object).
struct ObjSeq<'a> {
    de: Option<ValueDe<'a>>,
    path_given: bool,
}

impl<'a> de::SeqAccess<'a> for ObjSeq<'a> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        let Some(de) = self.de.take() else { return Ok(None) };
        if self.path_given {
            return seed.deserialize(de).map(Some);
        }
        self.path_given = true;
        let path: StrDeserializer<'_, DeError> = de.path.as_str().into_deserializer();
        let out = seed.deserialize(path).map(Some);
        self.de = Some(de);
        out
    }
}

/// The item ids of a bulk body (`"Documents": [{"id": …}, "…"]`), as [`Obj::id_list`] read them: at least one, each
/// non-empty; an error names the list or the position of a bad entry (`'documents[1].id' is required`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdList(pub Vec<String>);

impl<'de> Deserialize<'de> for IdList {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<IdList, D::Error> {
        struct Ids;
        impl<'de> Visitor<'de> for Ids {
            type Value = IdList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<IdList, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = seq.next_element::<String>()? {
                    ids.push(id);
                }
                Ok(IdList(ids))
            }

            fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<IdList, D::Error> {
                d.deserialize_seq(self)
            }
        }
        deserializer.deserialize_newtype_struct(ID_LIST_TOKEN, Ids)
    }
}

/// A partial update: `T` read with its own properties' `null` values handed to their fields (elsewhere `null` counts
/// as absent), so a field can tell "clear it" (`null`, or a blank string) from "keep it" (absent) with [`nullable`].
/// Every field of `T` must then take `null`: an `Option`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Patch<T>, D::Error> {
        struct Fields<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Fields<T> {
            type Value = Patch<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Patch<T>, D::Error> {
                T::deserialize(d).map(Patch)
            }
        }
        deserializer.deserialize_newtype_struct(PATCH_TOKEN, Fields(std::marker::PhantomData))
    }
}

/// A property of a [`Patch`]: `None` when absent, `Some(None)` when `null` or blank (clear it), `Some(Some(v))` when
/// set: `#[serde(default, deserialize_with = "lenient::de::nullable")]`.
pub fn nullable<'de, D: de::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A string that must be present and not empty, as [`Obj::required_str`] read it:
/// `#[serde(deserialize_with = "lenient::de::non_empty")]`.
pub fn non_empty<'de, D: de::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Err(de::Error::custom("is required"));
    }
    Ok(s)
}

/// A string exactly as [`Obj::str`] read it, blank included (an `Option<String>` field makes a blank string `None`):
/// `#[serde(default, deserialize_with = "lenient::de::text")]`.
pub fn text<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// GUIDs as [`Obj::uuid`] read them (any case, braces allowed, blank = absent):
/// `#[serde(default, deserialize_with = "lenient::de::guid::option")]`.
pub mod guid {
    use std::fmt;

    use serde::de::{self, Deserializer, Visitor};
    use uuid::Uuid;

    /// A required GUID.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Uuid, D::Error> {
        option(d)?.ok_or_else(|| de::Error::custom("is required"))
    }

    /// An optional GUID (with `#[serde(default)]`).
    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Uuid>, D::Error> {
        d.deserialize_string(Guid)
    }

    struct Guid;

    impl Visitor<'_> for Guid {
        type Value = Option<Uuid>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Option<Uuid>, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Option<Uuid>, E> {
            Ok(None)
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<Uuid>, E> {
            if s.trim().is_empty() {
                return Ok(None);
            }
            Uuid::parse_str(s.trim().trim_start_matches('{').trim_end_matches('}'))
                .map(Some)
                .map_err(|_| E::custom("must be a GUID"))
        }
    }
}

#[cfg(test)]
mod tests;
