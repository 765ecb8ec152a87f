//! SharePoint sites (graph-notes §7.1): search, getAllSites, get (by composite id, `root`,
//! `{hostname}:/{path}`), direct subsites and document libraries.
//!
//! Choices where Microsoft's behaviour is not pinned down:
//! - `GET /sites?search=` matches `name`, `displayName` and `description` (case-insensitive substring);
//!   `*` or an empty query matches every site. Personal (OneDrive) sites are never returned, as
//!   in SharePoint search; subsites are (search finds webs, not only site collections).
//! - `GET /sites` without `search` behaves like `search=*`.
//! - `GET /sites/getAllSites` enumerates site collections (root webs only, no subsites) including
//!   personal sites, flagged by `isPersonalSite`; `$filter=isPersonalSite eq true|false` narrows it.
//! - App-only callers need a `Sites.*` application role (403 `accessDenied` otherwise).

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::render;
use super::routes::*;
use crate::ctx::Ctx;
use crate::emu::Emu;
use crate::error::{GraphError, GraphResult};
use crate::state::{Site, State};

/// App-only roles that grant read access to sites, lists and list items.
const READ_ROLES: &[&str] = &["Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"];
/// App-only roles that grant write access to list items.
const WRITE_ROLES: &[&str] = &["Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"];

fn require_roles(ctx: &Ctx, roles: &[&str]) -> Result<(), GraphError> {
    if !ctx.principal.is_app_only() || ctx.principal.roles.iter().any(|r| roles.contains(&r.as_str())) {
        return Ok(());
    }
    Err(GraphError::access_denied(
        "Access denied. The application has no SharePoint permission (Sites.*) for this call.",
    ))
}

pub fn require_read(ctx: &Ctx) -> Result<(), GraphError> {
    require_roles(ctx, READ_ROLES)
}

pub fn require_write(ctx: &Ctx) -> Result<(), GraphError> {
    require_roles(ctx, WRITE_ROLES)
}

fn not_found() -> GraphError {
    GraphError::new(StatusCode::NOT_FOUND, "itemNotFound", "Requested site could not be found")
}

/// Site id of a selector. Besides the forms `resolve::site_id` knows, accepts a bare hostname
/// (its root site), `{hostname},{siteCollectionId}` (root web of the collection) and a bare site
/// collection GUID, as Graph does.
pub fn site_id(st: &State, s: &SiteSel) -> Result<String, GraphError> {
    if let SiteSel::Id(key) = s {
        let parts: Vec<&str> = key.split(',').map(str::trim).collect();
        let root_web = |host: Option<&str>, coll: &str| {
            st.sites
                .values()
                .find(|x| {
                    x.parent_site_id.is_none()
                        && x.collection_id.eq_ignore_ascii_case(coll)
                        && host.is_none_or(|h| x.hostname.eq_ignore_ascii_case(h))
                })
                .map(|x| x.id.clone())
        };
        let found = match parts.as_slice() {
            [h, c, w] => st
                .sites
                .values()
                .find(|x| {
                    x.hostname.eq_ignore_ascii_case(h)
                        && x.collection_id.eq_ignore_ascii_case(c)
                        && x.web_id.eq_ignore_ascii_case(w)
                })
                .map(|x| x.id.clone()),
            [h, c] => root_web(Some(h), c),
            [one] if one.contains('.') => {
                st.sites.values().find(|x| x.hostname.eq_ignore_ascii_case(one) && x.path == "/").map(|x| x.id.clone())
            }
            [one] => root_web(None, one),
            _ => None,
        };
        return found.ok_or_else(not_found);
    }
    super::resolve::site_id(st, s).map_err(|_| not_found())
}

pub fn site_json(emu: &Emu, st: &State, s: &Site) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), json!(s.id));
    v.insert("name".into(), json!(s.name));
    v.insert("displayName".into(), json!(s.display_name));
    v.insert("description".into(), json!(s.description));
    v.insert("webUrl".into(), json!(render::site_web_url(emu, st, &s.id)));
    v.insert("createdDateTime".into(), json!(render::time(&s.created)));
    v.insert("lastModifiedDateTime".into(), json!(render::time(&s.modified)));
    v.insert("isPersonalSite".into(), json!(s.is_personal));
    if s.parent_site_id.is_none() {
        v.insert("root".into(), json!({}));
    }
    let mut coll = json!({"hostname": s.hostname});
    // `siteCollection.root` marks the tenant's root site collection.
    if s.parent_site_id.is_none() && s.path == "/" {
        coll["root"] = json!({});
    }
    v.insert("siteCollection".into(), coll);
    v.insert(
        "sharepointIds".into(),
        json!({
            "siteId": s.collection_id,
            "webId": s.web_id,
            "siteUrl": render::site_web_url(emu, st, &s.id),
            "tenantId": st.tenant.id,
        }),
    );
    Value::Object(v)
}

fn sorted_sites(st: &State, keep: impl Fn(&Site) -> bool) -> Vec<&Site> {
    let mut v: Vec<&Site> = st.sites.values().filter(|s| keep(s)).collect();
    v.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    v
}

pub fn search(ctx: &Ctx) -> GraphResult {
    require_read(ctx)?;
    let q = ctx.query.get("search").unwrap_or("*").trim().trim_matches('"').to_lowercase();
    let values: Vec<Value> = {
        let st = ctx.emu.state();
        sorted_sites(&st, |s| {
            !s.is_personal
                && (q.is_empty()
                    || q == "*"
                    || s.name.to_lowercase().contains(&q)
                    || s.display_name.to_lowercase().contains(&q)
                    || s.description.to_lowercase().contains(&q))
        })
        .into_iter()
        .map(|s| site_json(ctx.emu, &st, s))
        .collect()
    };
    Ok(ctx.paged(values))
}

/// `$filter=isPersonalSite eq true|false`; other filters are refused rather than ignored.
fn personal_filter(ctx: &Ctx) -> Result<Option<bool>, GraphError> {
    let Some(f) = ctx.query.get("filter") else { return Ok(None) };
    let norm: Vec<String> = f.split_whitespace().map(str::to_ascii_lowercase).collect();
    match norm.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["ispersonalsite", "eq", "true"] => Ok(Some(true)),
        ["ispersonalsite", "eq", "false"] => Ok(Some(false)),
        _ => Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "invalidRequest",
            format!("The $filter '{f}' is not supported (only isPersonalSite eq true|false)."),
        )),
    }
}

pub fn get_all(ctx: &Ctx) -> GraphResult {
    require_read(ctx)?;
    let personal = personal_filter(ctx)?;
    let values: Vec<Value> = {
        let st = ctx.emu.state();
        sorted_sites(&st, |s| s.parent_site_id.is_none() && personal.is_none_or(|p| p == s.is_personal))
            .into_iter()
            .map(|s| site_json(ctx.emu, &st, s))
            .collect()
    };
    Ok(ctx.paged(values))
}

pub fn get(ctx: &Ctx, s: &SiteSel) -> GraphResult {
    require_read(ctx)?;
    let v = {
        let st = ctx.emu.state();
        let id = site_id(&st, s)?;
        site_json(ctx.emu, &st, &st.sites[&id])
    };
    Ok(ctx.ok(v))
}

pub fn subsites(ctx: &Ctx, s: &SiteSel) -> GraphResult {
    require_read(ctx)?;
    let values: Vec<Value> = {
        let st = ctx.emu.state();
        let id = site_id(&st, s)?;
        sorted_sites(&st, |x| x.parent_site_id.as_deref() == Some(id.as_str()))
            .into_iter()
            .map(|x| site_json(ctx.emu, &st, x))
            .collect()
    };
    Ok(ctx.paged(values))
}

pub fn drives(ctx: &Ctx, s: &SiteSel) -> GraphResult {
    require_read(ctx)?;
    let values: Vec<Value> = {
        let st = ctx.emu.state();
        let id = site_id(&st, s)?;
        let mut libs: Vec<_> = st.lists.values().filter(|l| l.site_id == id && l.drive_id.is_some()).collect();
        libs.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        libs.into_iter()
            .filter_map(|l| l.drive_id.as_ref().and_then(|d| st.drives.get(d)))
            .map(|d| render::drive_json(ctx.emu, &st, d))
            .collect()
    };
    Ok(ctx.paged(values))
}
