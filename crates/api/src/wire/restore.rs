//! Answers of the OneDrive and SharePoint restores (restore, copyTo, restoreTo; veeam-api-notes §8, §9.2).
//!
//! v6/v7 (and v2–v5 `…/Action`) answer statistics of the restore they ran in the request; v8 answers
//! [`AsyncRestore`] at once and runs the restore in the background. [`RestoreAnswer`] is that choice.

use engine::restore::{ItemOutcome, ItemStatus, RestoreStats};
use engine::sp_restore::{SpIssue, SpRestoreStats};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::edge::lenient::de::non_empty;
use crate::edge::lenient::IdList;
use crate::store::restore_jobs::result_of;
use crate::store::sessions::Outcome;

// ---------------------------------------------------------------------------------------------------------------
// Options (request bodies; the credentials beside them: [`crate::ctx::restore_auth::Credentials`])
// ---------------------------------------------------------------------------------------------------------------

/// What happens to an item that exists in the tenant: `Overwrite` it (renamed/moved back, content written when it
/// differs), or `Keep` it and write a `(Restored …)` copy beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum DocumentAction {
    Overwrite,
    Keep,
}

/// Which versions of a document are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum DocumentVersion {
    Last,
    All,
}

/// What a copy does with a file of the same path: `Overwrite` it, or `Merge` the copied versions into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum DocumentLastVersionAction {
    Overwrite,
    Merge,
}

/// `RESTRestoreToOriginal` (`RESTRestoreToOriginalDocuments`/`…Folders` add `documents`/`folders`, the ids of a
/// bulk path): a OneDrive restore to the original location. Beyond the vendor's, with the meaning of its SharePoint
/// `restoreChangedItems`/`restoreDeletedItems`: `changedItems` (restore items that still exist with other content,
/// name or folder) and `deletedItems` (restore items gone from the tenant, and items deleted in the backup when the
/// session shows them); both default to true.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTRestoreToOriginal)]
pub struct RestoreToOriginal {
    pub document_action: Option<DocumentAction>,
    pub document_version: Option<DocumentVersion>,
    pub changed_items: Option<bool>,
    pub deleted_items: Option<bool>,
    /// Bulk documents path: `[{id}]` or ids.
    #[schema(value_type = Option<Vec<Object>>)]
    pub documents: Option<IdList>,
    /// Bulk folders path: `[{id}]` or ids.
    #[schema(value_type = Option<Vec<Object>>)]
    pub folders: Option<IdList>,
}

/// `RESTCopyToFolder` (`RestCopyToDocuments`/`RESTCopyToFolders` add `documents`/`folders`): a OneDrive copyTo.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTCopyToFolder)]
pub struct CopyTo {
    /// The target OneDrive (by its id in the backup; default: the source).
    pub one_drive: Option<OneDriveRef>,
    /// Below which folder of the target the items go (default: its root).
    pub folder: Option<String>,
    pub document_version: Option<DocumentVersion>,
    pub document_last_version_action: Option<DocumentLastVersionAction>,
    /// `false`: copy the last version only, whatever `documentVersion` says.
    pub changed_items: Option<bool>,
    /// `false`: leave out items deleted in the backup.
    pub deleted_items: Option<bool>,
    pub restore_permissions: Option<bool>,
    pub send_shared_links_notification: Option<bool>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub documents: Option<IdList>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub folders: Option<IdList>,
}

/// `RESTBulkRestoreConfig`: whole OneDrives back to their original location.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTBulkRestoreConfig)]
pub struct BulkRestore {
    pub one_drives: Option<Vec<OneDriveRef>>,
    /// Leave out OneDrives that are not in the session instead of answering 404.
    pub skip_unresolved: Option<bool>,
    pub document_action: Option<DocumentAction>,
    pub document_version: Option<DocumentVersion>,
    pub changed_items: Option<bool>,
    pub deleted_items: Option<bool>,
}

/// Options of a SharePoint restore (`RESTRestoreSiteConfig`, `RESTRestoreListConfig`, `RESTRestoreItemConfig`, …
/// and their `RestoreTo` forms): the target (`list` title, `siteURL` or `alias`, a site next to the source) and what
/// is written; `documents`/`folders`/`items` are the ids of a bulk path.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTRestoreSharePointConfig)]
pub struct SharePointRestore {
    pub document_version: Option<DocumentVersion>,
    /// `Keep` writes a copy beside an existing document.
    pub document_action: Option<DocumentAction>,
    /// `Keep` writes a copy beside an existing list item.
    pub list_item_action: Option<DocumentAction>,
    pub document_last_version_action: Option<DocumentLastVersionAction>,
    pub changed_items: Option<bool>,
    pub deleted_items: Option<bool>,
    pub restore_permissions: Option<bool>,
    pub send_shared_links_notification: Option<bool>,
    /// Target list title.
    pub list: Option<String>,
    /// Target site.
    #[serde(rename = "siteURL")]
    pub site_url: Option<String>,
    /// Target site next to the source: `…/sites/{alias}`.
    pub alias: Option<String>,
    /// Site restores: with subsites (default true).
    pub restore_subsites: Option<bool>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub documents: Option<IdList>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub folders: Option<IdList>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub items: Option<IdList>,
}

/// `RESTDeviceCodeRequestOptions`: the application a device code is for (default: the organization's own).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTDeviceCodeRequestOptions)]
pub struct DeviceCodeRequest {
    #[serde(default, deserialize_with = "crate::edge::lenient::de::guid::option")]
    #[schema(value_type = Option<String>)]
    pub target_application_id: Option<Uuid>,
    /// Accepted as documented; only the organization's own tenant is served.
    pub target_region: Option<TargetRegion>,
}

/// The Microsoft 365 cloud of a device code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum TargetRegion {
    Worldwide,
    Germany,
    China,
    USDefence,
    USGovernment,
}

// ---------------------------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------------------------

/// `RESTRestoreObject`: an item that failed or was restored with warnings (SharePoint: also a list or site that
/// could not be restored, with its `id`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RESTRestoreObject)]
pub struct RestoreIssue {
    /// Catalog id of a list or site (SharePoint list- and site-level issues only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = "uuid")]
    pub id: Option<Uuid>,
    pub path: String,
    pub title: String,
    /// `Item`, `List` or `Site`.
    #[serde(rename = "type")]
    pub kind: String,
    pub warnings: Vec<String>,
    pub error: Option<String>,
}

impl RestoreIssue {
    /// An item's issue; `error` is its message when it failed.
    pub fn item(i: &ItemOutcome) -> RestoreIssue {
        RestoreIssue {
            id: None,
            path: i.path.clone(),
            title: i.path.rsplit('/').next().unwrap_or(&i.path).to_string(),
            kind: "Item".into(),
            warnings: i.warnings.clone(),
            error: i.message.clone().filter(|_| i.status == ItemStatus::Failed),
        }
    }

    /// A SharePoint list or site that could not be restored.
    pub fn container(i: &SpIssue) -> RestoreIssue {
        RestoreIssue {
            id: Some(i.id),
            path: i.title.clone(),
            title: i.title.clone(),
            kind: i.kind.into(),
            warnings: Vec::new(),
            error: Some(i.message.clone()),
        }
    }

    /// The items of `s` that failed or have warnings.
    fn items_of(s: &RestoreStats) -> impl Iterator<Item = &ItemOutcome> {
        s.items.iter().filter(|i| i.status == ItemStatus::Failed || !i.warnings.is_empty())
    }
}

/// `RESTItemRestoreStatistics`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTItemRestoreStatistics)]
pub struct ItemRestoreStatistics {
    pub total_items_count: u64,
    pub restored_items_count: u64,
    pub failed_items_count: u64,
    /// Always 0: an item that cannot be restored is failed, not skipped.
    pub skipped_items_by_error_count: u64,
    /// Unchanged items and items the options filtered out.
    pub skipped_items_by_no_changes_count: u64,
    /// Sharing that could not be re-created.
    pub failed_restrictions_count: u64,
    pub restore_issues: Vec<RestoreIssue>,
}

impl ItemRestoreStatistics {
    /// The statistics of a OneDrive restore.
    pub fn new(s: &RestoreStats) -> ItemRestoreStatistics {
        ItemRestoreStatistics::with_issues(s, RestoreIssue::items_of(s).map(RestoreIssue::item).collect())
    }

    /// The statistics of a SharePoint restore: its items, then the lists and sites that could not be restored. An
    /// item's `error` is its message whatever its status (a skipped item with warnings tells why it was skipped).
    pub fn sharepoint(s: &SpRestoreStats) -> ItemRestoreStatistics {
        let items = RestoreIssue::items_of(&s.items)
            .map(|i| RestoreIssue { error: i.message.clone(), ..RestoreIssue::item(i) });
        let issues = items.chain(s.issues.iter().map(RestoreIssue::container)).collect();
        ItemRestoreStatistics::with_issues(&s.items, issues)
    }

    fn with_issues(s: &RestoreStats, restore_issues: Vec<RestoreIssue>) -> ItemRestoreStatistics {
        ItemRestoreStatistics {
            total_items_count: s.items.len() as u64,
            restored_items_count: s.restored,
            failed_items_count: s.failed,
            skipped_items_by_error_count: 0,
            skipped_items_by_no_changes_count: s.skipped,
            failed_restrictions_count: s.permissions_failed,
            restore_issues,
        }
    }
}

/// `RESTListRestoreStatistics`: a list or library restore.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTListRestoreStatistics)]
pub struct ListRestoreStatistics {
    #[serde(flatten)]
    pub items: ItemRestoreStatistics,
    pub restored_lists_count: u64,
    pub failed_lists_count: u64,
}

impl ListRestoreStatistics {
    pub fn new(s: &SpRestoreStats) -> ListRestoreStatistics {
        ListRestoreStatistics {
            items: ItemRestoreStatistics::sharepoint(s),
            restored_lists_count: s.lists_restored,
            failed_lists_count: s.lists_failed,
        }
    }
}

/// `RESTWebRestoreStatistics`: a site restore.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTWebRestoreStatistics)]
pub struct WebRestoreStatistics {
    #[serde(flatten)]
    pub lists: ListRestoreStatistics,
    pub restored_webs_count: u64,
    pub failed_webs_count: u64,
}

impl WebRestoreStatistics {
    pub fn new(s: &SpRestoreStats) -> WebRestoreStatistics {
        WebRestoreStatistics {
            lists: ListRestoreStatistics::new(s),
            restored_webs_count: s.webs_restored,
            failed_webs_count: s.webs_failed,
        }
    }
}

/// `RESTAsyncRestoreResponse` (v8): the restore operation session to poll with `GET /v8/RestoreSessions/{id}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTAsyncRestoreResponse)]
pub struct AsyncRestore {
    #[schema(value_type = String, format = "uuid")]
    pub session_id: Uuid,
}

/// The answer of a restore: v8 starts it ([`AsyncRestore`]), earlier eras answer the statistics `S` of the restore
/// they ran.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RestoreAnswer<S> {
    Started(AsyncRestore),
    Finished(S),
}

/// `RESTSharePointBulkRestoreStatistics`: the answer of a v6/v7 bulk restore of whole OneDrives.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RESTSharePointBulkRestoreStatistics)]
pub struct BulkRestoreStatistics {
    /// `Success`, `Warning` or `Failed`: the worst of the details.
    pub status: &'static str,
    pub details: Vec<OneDriveRestoreDetails>,
    /// The errors of the OneDrives that could not be restored, joined.
    pub error: Option<String>,
}

impl BulkRestoreStatistics {
    /// The answer for the restored OneDrives: each one's statistics, or why it could not be restored at all.
    pub fn new(results: &[(Uuid, Result<RestoreStats, String>)]) -> BulkRestoreStatistics {
        let details: Vec<OneDriveRestoreDetails> =
            results.iter().map(|(id, outcome)| OneDriveRestoreDetails::new(*id, outcome)).collect();
        let rank = |status: &str| ["Success", "Warning", "Failed"].iter().position(|s| *s == status).unwrap_or(0);
        let status = details.iter().map(|d| d.status).max_by_key(|s| rank(s)).unwrap_or("Success");
        let errors: Vec<&str> = results.iter().filter_map(|(_, r)| r.as_ref().err().map(String::as_str)).collect();
        let error = if errors.is_empty() { None } else { Some(errors.join(" ")) };
        BulkRestoreStatistics { status, details, error }
    }
}

/// `RESTExtendedCommonStatistic`: one OneDrive of a bulk restore.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTExtendedCommonStatistic)]
pub struct OneDriveRestoreDetails {
    pub one_drive: OneDriveRef,
    pub status: &'static str,
    pub error: Option<String>,
    pub details: RestrictionStatistics,
}

/// `{id}` of a OneDrive.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OneDriveRef {
    #[serde(deserialize_with = "non_empty")]
    pub id: String,
}

/// `RESTCommonRestoreStatistics`: what a bulk restore tells per OneDrive.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTCommonRestoreStatistics)]
pub struct RestrictionStatistics {
    pub failed_restrictions_count: u64,
    pub restore_issues: Vec<RestoreIssue>,
}

impl OneDriveRestoreDetails {
    /// One OneDrive's line: its statistics, or why it could not be restored at all.
    pub fn new(one_drive: Uuid, outcome: &Result<RestoreStats, String>) -> OneDriveRestoreDetails {
        let (status, error, failed_restrictions_count, restore_issues) = match outcome {
            Ok(s) => (
                result_of(s).as_str(),
                None,
                s.permissions_failed,
                RestoreIssue::items_of(s).map(RestoreIssue::item).collect(),
            ),
            Err(m) => (Outcome::Failed.as_str(), Some(m.clone()), 0, Vec::new()),
        };
        OneDriveRestoreDetails {
            one_drive: OneDriveRef { id: one_drive.to_string() },
            status,
            error,
            details: RestrictionStatistics { failed_restrictions_count, restore_issues },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failed_item() -> ItemOutcome {
        ItemOutcome {
            item_id: "01X".into(),
            path: "a/b.txt".into(),
            status: ItemStatus::Failed,
            target_item_id: None,
            target_name: None,
            versions_written: 0,
            message: Some("boom".into()),
            warnings: vec![],
        }
    }

    #[test]
    fn issues_follow_rest_restore_object() {
        let mut s = RestoreStats::default();
        s.items.push(failed_item());
        let v = serde_json::to_value(ItemRestoreStatistics::new(&s)).unwrap();
        assert_eq!(
            v["restoreIssues"][0],
            json!({"path": "a/b.txt", "title": "b.txt", "type": "Item", "warnings": [], "error": "boom"})
        );
    }

    #[test]
    fn site_statistics_keep_the_vendor_order() {
        let mut s = SpRestoreStats::default();
        s.items.items.push(failed_item());
        s.issues.push(SpIssue { kind: "List", id: Uuid::nil(), title: "Docs".into(), message: "gone".into() });
        let v = serde_json::to_value(WebRestoreStatistics::new(&s)).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "totalItemsCount",
                "restoredItemsCount",
                "failedItemsCount",
                "skippedItemsByErrorCount",
                "skippedItemsByNoChangesCount",
                "failedRestrictionsCount",
                "restoreIssues",
                "restoredListsCount",
                "failedListsCount",
                "restoredWebsCount",
                "failedWebsCount"
            ]
        );
        assert_eq!(
            v["restoreIssues"][1],
            json!({"id": Uuid::nil(), "path": "Docs", "title": "Docs", "type": "List", "warnings": [], "error": "gone"})
        );
    }

    #[test]
    fn v8_answers_the_session_id_only() {
        let a: RestoreAnswer<ItemRestoreStatistics> = RestoreAnswer::Started(AsyncRestore { session_id: Uuid::nil() });
        assert_eq!(serde_json::to_value(a).unwrap(), json!({"sessionId": Uuid::nil()}));
    }
}

/// `RESTDeviceCodeResponse`: what the user enters where, before the code expires.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTDeviceCodeResponse)]
pub struct DeviceCodeResponse {
    pub user_code: String,
    pub verification_url: String,
    /// Seconds.
    pub expires_in: u64,
    pub message: String,
}
