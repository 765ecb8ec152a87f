//! SharePoint as a Vesp restore session sees it. [`VespCtx`] is the caller's working session of type Vesp in the
//! request's era; [`SiteCtx`] adds one site of that session with its lists and libraries, at the session's instant.
//! Browse, search, save, send and restore all start from one of the two, so a session, site, list or item the caller
//! may not see is the same 404 everywhere.
//!
//! Ids (veeam-api-notes §9.1): site, list and library ids are the catalog container UUIDs; document and folder ids of
//! libraries are the Microsoft drive item ids. Generic list item ids are only unique within their list (`"1"`, `"2"`,
//! …), while the vendor's item paths sit below the *site*, so an item (or folder) of a generic list is addressed as
//! `<list UUID, 32 hex digits><item id>` ([`SiteList::item_api_id`], [`SiteCtx::find_item`]).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use repo::catalog::{Catalog, ContainerInfo, ContainerKind, ContainerQuery, ContainerRow, ItemRow, ListInfo, SiteInfo};
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::sessions::{RestoreSession, SessionKind};

/// A page size that takes every row of a catalog listing at once.
pub const EVERY_ROW: i64 = i64::MAX / 4;

/// 404 for SharePoint content the session does not have (`what`: "site", "list", "document", …).
pub fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("SharePoint {what} {id} was not found in this restore session."))
}

/// The caller's working restore session of type Vesp, in the request's era.
pub struct VespCtx {
    pub catalog: Catalog,
    pub version: ApiVersion,
    pub session: RestoreSession,
}

/// One site of a [`VespCtx`] with its lists and libraries. It exists only at an instant, so the session is not empty.
pub struct SiteCtx {
    pub catalog: Catalog,
    pub version: ApiVersion,
    pub session: RestoreSession,
    /// The session's instant.
    pub at: DateTime<Utc>,
    pub site: Site,
    /// Lists and libraries of the site, by title; deleted ones only when the session shows deleted items.
    pub lists: Vec<SiteList>,
}

/// A site as the session shows it.
#[derive(Debug, Clone)]
pub struct Site {
    /// The catalog id.
    pub id: Uuid,
    pub info: SiteInfo,
    /// Deleted before the session's instant (shown only with `showDeleted`).
    pub deleted: bool,
}

/// A list or document library as the session shows it.
#[derive(Debug, Clone)]
pub struct SiteList {
    /// The catalog id.
    pub id: Uuid,
    pub info: ListInfo,
    /// Deleted before the session's instant (shown only with `showDeleted`).
    pub deleted: bool,
    /// When the backup first saw this state of the list.
    pub valid_from: DateTime<Utc>,
}

impl Site {
    /// The site of a catalog row; `None` for another kind of container.
    pub fn from_row(row: ContainerRow) -> Option<Site> {
        match row.info {
            ContainerInfo::Site(info) => Some(Site { id: row.id, info, deleted: row.deleted }),
            _ => None,
        }
    }
}

impl SiteList {
    /// The list of a catalog row; `None` for another kind of container.
    pub fn from_row(row: ContainerRow) -> Option<SiteList> {
        match row.info {
            ContainerInfo::List(info) => {
                Some(SiteList { id: row.id, info, deleted: row.deleted, valid_from: row.valid_from })
            }
            _ => None,
        }
    }

    pub fn is_library(&self) -> bool {
        self.info.is_document_library
    }

    /// The API id of an item of this list (see the [module docs](self)).
    pub fn item_api_id(&self, item_id: &str) -> String {
        if self.is_library() {
            item_id.to_string()
        } else {
            format!("{}{item_id}", self.id.simple())
        }
    }

    /// The href segment of this container below its site: `Libraries/{id}` or `Lists/{id}`.
    pub fn rel(&self) -> String {
        if self.is_library() {
            format!("Libraries/{}", self.id)
        } else {
            format!("Lists/{}", self.id)
        }
    }
}

impl VespCtx {
    /// The caller's working session `sid`, which must be of type Vesp.
    pub async fn load(
        state: &AppState,
        user: &CurrentUser,
        version: ApiVersion,
        sid: &str,
    ) -> Result<VespCtx, ApiError> {
        let session = crate::ctx::working::session(state, user, sid).await?;
        if session.kind != SessionKind::Vesp {
            return Err(ApiError::not_found(format!(
                "Restore session {} is of type {}; SharePoint sites are in restore sessions of type Vesp.",
                session.id,
                session.kind.as_str()
            )));
        }
        Ok(VespCtx { catalog: state.catalog.clone(), version, session })
    }

    /// The session's instant; `None` for an empty session.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        self.session.browse_at
    }

    pub fn show_deleted(&self) -> bool {
        self.session.show_deleted
    }

    /// The containers of `kind` of the session's organization visible at `at` (add a page).
    pub fn containers(&self, at: DateTime<Utc>, kind: ContainerKind) -> ContainerQuery {
        ContainerQuery::new(self.session.organization_id, at).kind(kind).show_deleted(self.show_deleted())
    }

    /// Site `site_id` as the session shows it: 404 when it is unknown, of another organization, deleted without
    /// `showDeleted`, or the session is empty.
    pub async fn find_site(&self, site_id: &str) -> Result<(DateTime<Utc>, Site), ApiError> {
        let nf = || not_found("site", site_id);
        let at = self.at().ok_or_else(nf)?;
        let uuid = Uuid::parse_str(site_id.trim()).map_err(|_| nf())?;
        let row = self.catalog.container_at(uuid, at).await?.ok_or_else(nf)?;
        if row.organization_id != self.session.organization_id || (row.deleted && !self.show_deleted()) {
            return Err(nf());
        }
        Ok((at, Site::from_row(row).ok_or_else(nf)?))
    }

    /// Site `site_id` (as [`VespCtx::find_site`]) with its lists and libraries.
    pub async fn site(self, site_id: &str) -> Result<SiteCtx, ApiError> {
        let (at, site) = self.find_site(site_id).await?;
        let q = self.containers(at, ContainerKind::List).parent_ref(site.info.site_id.clone()).page(0, EVERY_ROW);
        let lists = self.catalog.containers_at(&q).await?.rows.into_iter().filter_map(SiteList::from_row).collect();
        let VespCtx { catalog, version, session } = self;
        Ok(SiteCtx { catalog, version, session, at, site, lists })
    }

    /// The catalog id of `site`'s parent site, for a subsite.
    pub async fn parent_of(&self, site: &Site) -> Result<Option<Uuid>, ApiError> {
        let Some(graph_id) = &site.info.parent_site_id else { return Ok(None) };
        Ok(self.catalog.container_id(self.session.organization_id, ContainerKind::Site, graph_id).await?)
    }
}

impl SiteCtx {
    /// The session part, e.g. to look up another site.
    pub fn vesp(&self) -> VespCtx {
        VespCtx { catalog: self.catalog.clone(), version: self.version, session: self.session.clone() }
    }

    /// The list (`library` `Some(false)`), library (`Some(true)`) or either (`None`) with id `id`; 404 naming it.
    pub fn list(&self, id: &str, library: Option<bool>) -> Result<&SiteList, ApiError> {
        let what = match library {
            Some(true) => "library",
            Some(false) => "list",
            None => "list or library",
        };
        let uuid = Uuid::parse_str(id.trim()).map_err(|_| not_found(what, id))?;
        self.lists
            .iter()
            .find(|l| l.id == uuid && library.is_none_or(|lib| lib == l.is_library()))
            .ok_or_else(|| not_found(what, id))
    }

    /// Lists (`false`) or libraries (`true`).
    pub fn lists_of_kind(&self, library: bool) -> impl Iterator<Item = &SiteList> {
        self.lists.iter().filter(move |l| l.is_library() == library)
    }

    /// Item `item_id` of `list` as the session shows it: it existed at `at`, and is not deleted unless `showDeleted`.
    pub async fn visible_item(&self, list: &SiteList, item_id: &str) -> Result<Option<ItemRow>, ApiError> {
        let row = self.catalog.item_at(list.id, item_id, self.at).await?;
        Ok(row.filter(|i| !i.deleted || self.session.show_deleted))
    }

    /// The first visible item with API id `api_id` (see the [module docs](self)) that `fits`, in `lists` (the
    /// site's lists when `None`): a generic list's `<list UUID><item id>` first, then a drive item id of a library
    /// (lenient: also a bare list item id of a generic list).
    pub async fn find_item(
        &self,
        lists: Option<&[SiteList]>,
        api_id: &str,
        fits: impl Fn(&SiteList, &ItemRow) -> bool,
    ) -> Result<Option<(SiteList, ItemRow)>, ApiError> {
        let lists = lists.unwrap_or(&self.lists);
        let api_id = api_id.trim();
        if api_id.is_empty() {
            return Ok(None);
        }
        if api_id.len() > 32 && api_id.is_char_boundary(32) {
            if let Ok(uuid) = Uuid::try_parse(&api_id[..32]) {
                if let Some(list) = lists.iter().find(|l| l.id == uuid && !l.is_library()) {
                    if let Some(row) = self.visible_item(list, &api_id[32..]).await? {
                        if fits(list, &row) {
                            return Ok(Some((list.clone(), row)));
                        }
                    }
                }
            }
        }
        let libraries_first = lists.iter().filter(|l| l.is_library()).chain(lists.iter().filter(|l| !l.is_library()));
        for list in libraries_first {
            if let Some(row) = self.visible_item(list, api_id).await? {
                if fits(list, &row) {
                    return Ok(Some((list.clone(), row)));
                }
            }
        }
        Ok(None)
    }
}

/// The path parameters of a SharePoint route, by name.
async fn path_params(parts: &mut Parts, state: &AppState) -> Result<HashMap<String, String>, ApiError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::not_found("The resource was not found."))?;
    Ok(params)
}

impl FromRequestParts<AppState> for VespCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let version = ApiVersion::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        VespCtx::load(state, &user, version, params.get("id").map(String::as_str).unwrap_or("")).await
    }
}

impl FromRequestParts<AppState> for SiteCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let vesp = VespCtx::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        vesp.site(params.get("siteId").map(String::as_str).unwrap_or("")).await
    }
}

/// Site `site_id` of the caller's working Vesp session `sid` (for handlers that load it themselves).
pub async fn load(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    site_id: &str,
) -> Result<SiteCtx, ApiError> {
    VespCtx::load(state, user, version, sid).await?.site(site_id).await
}
