//! Writing to OneDrive / document libraries (restore, copy): uploads, folders, metadata and sharing.
//!
//! * [`upload_new`] puts a file under a parent folder: one `PUT …:/{name}:/content` up to [`SIMPLE_UPLOAD_MAX`]
//!   (4 MiB), an upload session above it. The `@microsoft.graph.conflictBehavior` decides what a name clash does.
//! * [`upload_version`] writes new content into an existing file (same id, same sharing, one more version).
//! * Upload sessions ([`upload_via_session`]) send fragments that are multiples of 320 KiB ([`FRAGMENT`]); a fragment
//!   answered 416 resumes from the server's `nextExpectedRanges`; an expired session (404) is created anew and the
//!   upload restarts (at most [`SESSION_ATTEMPTS`] sessions).
//! * [`create_folder`] creates a child folder (one created concurrently by someone else is used instead).
//! * [`move_item`] renames/moves an item (same id and history); [`set_file_system_info`], [`invite`],
//!   [`create_link`]: metadata and sharing.

use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{error_of, json_or_error, Call, GraphClient};
use crate::error::{M365Error, Result};

/// Largest body sent with a simple upload.
pub const SIMPLE_UPLOAD_MAX: usize = 4 * 1024 * 1024;
/// Fragment size of upload sessions (a multiple of 320 KiB, as Graph requires).
pub const FRAGMENT: usize = 10 * 327_680;
/// Upload sessions tried per file before giving up.
pub const SESSION_ATTEMPTS: usize = 3;

/// Characters escaped in a path segment.
const SEGMENT: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'/').add(b':').add(b'<').add(b'>').add(b'?').add(b'\\');

/// A name as one path segment.
pub fn encode_segment(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

/// What a name clash does when a new file is uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Overwrite the existing file (a new version of it).
    Replace,
    /// Fail with 409.
    Fail,
    /// Graph picks a new name.
    Rename,
}

impl Conflict {
    fn as_str(self) -> &'static str {
        match self {
            Conflict::Replace => "replace",
            Conflict::Fail => "fail",
            Conflict::Rename => "rename",
        }
    }
}

/// An item by id; `None` when it does not exist (404).
pub async fn get_item(client: &GraphClient, drive: &str, item: &str) -> Result<Option<Value>> {
    optional(client.get_json(&format!("/drives/{drive}/items/{item}")).await)
}

/// A child of `parent` (`"root"` for the drive's root) by name; `None` when there is none.
pub async fn get_child(client: &GraphClient, drive: &str, parent: &str, name: &str) -> Result<Option<Value>> {
    optional(client.get_json(&format!("/drives/{drive}/items/{parent}:/{}:", encode_segment(name))).await)
}

fn optional(r: Result<Value>) -> Result<Option<Value>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates folder `name` under `parent`: its id and `true`; when a folder of that name appeared meanwhile (409),
/// that folder's id and `false`. The caller has looked the name up already (see `engine::restore_view`), so this
/// does not ask again first.
pub async fn create_folder(client: &GraphClient, drive: &str, parent: &str, name: &str) -> Result<(String, bool)> {
    let body = json!({"name": name, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"});
    match client.send_json(Method::POST, &format!("/drives/{drive}/items/{parent}/children"), &body).await {
        Ok(v) => Ok((id_of(&v)?, true)),
        // Created meanwhile by someone else: use it, if it is a folder.
        Err(e) if e.status() == Some(409) => match get_child(client, drive, parent, name).await? {
            Some(v) if v.get("folder").is_some() => Ok((id_of(&v)?, false)),
            Some(_) => Err(M365Error::Invalid(format!("'{name}' exists and is not a folder"))),
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

fn id_of(v: &Value) -> Result<String> {
    v.get("id").and_then(Value::as_str).map(str::to_string).ok_or_else(|| M365Error::Invalid("item without id".into()))
}

/// Uploads a new file `name` under `parent`; returns the resulting driveItem.
pub async fn upload_new(
    client: &GraphClient,
    drive: &str,
    parent: &str,
    name: &str,
    data: Bytes,
    conflict: Conflict,
) -> Result<Value> {
    let base = format!("/drives/{drive}/items/{parent}:/{}:", encode_segment(name));
    if data.len() <= SIMPLE_UPLOAD_MAX {
        let mut call = client.graph_call(
            Method::PUT,
            &format!("{base}/content?@microsoft.graph.conflictBehavior={}", conflict.as_str()),
        );
        call.body = Some(data);
        call.headers.push(("content-type", "application/octet-stream".into()));
        return json_or_error(client.send(call).await?).await;
    }
    let body = json!({"item": {"@microsoft.graph.conflictBehavior": conflict.as_str()}});
    upload_via_session(client, &format!("{base}/createUploadSession"), &body, data).await
}

/// Writes `data` as the new content of existing file `item` (a new version; id and sharing stay).
pub async fn upload_version(client: &GraphClient, drive: &str, item: &str, data: Bytes) -> Result<Value> {
    let base = format!("/drives/{drive}/items/{item}");
    if data.len() <= SIMPLE_UPLOAD_MAX {
        let mut call = client.graph_call(Method::PUT, &format!("{base}/content"));
        call.body = Some(data);
        call.headers.push(("content-type", "application/octet-stream".into()));
        return json_or_error(client.send(call).await?).await;
    }
    let body = json!({"item": {"@microsoft.graph.conflictBehavior": "replace"}});
    upload_via_session(client, &format!("{base}/createUploadSession"), &body, data).await
}

/// Creates an upload session at `create_path` and sends `data` through it (see the [module docs](self)).
pub async fn upload_via_session(client: &GraphClient, create_path: &str, body: &Value, data: Bytes) -> Result<Value> {
    let mut last = M365Error::Invalid("upload session never created".into());
    for _ in 0..SESSION_ATTEMPTS {
        let session = client.send_json(Method::POST, create_path, body).await?;
        let url = session
            .get("uploadUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| M365Error::Invalid("upload session without uploadUrl".into()))?
            .to_string();
        match send_fragments(client, &url, &data).await {
            Ok(v) => return Ok(v),
            Err(e) if e.status() == Some(404) => last = e,
            Err(e) => {
                // Tell the service the session is abandoned; the error is what matters.
                let _ = client.send(anonymous(Method::DELETE, &url)).await;
                return Err(e);
            }
        }
    }
    Err(last)
}

fn anonymous(method: Method, url: &str) -> Call<'static> {
    Call { method, url: url.to_string(), resource: None, body: None, headers: Vec::new() }
}

/// Start of the first `nextExpectedRanges` entry of a session status.
fn next_expected(status: &Value) -> Option<usize> {
    status.get("nextExpectedRanges")?.as_array()?.first()?.as_str()?.split('-').next()?.parse().ok()
}

async fn send_fragments(client: &GraphClient, url: &str, data: &Bytes) -> Result<Value> {
    let total = data.len();
    let mut offset = 0usize;
    let mut resumes = 0;
    loop {
        let end = (offset + FRAGMENT).min(total);
        let mut call = anonymous(Method::PUT, url);
        call.body = Some(data.slice(offset..end));
        let range = if total == 0 { "bytes */0".to_string() } else { format!("bytes {offset}-{}/{total}", end - 1) };
        call.headers.push(("content-range", range));
        let resp = client.send(call).await?;
        let status = resp.status().as_u16();
        match status {
            200 | 201 => return json_or_error(resp).await,
            202 => {
                let v: Value = json_or_error(resp).await?;
                offset = next_expected(&v).unwrap_or(end);
                if offset >= total {
                    // All bytes sent but the service still expects more: resend the last fragment.
                    offset = end.saturating_sub(FRAGMENT.min(end));
                }
            }
            416 if resumes < 5 => {
                resumes += 1;
                let st: Value = json_or_error(client.send(anonymous(Method::GET, url)).await?).await?;
                match next_expected(&st) {
                    Some(n) if n < total => offset = n,
                    _ => return Err(M365Error::Invalid("upload session does not say what it expects".into())),
                }
            }
            _ => return Err(error_of(resp).await),
        }
    }
}

/// Sets `fileSystemInfo` (created/modified instants as the client saw them).
pub async fn set_file_system_info(
    client: &GraphClient,
    drive: &str,
    item: &str,
    created: Option<&str>,
    modified: Option<&str>,
) -> Result<Value> {
    let mut fsi = serde_json::Map::new();
    if let Some(c) = created {
        fsi.insert("createdDateTime".into(), json!(c));
    }
    if let Some(m) = modified {
        fsi.insert("lastModifiedDateTime".into(), json!(m));
    }
    client.send_json(Method::PATCH, &format!("/drives/{drive}/items/{item}"), &json!({"fileSystemInfo": fsi})).await
}

/// Renames and/or moves `item` to `name` under folder `parent` (an item id, not the `root` alias): `PATCH` with
/// `name` and `parentReference.id`, so the item keeps its id, versions and sharing. Another item of that name under
/// `parent` makes it fail (409). Returns the updated driveItem.
pub async fn move_item(client: &GraphClient, drive: &str, item: &str, name: &str, parent: &str) -> Result<Value> {
    let body = json!({"name": name, "parentReference": {"id": parent}});
    client.send_json(Method::PATCH, &format!("/drives/{drive}/items/{item}"), &body).await
}

/// Grants `roles` on an item to recipients (emails or object ids) without sending invitations.
pub async fn invite(
    client: &GraphClient,
    drive: &str,
    item: &str,
    recipients: &[Value],
    roles: &[String],
    send_invitation: bool,
) -> Result<Value> {
    let body = json!({
        "recipients": recipients,
        "roles": roles,
        "requireSignIn": true,
        "sendInvitation": send_invitation,
    });
    client.send_json(Method::POST, &format!("/drives/{drive}/items/{item}/invite"), &body).await
}

/// Creates a sharing link (`view`/`edit`, scope `anonymous`/`organization`/`users`).
pub async fn create_link(client: &GraphClient, drive: &str, item: &str, kind: &str, scope: &str) -> Result<Value> {
    client
        .send_json(
            Method::POST,
            &format!("/drives/{drive}/items/{item}/createLink"),
            &json!({"type": kind, "scope": scope}),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(encode_segment("a b#c?.txt"), "a%20b%23c%3F.txt");
        assert_eq!(encode_segment("ünï.txt"), "%C3%BCn%C3%AF.txt");
    }

    #[test]
    fn next_expected_parses() {
        assert_eq!(next_expected(&json!({"nextExpectedRanges": ["655360-"]})), Some(655_360));
        assert_eq!(next_expected(&json!({"nextExpectedRanges": []})), None);
    }
}
