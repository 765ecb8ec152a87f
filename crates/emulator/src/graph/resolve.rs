//! Turning selectors (`/me`, `/users/{upn}`, `/sites/{host}:/path`, `root:/a/b:`) into ids.

use super::routes::{DriveSel, ItemBase, ItemSel, SiteSel, UserSel};
use crate::ctx::Ctx;
use crate::error::GraphError;
use crate::state::State;

pub fn user_id(ctx: &Ctx, st: &State, u: &UserSel) -> Result<String, GraphError> {
    match u {
        UserSel::Me => ctx
            .principal
            .user_id
            .clone()
            .ok_or_else(|| GraphError::bad_request("/me request is only valid with delegated authentication flow.")),
        UserSel::Key(k) => st.find_user(k).map(|u| u.id.clone()).ok_or_else(|| {
            GraphError::new(
                axum::http::StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                format!(
                    "Resource '{k}' does not exist or one of its queried reference-property objects are not present."
                ),
            )
        }),
    }
}

pub fn site_id(st: &State, s: &SiteSel) -> Result<String, GraphError> {
    let found = match s {
        SiteSel::Root => {
            st.sites.values().find(|x| x.hostname == st.tenant.sp_host() && x.path == "/").map(|x| x.id.clone())
        }
        SiteSel::Id(id) => {
            // Accept the full composite id, or `{host},{collection}` / bare collection id forms.
            st.sites.get(id).or_else(|| st.sites.values().find(|x| x.id.eq_ignore_ascii_case(id))).map(|x| x.id.clone())
        }
        SiteSel::Path { host, path } => {
            let want = path.trim_end_matches('/');
            let want = if want.is_empty() { "/" } else { want };
            st.sites
                .values()
                .find(|x| x.hostname.eq_ignore_ascii_case(host) && x.path.eq_ignore_ascii_case(want))
                .map(|x| x.id.clone())
        }
    };
    found.ok_or_else(|| {
        GraphError::new(axum::http::StatusCode::NOT_FOUND, "itemNotFound", "Requested site could not be found")
    })
}

pub fn drive_id(ctx: &Ctx, st: &State, d: &DriveSel) -> Result<String, GraphError> {
    match d {
        DriveSel::Id(id) => {
            if st.drives.contains_key(id) {
                Ok(id.clone())
            } else {
                Err(GraphError::new(
                    axum::http::StatusCode::NOT_FOUND,
                    "itemNotFound",
                    "The provided drive id appears to be malformed, or does not represent a valid drive.",
                ))
            }
        }
        DriveSel::User(u) => {
            let uid = user_id(ctx, st, u)?;
            st.users.get(&uid).and_then(|u| u.drive_id.clone()).ok_or_else(|| {
                GraphError::new(axum::http::StatusCode::NOT_FOUND, "itemNotFound", "User's mysite not found.")
            })
        }
        DriveSel::Site(s) => {
            let sid = site_id(st, s)?;
            st.lists
                .values()
                .filter(|l| l.site_id == sid && l.template == "documentLibrary")
                .min_by_key(|l| (l.name != "Shared Documents" && l.display_name != "Documents", l.created))
                .and_then(|l| l.drive_id.clone())
                .ok_or_else(|| GraphError::not_found("drive"))
        }
        DriveSel::List(s, l) => {
            let sid = site_id(st, s)?;
            let list = super::resolve::list(st, &sid, l)?;
            list.drive_id.clone().ok_or_else(|| GraphError::not_found("drive"))
        }
    }
}

/// A list of a site by GUID, name or display name.
pub fn list<'a>(st: &'a State, site_id: &str, key: &str) -> Result<&'a crate::state::List, GraphError> {
    st.lists
        .values()
        .find(|l| {
            l.site_id == site_id
                && (l.id.eq_ignore_ascii_case(key)
                    || l.name.eq_ignore_ascii_case(key)
                    || l.display_name.eq_ignore_ascii_case(key))
        })
        .ok_or_else(|| {
            GraphError::new(axum::http::StatusCode::NOT_FOUND, "itemNotFound", "The specified list was not found")
        })
}

/// (drive id, item id) of a live item.
pub fn item(ctx: &Ctx, st: &State, sel: &ItemSel) -> Result<(String, String), GraphError> {
    let (drive, base) = item_base(ctx, st, sel)?;
    let id = match &sel.path {
        Some(p) => st.resolve_path(&base, p).ok_or_else(|| GraphError::not_found("item"))?,
        None => base,
    };
    Ok((drive, id))
}

/// (drive id, base item id) ignoring the relative path (for creating items by path).
pub fn item_base(ctx: &Ctx, st: &State, sel: &ItemSel) -> Result<(String, String), GraphError> {
    let drive = drive_id(ctx, st, &sel.drive)?;
    let base = match &sel.base {
        ItemBase::Root => st.drives[&drive].root_id.clone(),
        ItemBase::Id(id) => match st.live_item(id) {
            Some(it) if it.drive_id == drive => id.clone(),
            _ => return Err(GraphError::not_found("item")),
        },
    };
    Ok((drive, base))
}
