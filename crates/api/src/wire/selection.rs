//! The options of save and send bodies (v6+ request bodies, and the content of the v2–v5 `save` / `sendTo` actions):
//! which items of a bulk path, how a single file is delivered, and where a send goes.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::edge::error::ApiError;
use crate::edge::lenient::de::non_empty;
use crate::edge::lenient::IdList;

/// The body of a save (`RESTSaveOptions` and its bulk forms). Every field is optional; a bulk path requires its list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTSaveOptions)]
pub struct SaveOptions {
    /// A single document or attachment: as a ZIP instead of its raw bytes (default false).
    pub as_zip: Option<bool>,
    /// `…/Documents/save`: `[{id}]` or ids.
    #[schema(value_type = Option<Vec<Object>>)]
    pub documents: Option<IdList>,
    /// `…/Folders/save`: `[{id}]` or ids.
    #[schema(value_type = Option<Vec<Object>>)]
    pub folders: Option<IdList>,
    /// `…/Attachments/save`: the attachments to include (none named: all).
    #[schema(value_type = Option<Vec<Object>>)]
    pub attachments: Option<Vec<AttachmentKey>>,
}

/// The body of a send (`RESTSendToOptions` and its bulk forms): the message and, for a bulk path, its items.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTSendToOptions)]
pub struct SendOptions {
    /// Recipient address (required).
    #[serde(deserialize_with = "non_empty")]
    pub to: String,
    /// Sender address (default: the email settings' `from`).
    pub from: Option<String>,
    pub subject: Option<String>,
    pub text: Option<String>,
    /// Send even when an item exceeds the message size limit (it is left out).
    pub skip_item_checks: Option<bool>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub documents: Option<IdList>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub folders: Option<IdList>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub attachments: Option<Vec<AttachmentKey>>,
}

/// The body of an email settings test (`…EmailSettings/SendTestEmail`, `…/SendTest`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestEmail {
    /// The recipient (required).
    #[serde(deserialize_with = "non_empty")]
    pub email: String,
}

/// The ids of a bulk path's list, which must be given: 400 naming `name` when it is not.
pub fn required_ids(list: Option<&IdList>, name: &str) -> Result<Vec<String>, ApiError> {
    list.map(|l| l.0.clone())
        .ok_or_else(|| ApiError::bad_request(format!("'{name}' is required: a list of objects with 'id'")))
}

/// One requested attachment: the keys it may be found by, in order (`id`, `name`, `fileName` of an object, or a plain
/// string), blank ones left out. An entry that is neither is "'attachments[i]' must be an object"; one without any
/// key, "'attachments[i].id' is required".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentKey(pub Vec<String>);

impl<'de> Deserialize<'de> for AttachmentKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AttachmentKey, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = AttachmentKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<AttachmentKey, E> {
        if s.trim().is_empty() {
            return Err(E::missing_field("id"));
        }
        Ok(AttachmentKey(vec![s.to_string()]))
    }

    // Names in any case, as everywhere in a body.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttachmentKey, A::Error> {
        let mut keys: [Option<String>; 3] = Default::default();
        while let Some(name) = map.next_key::<String>()? {
            match ["id", "name", "fileName"].iter().position(|k| k.eq_ignore_ascii_case(&name)) {
                Some(i) => keys[i] = map.next_value::<Option<String>>()?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let found: Vec<String> = keys.into_iter().flatten().filter(|k| !k.trim().is_empty()).collect();
        if found.is_empty() {
            return Err(de::Error::missing_field("id"));
        }
        Ok(AttachmentKey(found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::lenient::Body;

    fn save(body: &str) -> Result<SaveOptions, ApiError> {
        Body::parse(body.as_bytes())?.to_typed()
    }

    #[test]
    fn attachments_by_id_name_or_plain_string_in_any_case() {
        let body =
            r#"{"Attachments": [{"Name": "a.txt", "ID": "6162"}, {"FileName": "b.txt"}, "c.txt"], "asZip": "true"}"#;
        let o = save(body).unwrap();
        let keys: Vec<_> = o.attachments.unwrap().into_iter().map(|k| k.0).collect();
        // By id first, then by name, whatever the order in the body.
        assert_eq!(keys, vec![vec!["6162".to_string(), "a.txt".into()], vec!["b.txt".into()], vec!["c.txt".into()]]);
        assert_eq!(o.as_zip, Some(true));
    }

    #[test]
    fn a_bad_attachment_entry_is_named() {
        let e = save(r#"{"attachments": [{"size": 3}]}"#).unwrap_err();
        assert_eq!(e.message, "'attachments[0].id' is required");
        let e = save(r#"{"attachments": ["a.txt", " "]}"#).unwrap_err();
        assert_eq!(e.message, "'attachments[1].id' is required");
        let e = save(r#"{"attachments": [1]}"#).unwrap_err();
        assert_eq!(e.message, "'attachments[0]' must be an object");
        assert!(save("{}").unwrap().attachments.is_none());
    }

    #[test]
    fn a_send_needs_its_recipient() {
        let e = Body::parse(br#"{"subject": "s"}"#).unwrap().to_typed::<SendOptions>().unwrap_err();
        assert_eq!(e.message, "'to' is required");
        let o: SendOptions = Body::parse(br#"{"To": "a@b.c", "skipItemChecks": "1"}"#).unwrap().to_typed().unwrap();
        assert_eq!((o.to.as_str(), o.skip_item_checks), ("a@b.c", Some(true)));
    }

    #[test]
    fn a_bulk_path_requires_its_list() {
        let e = required_ids(None, "documents").unwrap_err();
        assert_eq!(e.message, "'documents' is required: a list of objects with 'id'");
        let o = save(r#"{"documents": [{"id": "a"}, "b"]}"#).unwrap();
        assert_eq!(required_ids(o.documents.as_ref(), "documents").unwrap(), vec!["a", "b"]);
    }
}
