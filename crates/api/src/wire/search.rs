//! The search operations' options (v6+, OneDrive and SharePoint alike).

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The body of every `…/search`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTVESPSearchOptions)]
pub struct SearchOptions {
    /// Words and "phrases" match the name (case-insensitive substring, all must match); properties `name:`/
    /// `filename:`, `author:`, `modifiedby:`, `ext:`/`type:`, `size:[<,<=,>,>=,=]bytes`; values with spaces in double
    /// quotes; an unknown property or a malformed query is 400. Empty or absent: everything.
    pub query: Option<String>,
}

/// The query parameters of every `…/search` besides `offset`, `limit` and `setId` (accepted and ignored: results are
/// not cached).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// `All` (default), `Folders`, or the explorer's files: `Documents` (OneDrive) or `Items` (SharePoint); any case.
    pub item_type: Option<String>,
}
