//! A job's selected and excluded items as sub-resources (v6+): `/Jobs/{id}/SelectedItems` and `/ExcludedItems` —
//! list (a page), add (`POST` an array of `RESTJobItemComposed`; an item already there is kept once), remove (`DELETE`
//! with the item ids as a JSON array body or `?ids=a,b`), one item, and replace one (`PUT`). Each operation is one
//! handler at both paths; [`ItemList`] reads which list from the path. Items are users (their OneDrive) and sites
//! (with their subsites), as in `POST /Jobs` ([`crate::wire::job::JobItemBody`]); an item's id is
//! [`crate::wire::job::job_item_id`]. The rules of [`crate::resources::jobs`] hold: a `SelectedItems` job keeps at
//! least one selected item, an `EntireOrganization` job has none.

use axum::extract::{FromRequestParts, MatchedPath, Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use engine::job::{JobItem, JobSettings};
use repo::catalog::Job;
use uuid::Uuid;

use crate::edge::error::ApiError;
use crate::edge::lenient::{LenientJson, LenientList};
use crate::edge::paging::{Hrefs, Page, PageContext, Paging};
use crate::edge::query::LenientQuery;
use crate::edge::version::ApiVersion;
use crate::resources::jobs::save_settings;
use crate::resources::organizations::job_by_id;
use crate::state::AppState;
use crate::wire::job::{job_item_id, JobItemBody, JobItemView};
use crate::wire::{Done, Json};

/// Extractor: which of a job's lists the path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemList {
    Selected,
    Excluded,
}

impl ItemList {
    fn segment(self) -> &'static str {
        match self {
            ItemList::Selected => "SelectedItems",
            ItemList::Excluded => "ExcludedItems",
        }
    }

    fn field(self) -> &'static str {
        match self {
            ItemList::Selected => "selectedItems",
            ItemList::Excluded => "excludedItems",
        }
    }

    fn of(self, settings: &mut JobSettings) -> &mut Vec<JobItem> {
        match self {
            ItemList::Selected => &mut settings.selected_items,
            ItemList::Excluded => &mut settings.excluded_items,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ItemList {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let path = parts.extensions.get::<MatchedPath>().map_or("", MatchedPath::as_str);
        if path.contains("/SelectedItems") {
            Ok(ItemList::Selected)
        } else if path.contains("/ExcludedItems") {
            Ok(ItemList::Excluded)
        } else {
            Err(ApiError::internal(format!("route {path} names no item list of a job")))
        }
    }
}

/// The job `id` names and its settings.
async fn job_and_settings(state: &AppState, id: &str) -> Result<(Job, JobSettings), ApiError> {
    let job = job_by_id(state, id).await?;
    let settings = JobSettings::from_stored(&job.settings).unwrap_or_default();
    Ok((job, settings))
}

/// Position of item `item_id` in `items` (404 otherwise).
fn position(items: &[JobItem], item_id: &str) -> Result<usize, ApiError> {
    let wanted = Uuid::parse_str(item_id.trim()).ok();
    items
        .iter()
        .position(|i| Some(job_item_id(i)) == wanted)
        .ok_or_else(|| ApiError::not_found(format!("Item {item_id} is not in this list of the job.")))
}

/// The items of a job's list (users, sites).
#[utoipa::path(
    get,
    path = "/{version}/Jobs/{id}/SelectedItems",
    tag = "Job",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Job id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of items", body = [JobItemView]),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_job_items(
    State(state): State<AppState>,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    list: ItemList,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (job, mut settings) = job_and_settings(&state, &id).await?;
    let items = list.of(&mut settings);
    let href = format!("Jobs/{}/{}", job.id, list.segment());
    let out: Vec<JobItemView> = paging.slice(items).iter().map(|i| JobItemView::new(&hrefs, &href, i)).collect();
    Ok(Page::new(&ctx, paging, out).with_total_count(items.len() as u64).into_response())
}

/// Add items to a job's list (an item already there stays once).
#[utoipa::path(
    post,
    path = "/{version}/Jobs/{id}/SelectedItems",
    tag = "Job",
    params(("version" = String, Path, description = "API version: v6 … v8"), ("id" = String, Path, description = "Job id")),
    request_body(content = Vec<JobItemBody>, description = "Array of RESTJobItemComposed: User (user.id) or Site (site.id)"),
    responses(
        (status = 200, description = "Added (v6/v7)"),
        (status = 204, description = "Added (v8)"),
        (status = 400, description = "An item is invalid (named), or the job backs up the entire organization", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo),
        (status = 409, description = "The job changed meanwhile", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn add_job_items(
    State(state): State<AppState>,
    version: ApiVersion,
    list: ItemList,
    Path((_v, id)): Path<(String, String)>,
    LenientList(body): LenientList<JobItemBody>,
) -> Result<Done, ApiError> {
    let (job, mut settings) = job_and_settings(&state, &id).await?;
    let field = list.field();
    let items = list.of(&mut settings);
    for (i, item) in body.iter().enumerate() {
        let item = item.to_item(&format!("{field}[{i}]"))?;
        if !items.contains(&item) {
            items.push(item);
        }
    }
    save_settings(&state, &job, &settings).await?;
    Ok(Done(version))
}

/// Remove items from a job's list, by id (a JSON array body, or `?ids=a,b`).
#[utoipa::path(
    delete,
    path = "/{version}/Jobs/{id}/SelectedItems",
    tag = "Job",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Job id"),
        ("ids" = Option<String>, Query, description = "Item ids, comma-separated (instead of the body)")
    ),
    request_body(content = Vec<String>, description = "Item ids"),
    responses(
        (status = 200, description = "Removed (v6/v7)"),
        (status = 204, description = "Removed (v8)"),
        (status = 400, description = "No ids, or the last selected item of a SelectedItems job", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown job, or an id not in the list", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn remove_job_items(
    State(state): State<AppState>,
    version: ApiVersion,
    list: ItemList,
    Path((_v, id)): Path<(String, String)>,
    q: LenientQuery,
    LenientList(body): LenientList<String>,
) -> Result<Done, ApiError> {
    let from_query = q.get("ids").map(|ids| ids.split(',').map(|i| i.trim().to_string()).collect::<Vec<_>>());
    let ids: Vec<String> = body.into_iter().chain(from_query.into_iter().flatten()).filter(|i| !i.is_empty()).collect();
    if ids.is_empty() {
        return Err(ApiError::bad_request("'ids' is required: the ids of the items to remove"));
    }
    let (job, mut settings) = job_and_settings(&state, &id).await?;
    let items = list.of(&mut settings);
    for item_id in &ids {
        let at = position(items, item_id)?;
        items.remove(at);
    }
    save_settings(&state, &job, &settings).await?;
    Ok(Done(version))
}

/// One item of a job's list.
#[utoipa::path(
    get,
    path = "/{version}/Jobs/{id}/SelectedItems/{itemId}",
    tag = "Job",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Job id"),
        ("itemId" = String, Path, description = "Item id")
    ),
    responses(
        (status = 200, description = "The item", body = JobItemView),
        (status = 404, description = "Unknown job or item", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_job_item(
    State(state): State<AppState>,
    hrefs: Hrefs,
    list: ItemList,
    Path((_v, id, item_id)): Path<(String, String, String)>,
) -> Result<Json<JobItemView>, ApiError> {
    let (job, mut settings) = job_and_settings(&state, &id).await?;
    let items = list.of(&mut settings);
    let item = &items[position(items, &item_id)?];
    Ok(Json(JobItemView::new(&hrefs, &format!("Jobs/{}/{}", job.id, list.segment()), item)))
}

/// Replace one item of a job's list (its id changes with what it names).
#[utoipa::path(
    put,
    path = "/{version}/Jobs/{id}/SelectedItems/{itemId}",
    tag = "Job",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Job id"),
        ("itemId" = String, Path, description = "Item id")
    ),
    request_body = JobItemBody,
    responses(
        (status = 200, description = "Replaced (v6/v7)"),
        (status = 204, description = "Replaced (v8)"),
        (status = 400, description = "The item is invalid (named)", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown job or item", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn replace_job_item(
    State(state): State<AppState>,
    version: ApiVersion,
    list: ItemList,
    Path((_v, id, item_id)): Path<(String, String, String)>,
    LenientJson(body): LenientJson<JobItemBody>,
) -> Result<Done, ApiError> {
    let (job, mut settings) = job_and_settings(&state, &id).await?;
    let field = list.field();
    let items = list.of(&mut settings);
    let at = position(items, &item_id)?;
    items[at] = body.to_item(field)?;
    save_settings(&state, &job, &settings).await?;
    Ok(Done(version))
}
