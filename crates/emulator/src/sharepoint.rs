//! SharePoint REST subset (graph-notes §7.4, §12.E): list-item attachments at
//! `/_sp/{host}/{site path}/_api/web/lists(guid'{id}')/items({n})/AttachmentFiles…` (the root site
//! of a host has the empty path: `/_sp/{host}/_api/…`). Lists are also addressable as
//! `lists/GetByTitle('{title}')` and `lists/GetById('{id}')`.
//!
//! Operations: GET the collection; GET `AttachmentFiles('{name}')` (metadata) and `…/$value` (bytes);
//! POST `AttachmentFiles/add(FileName='{name}')` with the raw bytes as body; DELETE
//! `AttachmentFiles('{name}')` or POST with `X-HTTP-Method: DELETE`. `getByFileName('{name}')` is
//! accepted as an alias of `('{name}')`. String literals use OData quoting (`''` is a quote) and
//! may be percent-encoded.
//!
//! Responses follow `Accept`: `odata=nometadata` → `{"value":[…]}`; `odata=verbose` →
//! `{"d":{"results":[{"__metadata":{…,"type":"SP.Attachment"},…}]}}`; anything else (including no
//! Accept; real SharePoint would answer Atom XML there) → minimal metadata
//! `{"odata.metadata":…,"value":[{"odata.type":"SP.Attachment",…}]}`.
//!
//! Auth: bearer token whose audience is `https://{host}`; app-only tokens obtained with a client
//! secret (`appidacr` "1") are refused like SharePoint Online does. Authentication failures use
//! SharePoint's `{"error_description":…}` 401 body with an `x-ms-diagnostics` header; every other
//! error uses the `odata.error` shape (`error` for verbose clients).
//!
//! Choices where Microsoft's behaviour is not pinned down (graph-notes §13.1):
//! - Adding a name that already exists → 409 with code `-2130575257, Microsoft.SharePoint.SPException`.
//! - Attachments on document-library items → 400 (libraries have no attachments).
//! - Successful add → 200 with the `SP.Attachment`; delete → 200 with an empty body.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::auth::{self, Audience, Principal};
use crate::emu::Emu;
use crate::error::sharepoint_error;
use crate::state::{Attachment, IdentityRef, IdentitySet, State};

pub fn router() -> Router<Arc<Emu>> {
    Router::new().route("/_sp/{host}/{*rest}", any(entry))
}

/// Response dialect chosen by `Accept`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dialect {
    NoMetadata,
    Verbose,
    Minimal,
}

fn dialect(headers: &HeaderMap) -> Dialect {
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if accept.contains("odata=nometadata") {
        Dialect::NoMetadata
    } else if accept.contains("odata=verbose") {
        Dialect::Verbose
    } else {
        Dialect::Minimal
    }
}

struct SpError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn sp_err(status: StatusCode, code: &'static str, message: impl Into<String>) -> SpError {
    SpError { status, code, message: message.into() }
}

fn bad_request(message: impl Into<String>) -> SpError {
    sp_err(StatusCode::BAD_REQUEST, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException", message)
}

/// SharePoint's 401 (the body is not in the OData dialect).
fn unauthorized(description: &str, reason: &str) -> Response {
    let mut resp = (StatusCode::UNAUTHORIZED, axum::Json(json!({"error_description": description}))).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("3001000;reason=\"{reason}\";category=\"invalid_client\"")) {
        h.insert("x-ms-diagnostics", v);
    }
    h.insert(
        "www-authenticate",
        HeaderValue::from_static("Bearer realm=\"\",client_id=\"00000003-0000-0ff1-ce00-000000000000\""),
    );
    resp
}

/// How the list is addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListKey {
    Guid(String),
    Title(String),
}

/// What the request addresses below `items(n)/AttachmentFiles`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Collection,
    Add(String),
    One(String),
    Value(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiPath {
    list: ListKey,
    item: u64,
    target: Target,
}

/// A small cursor over the decoded `_api` path.
struct Cur<'a> {
    s: &'a str,
}

impl<'a> Cur<'a> {
    fn eat(&mut self, word: &str) -> bool {
        match self.s.get(..word.len()) {
            Some(head) if head.eq_ignore_ascii_case(word) => {
                self.s = &self.s[word.len()..];
                true
            }
            _ => false,
        }
    }
    fn expect(&mut self, word: &str) -> Result<(), SpError> {
        if self.eat(word) {
            Ok(())
        } else {
            Err(bad_request(format!("Expected '{word}' at '{}'.", self.s)))
        }
    }
    /// An OData string literal `'…'` with `''` as an escaped quote.
    fn string(&mut self) -> Result<String, SpError> {
        self.expect("'")?;
        let mut out = String::new();
        let mut chars = self.s.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if let Some((_, '\'')) = chars.peek() {
                    chars.next();
                    out.push('\'');
                    continue;
                }
                self.s = &self.s[i + 1..];
                return Ok(out);
            }
            out.push(c);
        }
        Err(bad_request("Unterminated string literal."))
    }
    fn number(&mut self) -> Result<u64, SpError> {
        let end = self.s.find(|c: char| !c.is_ascii_digit()).unwrap_or(self.s.len());
        let n = self.s[..end].parse::<u64>().map_err(|_| bad_request("Expected an item id."))?;
        self.s = &self.s[end..];
        Ok(n)
    }
    fn done(&self) -> bool {
        self.s.is_empty() || self.s == "/"
    }
}

/// Parse `web/lists(…)/items(n)/AttachmentFiles…` (already percent-decoded).
fn parse_api(api: &str) -> Result<ApiPath, SpError> {
    let mut c = Cur { s: api.trim_start_matches('/') };
    c.expect("web/lists")?;
    let list = if c.eat("(guid") {
        let g = c.string()?;
        c.expect(")")?;
        ListKey::Guid(g)
    } else if c.eat("/getbytitle(") {
        let t = c.string()?;
        c.expect(")")?;
        ListKey::Title(t)
    } else if c.eat("/getbyid(") {
        c.eat("guid");
        let g = c.string()?;
        c.expect(")")?;
        ListKey::Guid(g)
    } else {
        return Err(bad_request("Unsupported list address (use lists(guid'…') or lists/GetByTitle('…'))."));
    };
    if !c.eat("/items(") && !c.eat("/items/getbyid(") {
        return Err(bad_request("Unsupported list item address (use items(n))."));
    }
    let item = c.number()?;
    c.expect(")")?;
    c.expect("/attachmentfiles")?;
    let target = if c.done() {
        Target::Collection
    } else if c.eat("/add(") {
        c.expect("filename=")?;
        let name = c.string()?;
        c.expect(")")?;
        Target::Add(name)
    } else {
        if !c.eat("/getbyfilename(") {
            c.expect("(")?;
        }
        let name = c.string()?;
        c.expect(")")?;
        if c.done() {
            Target::One(name)
        } else if c.eat("/$value") && c.done() {
            Target::Value(name)
        } else {
            return Err(bad_request(format!("Unsupported segment '{}'.", c.s)));
        }
    };
    if !c.done() {
        return Err(bad_request(format!("Unsupported segment '{}'.", c.s)));
    }
    Ok(ApiPath { list, item, target })
}

/// Split `{site path}/_api/{api}` (site path may be empty = root site).
fn split_site(rest: &str) -> Option<(String, String)> {
    let rest = format!("/{}", rest.trim_start_matches('/'));
    let idx = rest.to_ascii_lowercase().find("/_api/")?;
    let site = rest[..idx].trim_end_matches('/');
    let site = if site.is_empty() { "/".to_string() } else { site.to_string() };
    Some((site, rest[idx + "/_api/".len()..].to_string()))
}

fn actor(st: &State, p: &Principal) -> IdentitySet {
    let application = p.app_id.as_ref().map(|a| IdentityRef {
        id: a.clone(),
        display_name: st.apps.get(a).map(|x| x.display_name.clone()).unwrap_or_else(|| "SharePoint App".into()),
        email: None,
    });
    let user = p.user_id.as_ref().and_then(|u| st.users.get(u)).map(|u| IdentityRef {
        id: u.id.clone(),
        display_name: u.display_name.clone(),
        email: Some(u.mail.clone()),
    });
    IdentitySet { user, application }
}

async fn entry(
    AxState(emu): AxState<Arc<Emu>>,
    Path((host, _)): Path<(String, String)>,
    uri: Uri,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let d = dialect(&headers);
    // The still-encoded path: names are decoded exactly once, after splitting off the host.
    let raw = uri.path().strip_prefix("/_sp/").unwrap_or("");
    let rest = raw.split_once('/').map(|(_, r)| r).unwrap_or("");
    match handle(&emu, &host, rest, &method, &headers, body, d).await {
        Ok(r) => r,
        Err(Failure::Sp(e)) => sharepoint_error(e.status, e.code, &e.message, d == Dialect::Verbose),
        Err(Failure::Raw(r)) => r,
    }
}

enum Failure {
    Sp(SpError),
    Raw(Response),
}

impl From<SpError> for Failure {
    fn from(e: SpError) -> Self {
        Failure::Sp(e)
    }
}

/// Everything needed to render an attachment.
struct Loc {
    base: String,
    /// Server-relative URL of the site (`/sites/x`, or empty for a host's root site).
    site_rel: String,
    list_name: String,
    list_id: String,
    item: u64,
}

impl Loc {
    fn site_url(&self) -> String {
        format!("{}{}", self.base, self.site_rel)
    }
    fn server_relative(&self, name: &str) -> String {
        format!("{}/Lists/{}/Attachments/{}/{}", self.site_rel, self.list_name, self.item, name)
    }
    fn entity_uri(&self, name: &str) -> String {
        format!(
            "{}/_api/Web/Lists(guid'{}')/Items({})/AttachmentFiles('{}')",
            self.site_url(),
            self.list_id,
            self.item,
            name.replace('\'', "''")
        )
    }
    fn attachment(&self, name: &str, d: Dialect) -> Value {
        let mut v = Map::new();
        let uri = self.entity_uri(name);
        match d {
            Dialect::Verbose => {
                v.insert("__metadata".into(), json!({"id": uri, "uri": uri, "type": "SP.Attachment"}));
            }
            Dialect::Minimal => {
                v.insert("odata.type".into(), json!("SP.Attachment"));
                v.insert("odata.id".into(), json!(uri));
                v.insert("odata.editLink".into(), json!(uri.split_once("/_api/").map(|(_, r)| r).unwrap_or("")));
            }
            Dialect::NoMetadata => {}
        }
        let rel = self.server_relative(name);
        v.insert("FileName".into(), json!(name));
        v.insert("FileNameAsPath".into(), json!({"DecodedUrl": name}));
        v.insert("ServerRelativePath".into(), json!({"DecodedUrl": rel}));
        v.insert("ServerRelativeUrl".into(), json!(rel));
        Value::Object(v)
    }
    fn one(&self, name: &str, d: Dialect) -> Value {
        let a = self.attachment(name, d);
        match d {
            Dialect::Verbose => json!({"d": a}),
            Dialect::NoMetadata => a,
            Dialect::Minimal => {
                let mut m = Map::new();
                m.insert(
                    "odata.metadata".into(),
                    json!(format!("{}/_api/$metadata#SP.ApiData.Attachments/@Element", self.site_url())),
                );
                if let Value::Object(inner) = a {
                    m.extend(inner);
                }
                Value::Object(m)
            }
        }
    }
    fn collection(&self, names: &[String], d: Dialect) -> Value {
        let items: Vec<Value> = names.iter().map(|n| self.attachment(n, d)).collect();
        match d {
            Dialect::Verbose => json!({"d": {"results": items}}),
            Dialect::NoMetadata => json!({"value": items}),
            Dialect::Minimal => json!({
                "odata.metadata": format!("{}/_api/$metadata#SP.ApiData.Attachments", self.site_url()),
                "value": items,
            }),
        }
    }
}

fn file_not_found() -> SpError {
    sp_err(StatusCode::NOT_FOUND, "-2147024894, System.IO.FileNotFoundException", "File Not Found.")
}

fn item_not_found() -> SpError {
    sp_err(
        StatusCode::NOT_FOUND,
        "-2147024809, System.ArgumentException",
        "Item does not exist. It may have been deleted by another user.",
    )
}

/// Locate site, list and item; returns (render context, list id) or the SharePoint error.
fn locate(st: &State, base: &str, host: &str, site_path: &str, api: &ApiPath) -> Result<Loc, SpError> {
    let site = st
        .sites
        .values()
        .find(|s| s.hostname.eq_ignore_ascii_case(host) && s.path.eq_ignore_ascii_case(site_path))
        .ok_or_else(|| {
            sp_err(
                StatusCode::NOT_FOUND,
                "-2147024894, System.IO.FileNotFoundException",
                format!("The site {site_path} does not exist on {host}."),
            )
        })?;
    let list = st
        .lists
        .values()
        .find(|l| {
            l.site_id == site.id
                && match &api.list {
                    ListKey::Guid(g) => l.id.eq_ignore_ascii_case(g.trim_matches(['{', '}'])),
                    ListKey::Title(t) => l.display_name.eq_ignore_ascii_case(t),
                }
        })
        .ok_or_else(|| {
            let what = match &api.list {
                ListKey::Guid(g) => format!("List with id '{g}'"),
                ListKey::Title(t) => format!("List '{t}'"),
            };
            sp_err(
                StatusCode::NOT_FOUND,
                "-1, System.ArgumentException",
                format!(
                    "{what} does not exist at site with URL '{base}/_sp/{host}{}'.",
                    site.path.trim_end_matches('/')
                ),
            )
        })?;
    if list.drive_id.is_some() {
        return Err(bad_request("Attachments are not supported on document library items."));
    }
    list.items.get(&api.item).filter(|i| i.deleted.is_none()).ok_or_else(item_not_found)?;
    Ok(Loc {
        base: format!("{base}/_sp/{}", site.hostname),
        site_rel: if site.path == "/" { String::new() } else { site.path.clone() },
        list_name: list.name.clone(),
        list_id: list.id.clone(),
        item: api.item,
    })
}

fn json_ok(v: Value, d: Dialect) -> Response {
    let ct = match d {
        Dialect::NoMetadata => "application/json;odata=nometadata;streaming=true;charset=utf-8",
        Dialect::Verbose => "application/json;odata=verbose;charset=utf-8",
        Dialect::Minimal => "application/json;odata=minimalmetadata;streaming=true;charset=utf-8",
    };
    let mut resp = (StatusCode::OK, axum::Json(v)).into_response();
    resp.headers_mut().insert("content-type", HeaderValue::from_static(ct));
    resp
}

async fn handle(
    emu: &Arc<Emu>,
    host: &str,
    rest: &str,
    method: &Method,
    headers: &HeaderMap,
    body: Bytes,
    d: Dialect,
) -> Result<Response, Failure> {
    let principal = match auth::authenticate(emu, headers, &Audience::SharePoint(host.to_ascii_lowercase())) {
        Ok(p) => p,
        Err(e) if e.status == StatusCode::FORBIDDEN => {
            return Err(
                sp_err(StatusCode::FORBIDDEN, "-2147024891, System.UnauthorizedAccessException", e.message).into()
            )
        }
        Err(e) => return Err(Failure::Raw(unauthorized(&e.message, "Token validation failed."))),
    };
    if principal.is_app_only() && principal.appidacr == "1" {
        return Err(Failure::Raw(unauthorized(
            "Unsupported app only token.",
            "There has been an error authenticating the request.",
        )));
    }
    if principal.is_app_only()
        && !principal.roles.iter().any(|r| {
            matches!(
                r.as_str(),
                "Sites.Read.All" | "Sites.ReadWrite.All" | "Sites.Manage.All" | "Sites.FullControl.All"
            )
        })
    {
        return Err(sp_err(
            StatusCode::FORBIDDEN,
            "-2147024891, System.UnauthorizedAccessException",
            "Access denied. You do not have permission to perform this action or access this resource.",
        )
        .into());
    }
    let decoded = percent_encoding::percent_decode_str(rest).decode_utf8_lossy().into_owned();
    let (site_path, api) =
        split_site(&decoded).ok_or_else(|| bad_request("Only the _api REST surface is emulated."))?;
    let api = parse_api(&api)?;
    let tunnelled = headers.get("x-http-method").and_then(|v| v.to_str().ok()).map(str::to_ascii_uppercase);
    let effective = match (method, tunnelled.as_deref()) {
        (&Method::POST, Some("DELETE")) => Method::DELETE,
        (m, _) => m.clone(),
    };
    let writes = effective != Method::GET && effective != Method::HEAD;
    if writes
        && principal.is_app_only()
        && !principal
            .roles
            .iter()
            .any(|r| matches!(r.as_str(), "Sites.ReadWrite.All" | "Sites.Manage.All" | "Sites.FullControl.All"))
    {
        return Err(sp_err(
            StatusCode::FORBIDDEN,
            "-2147024891, System.UnauthorizedAccessException",
            "Access denied. You do not have permission to perform this action or access this resource.",
        )
        .into());
    }
    let base = emu.base_url().to_string();
    match (&effective, &api.target) {
        (&Method::GET, Target::Collection) => {
            let st = emu.state();
            let cx = locate(&st, &base, host, &site_path, &api)?;
            let names: Vec<String> =
                st.lists[&cx.list_id].items[&api.item].attachments.iter().map(|a| a.file_name.clone()).collect();
            Ok(json_ok(cx.collection(&names, d), d))
        }
        (&Method::GET, Target::One(name)) => {
            let st = emu.state();
            let cx = locate(&st, &base, host, &site_path, &api)?;
            let att = find(&st, &cx, name).ok_or_else(file_not_found)?;
            Ok(json_ok(cx.one(&att.file_name, d), d))
        }
        (&Method::GET, Target::Value(name)) => {
            let att = {
                let st = emu.state();
                let cx = locate(&st, &base, host, &site_path, &api)?;
                find(&st, &cx, name).ok_or_else(file_not_found)?.clone()
            };
            let stream = emu.blobs.stream(&att.content, 0, att.size).map_err(|e| {
                sp_err(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "-2146232832, Microsoft.SharePoint.SPException",
                    e.to_string(),
                )
            })?;
            let mut resp = Response::new(Body::from_stream(stream));
            let h = resp.headers_mut();
            h.insert("content-type", HeaderValue::from_static("application/octet-stream"));
            h.insert("content-length", HeaderValue::from(att.size));
            Ok(resp)
        }
        (&Method::POST, Target::Add(name)) => {
            validate_name(name)?;
            {
                let st = emu.state();
                let cx = locate(&st, &base, host, &site_path, &api)?;
                if find(&st, &cx, name).is_some() {
                    return Err(duplicate(&cx, name).into());
                }
            }
            // Blob IO outside the state lock.
            let data = body.clone();
            let blobs = emu.blobs.clone();
            let stored = tokio::task::spawn_blocking(move || blobs.put(&data))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
                .map_err(|e| {
                    sp_err(StatusCode::INTERNAL_SERVER_ERROR, "-2146232832, Microsoft.SharePoint.SPException", e)
                })?;
            let now = emu.now();
            let v = {
                let mut st = emu.state();
                let cx = locate(&st, &base, host, &site_path, &api)?;
                // Re-check: another request may have added the same name meanwhile.
                if find(&st, &cx, name).is_some() {
                    return Err(duplicate(&cx, name).into());
                }
                let by = actor(&st, &principal);
                let list = st.lists.get_mut(&cx.list_id).ok_or_else(item_not_found)?;
                let it = list.items.get_mut(&api.item).ok_or_else(item_not_found)?;
                it.attachments.push(Attachment { file_name: name.clone(), content: stored.0, size: stored.1 });
                it.etag_version += 1;
                it.modified = now;
                it.modified_by = by;
                st.touch_list_item(&cx.list_id, api.item);
                cx.one(name, d)
            };
            emu.mark_dirty();
            Ok(json_ok(v, d))
        }
        (&Method::DELETE, Target::One(name)) => {
            let now = emu.now();
            {
                let mut st = emu.state();
                let cx = locate(&st, &base, host, &site_path, &api)?;
                find(&st, &cx, name).ok_or_else(file_not_found)?;
                let by = actor(&st, &principal);
                let list = st.lists.get_mut(&cx.list_id).ok_or_else(item_not_found)?;
                let it = list.items.get_mut(&api.item).ok_or_else(item_not_found)?;
                it.attachments.retain(|a| !a.file_name.eq_ignore_ascii_case(name));
                it.etag_version += 1;
                it.modified = now;
                it.modified_by = by;
                st.touch_list_item(&cx.list_id, api.item);
            }
            emu.mark_dirty();
            Ok(StatusCode::OK.into_response())
        }
        _ => Err(sp_err(
            StatusCode::METHOD_NOT_ALLOWED,
            "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
            format!("The HTTP method '{effective}' is not supported for this resource."),
        )
        .into()),
    }
}

fn find<'a>(st: &'a State, cx: &Loc, name: &str) -> Option<&'a Attachment> {
    st.lists.get(&cx.list_id)?.items.get(&cx.item)?.attachments.iter().find(|a| a.file_name.eq_ignore_ascii_case(name))
}

fn duplicate(cx: &Loc, name: &str) -> SpError {
    sp_err(
        StatusCode::CONFLICT,
        "-2130575257, Microsoft.SharePoint.SPException",
        format!("A file with the name '{}' already exists.", cx.server_relative(name).trim_start_matches('/')),
    )
}

/// SharePoint file-name rules for attachments.
fn validate_name(name: &str) -> Result<(), SpError> {
    let bad = name.trim().is_empty()
        || name.len() > 255
        || name.chars().any(|c| matches!(c, '"' | '*' | ':' | '<' | '>' | '?' | '/' | '\\' | '|') || c.is_control())
        || name.starts_with(' ')
        || name.ends_with('.')
        || name.ends_with(' ');
    if bad {
        return Err(sp_err(
            StatusCode::BAD_REQUEST,
            "-2130575245, Microsoft.SharePoint.SPException",
            format!("The file name '{name}' is invalid."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_attachment_paths() {
        let p = parse_api("web/lists(guid'AB-1')/items(7)/AttachmentFiles").ok().unwrap();
        assert_eq!(p, ApiPath { list: ListKey::Guid("AB-1".into()), item: 7, target: Target::Collection });
        let p = parse_api("web/lists/GetByTitle('It''s')/items(2)/AttachmentFiles('a''b.txt')/$value").ok().unwrap();
        assert_eq!(p.list, ListKey::Title("It's".into()));
        assert_eq!(p.target, Target::Value("a'b.txt".into()));
        let p = parse_api("web/lists(guid'x')/items(1)/AttachmentFiles/add(FileName='n.bin')").ok().unwrap();
        assert_eq!(p.target, Target::Add("n.bin".into()));
        assert!(parse_api("web/lists(guid'x')/items(z)/AttachmentFiles").is_err());
        assert!(parse_api("web/lists(guid'x')/items(1)/AttachmentFiles('open").is_err());
        assert!(parse_api("web/lists(guid'x')/items(1)/AttachmentFiles('a')/other").is_err());
        assert_eq!(split_site("_api/web"), Some(("/".into(), "web".into())));
        assert_eq!(split_site("sites/fin/_api/web/x"), Some(("/sites/fin".into(), "web/x".into())));
        assert_eq!(split_site("sites/fin"), None);
    }
}
