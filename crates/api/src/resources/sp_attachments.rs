//! SharePoint list-item attachments named in a request body. Save and send find them the same way, so a body that
//! saves also sends: the seed documents send whole attachment objects (`id` in the vendor's format, `name`), and
//! clients send our own ids (the hex of the file name) or plain names.

use crate::ctx::site::not_found;
use crate::edge::error::ApiError;
use crate::wire::selection::AttachmentKey;
use repo::catalog::{Attachment, ItemRow};

/// The attachments of `row` that `opts.attachments` names (each entry an object with `id` and/or `name`/`fileName`,
/// or a plain string), in the order named; all of them when the body names none. 404 for an entry that matches no
/// attachment, 400 for an entry without any key.
pub fn chosen<'a>(row: &'a ItemRow, requested: Option<&[AttachmentKey]>) -> Result<Vec<&'a Attachment>, ApiError> {
    let requested = requested.unwrap_or_default();
    if requested.is_empty() {
        return Ok(row.state.attachments.iter().collect());
    }
    requested
        .iter()
        .map(|AttachmentKey(keys)| {
            keys.iter().find_map(|k| find(row, k)).ok_or_else(|| not_found("attachment", &keys[0]))
        })
        .collect()
}

/// One attachment of `row` by id (hex of the file name) or by file name.
pub fn find<'a>(row: &'a ItemRow, wanted: &str) -> Option<&'a Attachment> {
    let wanted = wanted.trim();
    let by_hex = hex::decode(wanted).ok().and_then(|b| String::from_utf8(b).ok());
    let attachments = &row.state.attachments;
    attachments
        .iter()
        .find(|a| by_hex.as_deref() == Some(a.file_name.as_str()))
        .or_else(|| attachments.iter().find(|a| a.file_name == wanted))
}
