//! Users: list, get (`/users/{id|upn}`, `/me`), drives.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::render;
use super::resolve;
use super::routes::*;
use crate::ctx::Ctx;
use crate::error::{GraphError, GraphResult};
use crate::state::User;

/// Permissions that allow reading other users' profiles (app roles or delegated scopes).
const READ_USERS: &[&str] =
    &["User.Read.All", "User.ReadBasic.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];

/// Permissions that allow listing other users' drives.
const READ_FILES: &[&str] = &[
    "Files.Read.All",
    "Files.ReadWrite.All",
    "Sites.Read.All",
    "Sites.ReadWrite.All",
    "Sites.Manage.All",
    "Sites.FullControl.All",
];

fn has_any(ctx: &Ctx, wanted: &[&str]) -> bool {
    let p = &ctx.principal;
    p.roles.iter().chain(p.scopes.iter()).any(|g| wanted.iter().any(|w| w.eq_ignore_ascii_case(g)))
}

fn insufficient() -> GraphError {
    GraphError::new(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// Reading a user other than the caller needs a directory read permission; a signed-in user may
/// always read themselves (User.Read is implied by any delegated token the emulator issues).
fn check_read(ctx: &Ctx, user_id: &str) -> Result<(), GraphError> {
    if ctx.principal.user_id.as_deref() == Some(user_id) || has_any(ctx, READ_USERS) {
        Ok(())
    } else {
        Err(insufficient())
    }
}

/// A user in Graph's default property set; `accountEnabled` only when `$select` asks for it.
fn user_json(ctx: &Ctx, u: &User) -> Value {
    let (given, surname) = match u.display_name.split_once(' ') {
        Some((g, s)) => (json!(g), json!(s)),
        None => (json!(u.display_name), Value::Null),
    };
    let mut v = json!({
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": given,
        "jobTitle": null,
        "mail": u.mail,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": null,
        "surname": surname,
        "userPrincipalName": u.user_principal_name,
        "id": u.id,
    });
    let selected =
        |name: &str| ctx.query.get("select").is_some_and(|s| s.split(',').any(|x| x.trim().eq_ignore_ascii_case(name)));
    if selected("accountEnabled") {
        v["accountEnabled"] = json!(!u.disabled);
    }
    if selected("userType") {
        v["userType"] = json!("Member");
    }
    v
}

/// `$filter` support for the handful of forms directory clients use: `prop eq 'value'` (or
/// `eq true|false`), optionally joined with `and`.
fn filter_matches(filter: &str, u: &User) -> Result<bool, GraphError> {
    let unsupported = || {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            format!("Unsupported or invalid query filter clause: {filter}"),
        )
    };
    let mut all = true;
    for clause in filter.split(" and ") {
        let mut parts = clause.trim().splitn(3, ' ');
        let (Some(prop), Some(op), Some(val)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(unsupported());
        };
        if !op.eq_ignore_ascii_case("eq") {
            return Err(unsupported());
        }
        let val = val.trim();
        let text = val.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).map(|v| v.replace("''", "'"));
        let ok = match (prop, text) {
            ("id", Some(t)) => u.id.eq_ignore_ascii_case(&t),
            ("userPrincipalName", Some(t)) => u.user_principal_name.eq_ignore_ascii_case(&t),
            ("mail", Some(t)) => u.mail.eq_ignore_ascii_case(&t),
            ("displayName", Some(t)) => u.display_name.eq_ignore_ascii_case(&t),
            ("userType", Some(t)) => t.eq_ignore_ascii_case("Member"),
            ("accountEnabled", None) => match val {
                "true" => !u.disabled,
                "false" => u.disabled,
                _ => return Err(unsupported()),
            },
            _ => return Err(unsupported()),
        };
        all &= ok;
    }
    Ok(all)
}

pub fn list(ctx: &Ctx) -> GraphResult {
    if !has_any(ctx, READ_USERS) {
        return Err(insufficient());
    }
    let filter = ctx.query.get("filter").map(str::to_string);
    let values = {
        let st = ctx.emu.state();
        let mut users: Vec<&User> = st.users.values().collect();
        users.sort_by_key(|u| u.user_principal_name.to_lowercase());
        let mut out = Vec::new();
        for u in users {
            if let Some(f) = &filter {
                if !filter_matches(f, u)? {
                    continue;
                }
            }
            out.push(user_json(ctx, u));
        }
        out
    };
    Ok(ctx.paged(values))
}

pub fn get(ctx: &Ctx, sel: &UserSel) -> GraphResult {
    let v = {
        let st = ctx.emu.state();
        let id = resolve::user_id(ctx, &st, sel)?;
        check_read(ctx, &id)?;
        user_json(ctx, &st.users[&id])
    };
    Ok(ctx.ok(v))
}

pub fn drives(ctx: &Ctx, sel: &UserSel) -> GraphResult {
    let values = {
        let st = ctx.emu.state();
        let id = resolve::user_id(ctx, &st, sel)?;
        if ctx.principal.user_id.as_deref() != Some(id.as_str()) && !has_any(ctx, READ_FILES) {
            return Err(GraphError::access_denied("Access denied"));
        }
        let user = &st.users[&id];
        let drive = user.drive_id.as_ref().and_then(|d| st.drives.get(d));
        let Some(drive) = drive else {
            return Err(GraphError::new(StatusCode::NOT_FOUND, "ResourceNotFound", "User's mysite not found."));
        };
        vec![render::drive_json(ctx.emu, &st, drive)]
    };
    Ok(ctx.paged(values))
}
