//! Permissions (sharing, graph-notes §6): list, get, update, delete, invite, createLink; and the
//! optional server-side copy (§5.7) with its monitor URL.
//!
//! Model: `Item::permissions` holds the permissions set on the item itself. Reading an item's
//! permissions adds those of every ancestor (nearest first, each with `inheritedFrom`) until an
//! ancestor whose inheritance was cut by `createLink` with `retainInheritedPermissions: false`.
//! The root of a OneDrive carries a computed `owner` permission for the drive owner, which every
//! item inherits and which can be neither changed nor deleted.
//!
//! Choices where Microsoft's behaviour is not pinned down:
//! - Changing or deleting an inherited (or the computed owner) permission → 403 `accessDenied`.
//! - Sharing the root of a OneDrive (invite / createLink) → 403 `accessDenied` ("the root of a
//!   personal drive can't be re-permissioned").
//! - Inviting a user who already has a direct grant on the item replaces that grant's roles.
//! - `createLink` of type `embed` → 400 `invalidRequest` (OneDrive Personal only); an existing link
//!   of the same type and scope created by the same app is returned with 200; for `users` links the
//!   new recipients are added to it.
//! - `retainInheritedPermissions: false` only has an effect the first time an item is shared; it is
//!   recorded as a hidden marker permission (so the `shared` facet stays, as the item keeps unique
//!   permissions).
//! - Copy: name conflicts are reported synchronously (409 `nameAlreadyExists`) instead of through
//!   the monitor; the copy completes before 202 is returned, so the monitor URL always reports
//!   `completed`. `replace` deletes the existing item first.

use std::sync::Arc;

use axum::extract::{Path as AxPath, State as AxState};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::items::{check_if_match, validate_name, Conflict};
use super::render;
use super::resolve;
use super::routes::*;
use crate::ctx::{no_content, Ctx};
use crate::emu::Emu;
use crate::error::{GraphError, GraphResult};
use crate::state::{IdentitySet, NewItem, Permission, SharingLink, State, Time, User};

/// A permission as seen from one item: where it comes from.
struct Effective {
    perm: Permission,
    /// The ancestor it is inherited from (`None`: set on the item itself).
    inherited_from: Option<String>,
    /// The drive owner's permission (computed, immutable).
    computed: bool,
}

fn owner_permission(st: &State, drive_id: &str) -> Option<Permission> {
    let d = st.drives.get(drive_id)?;
    let owner = d.owner_user_id.clone()?;
    Some(Permission {
        id: crate::ids::guid(&st.id_seed, &format!("owner-permission:{drive_id}"), 0),
        roles: vec!["owner".into()],
        granted_to_user: Some(owner),
        ..Default::default()
    })
}

/// Permissions of `item_id`: own first, then inherited ones, nearest ancestor first.
fn effective(st: &State, item_id: &str) -> Vec<Effective> {
    let Some(it) = st.items.get(item_id) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut chain = vec![item_id.to_string()];
    chain.extend(st.ancestors(item_id));
    for (n, id) in chain.iter().enumerate() {
        let Some(x) = st.items.get(id) else { break };
        let from = (n > 0).then(|| id.clone());
        out.extend(x.permissions.iter().map(|p| Effective {
            perm: p.clone(),
            inherited_from: from.clone(),
            computed: false,
        }));
        if x.inheritance_broken {
            break;
        }
    }
    // The owner keeps access whatever happened below the root.
    if let Some(p) = owner_permission(st, &it.drive_id) {
        let root = st.drives[&it.drive_id].root_id.clone();
        let from = (root != item_id).then_some(root);
        out.push(Effective { perm: p, inherited_from: from, computed: true });
    }
    out
}

/// SharePoint's per-site integer user id (stable per user).
fn site_user_id(st: &State, user_id: &str) -> String {
    let n = st.users.keys().position(|k| k == user_id).unwrap_or(0);
    (n + 7).to_string()
}

fn user_identities(st: &State, user_id: &str) -> (Value, Value) {
    let (name, mail, upn) = match st.users.get(user_id) {
        Some(User { display_name, mail, user_principal_name, .. }) => {
            (display_name.clone(), mail.clone(), user_principal_name.clone())
        }
        None => (String::new(), String::new(), String::new()),
    };
    let user = json!({"id": user_id, "displayName": name, "email": mail});
    let site_user = json!({
        "id": site_user_id(st, user_id),
        "displayName": name,
        "loginName": format!("i:0#.f|membership|{upn}"),
    });
    (user.clone(), json!({"user": user, "siteUser": site_user}))
}

fn permission_json(st: &State, e: &Effective) -> Value {
    let p = &e.perm;
    let mut v = Map::new();
    v.insert("id".into(), json!(p.id));
    v.insert("roles".into(), json!(p.roles));
    if let Some(uid) = &p.granted_to_user {
        let (user, v2) = user_identities(st, uid);
        v.insert("grantedToV2".into(), v2);
        v.insert("grantedTo".into(), json!({"user": user}));
    }
    if let Some(l) = &p.link {
        let mut link = json!({"type": l.link_type, "scope": l.scope, "webUrl": l.web_url, "preventsDownload": l.prevents_download});
        if let Some(app) = &p.created_by_app {
            let name = st.apps.get(app).map(|a| a.display_name.clone()).unwrap_or_default();
            link["application"] = json!({"id": app, "displayName": name});
        }
        v.insert("link".into(), link);
        v.insert("hasPassword".into(), json!(p.has_password));
        let ids: Vec<(Value, Value)> = p.link_recipients.iter().map(|u| user_identities(st, u)).collect();
        v.insert("grantedToIdentitiesV2".into(), Value::Array(ids.iter().map(|(_, v2)| v2.clone()).collect()));
        v.insert("grantedToIdentities".into(), Value::Array(ids.iter().map(|(u, _)| json!({"user": u})).collect()));
    }
    if let Some(email) = &p.invitation_email {
        v.insert("invitation".into(), json!({"email": email, "signInRequired": true}));
    }
    if let Some(s) = &p.share_id {
        v.insert("shareId".into(), json!(s));
    }
    if let Some(t) = &p.expiration {
        v.insert("expirationDateTime".into(), json!(render::time(t)));
    }
    if let Some(from) = e.inherited_from.as_ref().and_then(|f| st.items.get(f)) {
        v.insert(
            "inheritedFrom".into(),
            json!({"driveId": from.drive_id, "id": from.id, "path": st.folder_path(&from.id)}),
        );
    }
    Value::Object(v)
}

fn perm_not_found() -> GraphError {
    GraphError::new(StatusCode::NOT_FOUND, "itemNotFound", "The requested permission was not found.")
}

fn body_object(ctx: &Ctx) -> Result<Map<String, Value>, GraphError> {
    match ctx.json_body()? {
        Value::Object(m) => Ok(m),
        _ => Err(GraphError::bad_request("The request body must be a JSON object.")),
    }
}

fn opt_bool(b: &Map<String, Value>, k: &str) -> Result<Option<bool>, GraphError> {
    match b.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(x)) => Ok(Some(*x)),
        Some(_) => Err(GraphError::bad_request(format!("{k} must be a boolean."))),
    }
}

fn opt_str<'a>(b: &'a Map<String, Value>, k: &str) -> Result<Option<&'a str>, GraphError> {
    match b.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(GraphError::bad_request(format!("{k} must be a string."))),
    }
}

fn opt_time(b: &Map<String, Value>, k: &str) -> Result<Option<Time>, GraphError> {
    opt_str(b, k)?
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| GraphError::bad_request(format!("Invalid DateTimeOffset value '{s}' for {k}.")))
        })
        .transpose()
}

/// `roles` of invite / PATCH: a non-empty subset of read/write.
fn parse_roles(v: Option<&Value>) -> Result<Vec<String>, GraphError> {
    let arr =
        v.and_then(Value::as_array).ok_or_else(|| GraphError::bad_request("roles must be an array of strings."))?;
    if arr.is_empty() {
        return Err(GraphError::bad_request("At least one role is required."));
    }
    let mut out: Vec<String> = Vec::new();
    for r in arr {
        let r = r.as_str().ok_or_else(|| GraphError::bad_request("roles must be an array of strings."))?;
        match r.to_ascii_lowercase().as_str() {
            "owner" => return Err(GraphError::bad_request("The role 'owner' cannot be granted.")),
            x @ ("read" | "write") => {
                if !out.iter().any(|o| o == x) {
                    out.push(x.to_string());
                }
            }
            _ => return Err(GraphError::bad_request(format!("Invalid role '{r}'."))),
        }
    }
    Ok(out)
}

fn no_resolved_users() -> GraphError {
    GraphError::bad_request("One or more users could not be resolved.").inner("noResolvedUsers")
}

/// driveRecipient[] → tenant user ids.
fn resolve_recipients(st: &State, v: Option<&Value>) -> Result<Vec<String>, GraphError> {
    let arr = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(GraphError::bad_request("recipients must be an array.")),
    };
    let mut out = Vec::new();
    for r in arr {
        let r = r.as_object().ok_or_else(|| GraphError::bad_request("Each recipient must be an object."))?;
        let pick = |k: &str| r.get(k).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
        let user = match (pick("objectId"), pick("email"), pick("alias")) {
            (Some(id), None, None) => {
                st.users.get(id).or_else(|| st.users.values().find(|u| u.id.eq_ignore_ascii_case(id)))
            }
            (None, Some(e), None) => st.find_user(e.trim()),
            (None, None, Some(a)) => {
                st.find_user(a.trim()).or_else(|| st.find_user(&format!("{}@{}", a.trim(), st.tenant.domain())))
            }
            _ => {
                return Err(GraphError::bad_request(
                    "Each recipient must have exactly one of objectId, email or alias.",
                ))
            }
        };
        let u = user.ok_or_else(no_resolved_users)?;
        if !out.contains(&u.id) {
            out.push(u.id.clone());
        }
    }
    Ok(out)
}

/// The personal drive's root cannot be shared.
fn check_shareable(st: &State, drive: &str, id: &str) -> Result<(), GraphError> {
    let d = &st.drives[drive];
    if d.owner_user_id.is_some() && d.root_id == id {
        return Err(GraphError::access_denied("The root of a OneDrive cannot be shared."));
    }
    Ok(())
}

/// Cut inheritance the first time an item is shared, when asked to.
fn maybe_cut_inheritance(st: &mut State, id: &str, retain: Option<bool>) {
    if retain == Some(false) {
        if let Some(it) = st.items.get_mut(id) {
            it.inheritance_broken = true;
        }
    }
}

/// `GET …/permissions`.
pub fn list(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let values: Vec<Value> = {
        let st = ctx.emu.state();
        let (_, id) = resolve::item(ctx, &st, sel)?;
        effective(&st, &id).iter().map(|e| permission_json(&st, e)).collect()
    };
    Ok(ctx.paged(values))
}

/// `GET …/permissions/{id}`.
pub fn get(ctx: &Ctx, sel: &ItemSel, pid: &str) -> GraphResult {
    let st = ctx.emu.state();
    let (_, id) = resolve::item(ctx, &st, sel)?;
    let e = effective(&st, &id).into_iter().find(|e| e.perm.id == pid).ok_or_else(perm_not_found)?;
    Ok(ctx.ok(permission_json(&st, &e)))
}

/// A permission set on the item itself, or why it cannot be changed.
fn own_index(st: &State, id: &str, pid: &str) -> Result<usize, GraphError> {
    if let Some(i) = st.items[id].permissions.iter().position(|p| p.id == pid) {
        return Ok(i);
    }
    match effective(st, id).into_iter().find(|e| e.perm.id == pid) {
        Some(e) if e.computed => Err(GraphError::access_denied("The owner permission of a drive cannot be changed.")),
        Some(_) => Err(GraphError::access_denied(
            "Cannot change an inherited permission; change it where it is defined (inheritedFrom).",
        )),
        None => Err(perm_not_found()),
    }
}

/// `PATCH …/permissions/{id}` (roles only).
pub fn update(ctx: &Ctx, sel: &ItemSel, pid: &str) -> GraphResult {
    let body = body_object(ctx)?;
    if let Some(k) = body.keys().find(|k| k.as_str() != "roles" && !k.starts_with('@')) {
        return Err(GraphError::bad_request(format!("Only roles can be updated; '{k}' cannot.")));
    }
    let roles = parse_roles(body.get("roles"))?;
    let mut st = ctx.emu.state();
    let (_, id) = resolve::item(ctx, &st, sel)?;
    let idx = own_index(&st, &id, pid)?;
    let it = st.items.get_mut(&id).expect("resolved");
    it.permissions[idx].roles = roles;
    let perm = it.permissions[idx].clone();
    st.touch_metadata(&id, None, ctx.now);
    Ok(ctx.ok(permission_json(&st, &Effective { perm, inherited_from: None, computed: false })))
}

/// `DELETE …/permissions/{id}`.
pub fn delete(ctx: &Ctx, sel: &ItemSel, pid: &str) -> GraphResult {
    let mut st = ctx.emu.state();
    let (_, id) = resolve::item(ctx, &st, sel)?;
    check_if_match(ctx, &st.items[&id])?;
    let idx = own_index(&st, &id, pid)?;
    st.items.get_mut(&id).expect("resolved").permissions.remove(idx);
    st.touch_metadata(&id, None, ctx.now);
    Ok(no_content())
}

/// `POST …/invite`.
pub fn invite(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let body = body_object(ctx)?;
    let roles = parse_roles(body.get("roles"))?;
    let require_sign_in = opt_bool(&body, "requireSignIn")?;
    opt_bool(&body, "sendInvitation")?;
    let retain = opt_bool(&body, "retainInheritedPermissions")?;
    if opt_str(&body, "message")?.is_some_and(|m| m.chars().count() > 2000) {
        return Err(GraphError::bad_request("The message cannot exceed 2000 characters."));
    }
    if opt_str(&body, "password")?.is_some() {
        return Err(GraphError::bad_request("password is only supported on OneDrive Personal."));
    }
    if require_sign_in == Some(false) {
        return Err(GraphError::bad_request("requireSignIn must be true for invitations in this tenant."));
    }
    let expiration = opt_time(&body, "expirationDateTime")?;
    let mut st = ctx.emu.state();
    let (drive, id) = resolve::item(ctx, &st, sel)?;
    check_shareable(&st, &drive, &id)?;
    check_if_match(ctx, &st.items[&id])?;
    let users = resolve_recipients(&st, body.get("recipients"))?;
    if users.is_empty() {
        return Err(GraphError::bad_request("At least one recipient is required."));
    }
    maybe_cut_inheritance(&mut st, &id, retain);
    let mut result = Vec::new();
    for uid in users {
        let mail = st.users.get(&uid).map(|u| u.mail.clone());
        let existing = st.items[&id]
            .permissions
            .iter()
            .position(|p| p.link.is_none() && p.granted_to_user.as_deref() == Some(uid.as_str()));
        let perm = match existing {
            Some(i) => {
                let p = &mut st.items.get_mut(&id).expect("resolved").permissions[i];
                p.roles = roles.clone();
                p.expiration = expiration.or(p.expiration);
                p.clone()
            }
            None => {
                let pid = st.new_guid("permission");
                st.counters.permissions += 1;
                let p = Permission {
                    id: pid,
                    roles: roles.clone(),
                    granted_to_user: Some(uid.clone()),
                    invitation_email: mail,
                    expiration,
                    created_by_app: ctx.principal.app_id.clone(),
                    ..Default::default()
                };
                st.items.get_mut(&id).expect("resolved").permissions.push(p.clone());
                p
            }
        };
        result.push(perm);
    }
    st.touch_metadata(&id, None, ctx.now);
    let values: Vec<Value> = result
        .into_iter()
        .map(|perm| ctx.select(permission_json(&st, &Effective { perm, inherited_from: None, computed: false })))
        .collect();
    Ok((StatusCode::OK, axum::Json(json!({"value": values}))).into_response())
}

/// `POST …/createLink`.
pub fn create_link(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let body = body_object(ctx)?;
    let (link_type, prevents_download, role) = match opt_str(&body, "type")?.map(str::to_ascii_lowercase).as_deref() {
        Some("view") => ("view", false, "read"),
        Some("edit") => ("edit", false, "write"),
        Some("blocksdownload") => ("blocksDownload", true, "read"),
        Some("embed") => {
            return Err(GraphError::bad_request("Embed links are only supported on OneDrive Personal."));
        }
        Some(t) => return Err(GraphError::bad_request(format!("Invalid link type '{t}'."))),
        None => return Err(GraphError::bad_request("The link type is required.")),
    };
    let scope = match opt_str(&body, "scope")?.map(str::to_ascii_lowercase).as_deref() {
        None | Some("organization") => "organization",
        Some("anonymous") => "anonymous",
        Some("users") => "users",
        Some("existingaccess") => "existingAccess",
        Some(s) => return Err(GraphError::bad_request(format!("Invalid link scope '{s}'."))),
    };
    let password = opt_str(&body, "password")?.filter(|p| !p.is_empty());
    if password.is_some() && scope != "anonymous" {
        return Err(GraphError::bad_request("A password can only be set on anonymous links."));
    }
    let retain = opt_bool(&body, "retainInheritedPermissions")?;
    opt_bool(&body, "sendNotification")?;
    let expiration = opt_time(&body, "expirationDateTime")?;
    let app = ctx.principal.app_id.clone();
    let mut st = ctx.emu.state();
    let (drive, id) = resolve::item(ctx, &st, sel)?;
    check_shareable(&st, &drive, &id)?;
    check_if_match(ctx, &st.items[&id])?;
    let recipients = resolve_recipients(&st, body.get("recipients"))?;
    if !recipients.is_empty() && scope != "users" {
        return Err(GraphError::bad_request("recipients can only be given for links with scope 'users'."));
    }
    let existing = st.items[&id].permissions.iter().position(|p| {
        p.link.as_ref().is_some_and(|l| l.link_type == link_type && l.scope == scope) && p.created_by_app == app
    });
    if let Some(i) = existing {
        let it = st.items.get_mut(&id).expect("resolved");
        let p = &mut it.permissions[i];
        let mut added = false;
        for r in recipients {
            if !p.link_recipients.contains(&r) {
                p.link_recipients.push(r);
                added = true;
            }
        }
        let perm = p.clone();
        if added {
            st.touch_metadata(&id, None, ctx.now);
        }
        return Ok(ctx.ok(permission_json(&st, &Effective { perm, inherited_from: None, computed: false })));
    }
    maybe_cut_inheritance(&mut st, &id, retain);
    let is_folder = st.items[&id].is_folder;
    let site_url = render::site_web_url(ctx.emu, &st, &st.drives[&drive].site_id);
    let web_url = format!("{site_url}/:{}:/g/{}", if is_folder { "f" } else { "u" }, crate::ids::random_token(18));
    use base64::Engine;
    let share_id = format!("u!{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(web_url.as_bytes()));
    let pid = st.new_guid("permission");
    st.counters.permissions += 1;
    let perm = Permission {
        id: pid,
        roles: vec![role.to_string()],
        link_recipients: recipients,
        link: Some(SharingLink { link_type: link_type.into(), scope: scope.into(), web_url, prevents_download }),
        share_id: Some(share_id),
        expiration,
        has_password: password.is_some(),
        created_by_app: app,
        ..Default::default()
    };
    st.items.get_mut(&id).expect("resolved").permissions.push(perm.clone());
    st.touch_metadata(&id, None, ctx.now);
    Ok(ctx.created(permission_json(&st, &Effective { perm, inherited_from: None, computed: false })))
}

// ---------------------------------------------------------------------------------------------
// Server-side copy

/// Payload of a copy monitor URL (signed, so the URL needs no state and no Authorization).
#[derive(Serialize, Deserialize)]
struct CopyDone {
    /// Drive of the copy.
    d: String,
    /// Id of the new item (or of the target folder for `childrenOnly`).
    r: String,
}

/// What stays the same for every item of one copy.
struct CopyJob<'a> {
    drive: &'a str,
    all_versions: bool,
    by: &'a IdentitySet,
    now: Time,
}

/// Copy `src` (recursively) into `parent` as `name`; returns the new item id.
fn copy_tree(st: &mut State, job: &CopyJob, src: &str, parent: &str, name: &str) -> String {
    let (drive, all_versions, by, now) = (job.drive, job.all_versions, job.by, job.now);
    let it = st.items[src].clone();
    let id = st.create_item(NewItem {
        drive_id: drive,
        parent_id: parent,
        name,
        is_folder: it.is_folder,
        by: by.clone(),
        now,
    });
    if it.is_folder {
        let kids: Vec<(String, String)> = st.children_of(src).iter().map(|k| (k.id.clone(), k.name.clone())).collect();
        for (kid, kname) in kids {
            copy_tree(st, job, &kid, &id, &kname);
        }
    } else {
        let versions =
            if all_versions { it.versions.clone() } else { it.versions.last().cloned().into_iter().collect() };
        for v in versions {
            st.add_version(&id, v.content, v.size, v.quick_xor, v.modified_by, v.modified);
        }
    }
    if let Some(n) = st.items.get_mut(&id) {
        n.fs_created = it.fs_created;
        n.fs_modified = it.fs_modified;
        n.description = it.description.clone();
        n.modified = now;
        n.modified_by = by.clone();
    }
    id
}

/// `POST …/copy`.
pub fn copy(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let body = body_object(ctx)?;
    let cb = Conflict::parse(ctx.query.get("@microsoft.graph.conflictBehavior"), Conflict::Fail)?;
    let new_name = opt_str(&body, "name")?.map(str::to_string);
    if let Some(n) = &new_name {
        validate_name(n)?;
    }
    let children_only = opt_bool(&body, "childrenOnly")?.unwrap_or(false);
    // Known service behaviour: a new name disables the version history copy.
    let all_versions = opt_bool(&body, "includeAllVersionHistory")?.unwrap_or(false) && new_name.is_none();
    let pr = match body.get("parentReference") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(GraphError::bad_request("parentReference must be an object.")),
    };
    let by = ctx.actor();
    let now = ctx.now;
    let mut st = ctx.emu.state();
    let (src_drive, src) = resolve::item(ctx, &st, sel)?;
    let target_drive = pr.get("driveId").and_then(Value::as_str).unwrap_or(&src_drive).to_string();
    let Some(d) = st.drives.get(&target_drive) else {
        return Err(GraphError::bad_request("The target drive of the copy does not exist."));
    };
    let parent = match pr.get("id").and_then(Value::as_str) {
        Some(p) => p.to_string(),
        None if target_drive != src_drive => d.root_id.clone(),
        None => match st.items[&src].parent_id.clone() {
            Some(p) => p,
            None => return Err(GraphError::bad_request("The drive root cannot be copied without a parentReference.")),
        },
    };
    match st.live_item(&parent) {
        Some(p) if p.is_folder && p.drive_id == target_drive => {}
        _ => return Err(GraphError::bad_request("The copy destination folder does not exist.")),
    }
    if st.is_same_or_descendant(&parent, &src) {
        return Err(GraphError::bad_request("A folder cannot be copied into itself."));
    }
    let src_item = st.items[&src].clone();
    let sources: Vec<(String, String)> = if children_only {
        if !src_item.is_folder {
            return Err(GraphError::bad_request("childrenOnly requires a folder."));
        }
        st.children_of(&src).iter().map(|k| (k.id.clone(), k.name.clone())).collect()
    } else {
        vec![(src.clone(), new_name.clone().unwrap_or(src_item.name.clone()))]
    };
    // Check every name before copying anything.
    let mut plan = Vec::new();
    for (sid, name) in &sources {
        let name = match st.child_by_name(&parent, name) {
            None => name.clone(),
            Some(_) if cb == Conflict::Fail => return Err(GraphError::conflict_name()),
            Some(_) if cb == Conflict::Rename => st.unique_name(&parent, name),
            // Replacing the source (or a folder containing it) would destroy what is being copied.
            Some(e) if st.is_same_or_descendant(sid, &e.id) => return Err(GraphError::conflict_name()),
            Some(_) => name.clone(),
        };
        plan.push((sid.clone(), name));
    }
    let mut result = parent.clone();
    for (sid, name) in plan {
        if cb == Conflict::Replace {
            if let Some(existing) = st.child_by_name(&parent, &name).map(|e| e.id.clone()) {
                st.delete_item(&existing, now);
            }
        }
        let job = CopyJob { drive: &target_drive, all_versions, by: &by, now };
        result = copy_tree(&mut st, &job, &sid, &parent, &name);
    }
    if children_only {
        result = parent;
    }
    let token = crate::preauth::sign(&crate::preauth::signing_key(&st), &CopyDone { d: target_drive, r: result });
    let location = format!("{}/_monitor/{token}", ctx.emu.base_url());
    let mut resp = StatusCode::ACCEPTED.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `GET /_monitor/{token}`: status of a copy (always completed).
pub async fn monitor(AxState(emu): AxState<Arc<Emu>>, AxPath(token): AxPath<String>) -> Response {
    let done: Option<CopyDone> = crate::preauth::verify(&crate::preauth::signing_key(&emu.state()), &token);
    match done {
        Some(d) => (
            StatusCode::OK,
            axum::Json(json!({
                "operation": "ItemCopy",
                "percentageComplete": 100.0,
                "resourceId": d.r,
                "resourceLocation": format!("{}/v1.0/drives/{}/items/{}", emu.base_url(), d.d, d.r),
                "status": "completed",
            })),
        )
            .into_response(),
        None => {
            let rid = uuid::Uuid::new_v4().to_string();
            GraphError::new(StatusCode::NOT_FOUND, "itemNotFound", "The monitor was not found.")
                .into_response_with(&rid, &rid)
        }
    }
}
