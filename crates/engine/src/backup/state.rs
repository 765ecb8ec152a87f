//! Graph objects → catalog item states.

use chrono::{DateTime, Utc};
use m365::types::{DriveItem, IdentitySet, ListItem};
use repo::catalog::ItemState;
use serde_json::{json, Value};

pub(crate) fn time(s: &Option<String>) -> Option<DateTime<Utc>> {
    s.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

pub(crate) fn who(i: &Option<IdentitySet>) -> Option<String> {
    let i = i.as_ref()?;
    i.user
        .as_ref()
        .and_then(|u| u.email.clone().or(u.display_name.clone()))
        .or_else(|| i.application.as_ref().and_then(|a| a.display_name.clone()))
}

/// The state of a drive item; `root_id` maps children of the root to `parent_id: None`.
pub(crate) fn drive_item_state(item: &DriveItem, root_id: &str, content_ref: Option<Vec<u8>>) -> ItemState {
    let parent = item.parent_id().filter(|p| *p != root_id).map(str::to_string);
    let mut metadata = json!({});
    if let Some(fs) = &item.file_system_info {
        metadata["fileSystemInfo"] = serde_json::to_value(fs).unwrap_or(Value::Null);
    }
    if let Some(mime) = item.file.as_ref().and_then(|f| f.mime_type.clone()) {
        metadata["mimeType"] = json!(mime);
    }
    if item.shared.is_some() {
        metadata["shared"] = json!(true);
    }
    ItemState {
        name: item.name.clone().unwrap_or_default(),
        parent_id: parent,
        is_folder: item.is_folder(),
        size: item.size.unwrap_or(0) as i64,
        quick_xor_hash: item.quick_xor().map(str::to_string),
        etag: item.e_tag.clone(),
        ctag: item.c_tag.clone(),
        created_at: time(&item.created_date_time),
        created_by: who(&item.created_by),
        modified_at: time(&item.last_modified_date_time),
        modified_by: who(&item.last_modified_by),
        web_url: item.web_url.clone(),
        content_ref,
        metadata,
        fields: None,
        attachments: Vec::new(),
    }
}

/// The state of a generic list item (attachments are filled in by the caller).
pub(crate) fn list_item_state(item: &ListItem) -> ItemState {
    let fields = item.fields.clone().map(Value::Object);
    let title = item
        .fields
        .as_ref()
        .and_then(|f| f.get("Title").or_else(|| f.get("FileLeafRef")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| item.id.clone());
    ItemState {
        name: title,
        parent_id: None,
        is_folder: false,
        size: 0,
        quick_xor_hash: None,
        etag: item.e_tag.clone(),
        ctag: None,
        created_at: time(&item.created_date_time),
        created_by: who(&item.created_by),
        modified_at: time(&item.last_modified_date_time),
        modified_by: who(&item.last_modified_by),
        web_url: item.web_url.clone(),
        content_ref: None,
        metadata: Value::Null,
        fields,
        attachments: Vec::new(),
    }
}
