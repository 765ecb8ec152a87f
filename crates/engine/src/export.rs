//! Export of a restore point as plain files, so backed-up data is never locked in our format.
//!
//! [`export_restore_point`] writes everything a restore point holds into a local directory that any tool can read:
//!
//! ```text
//! {dest}/manifest.json                              restore point id, time, organization, counts, errors
//! {dest}/OneDrive/{upn}/{folders…}/{file}           current content of each file
//! {dest}/OneDrive/{upn}/{folders…}/{file}.metadata.json
//!                                                   ids, eTag/cTag, times, createdBy/modifiedBy, quickXorHash,
//!                                                   webUrl, permissions, versions (sidecar; folders have one too)
//! {dest}/OneDrive/{upn}/{folders…}/{file}.versions/{label}{ext}
//!                                                   older versions (with `include_versions`)
//! {dest}/SharePoint/{site}/{library}/{folders…}/{file}   document libraries, laid out like OneDrives
//! {dest}/SharePoint/{site}/{list}/{id}.json         fields of a generic list item
//! {dest}/SharePoint/{site}/{list}/{id}.metadata.json
//! {dest}/SharePoint/{site}/{list}/{id}/attachments/{file}
//! ```
//!
//! Containers (OneDrives, sites, lists) get a `{name}.metadata.json` sidecar next to their folder as well.
//! `{site}` is the site title, or host + path when the site has none; subsites sit next to their parent site (the
//! sidecar records the parent). Only what was live at the restore point is exported; deleted items are not.
//!
//! Names from the tenant are made safe for any local filesystem by [`sanitize_name`] (no separators, no `.`/`..`,
//! no NUL or control characters, no bidi or zero-width characters, no Windows device names, bounded length), and
//! [`NameAllocator`] gives every entry of a directory a distinct name (case-insensitively and in Unicode NFC, sidecars
//! and version folders included), so nothing is ever
//! silently overwritten; the sidecar keeps the original name and path.
//!
//! Content is streamed from the repository chunk by chunk into the file (constant memory whatever the file size),
//! hashed on the way and compared with the quickXorHash the catalog recorded; mismatches and unreadable content are
//! reported per item in [`ExportReport::errors`] and the export goes on. Only failures that make the whole export
//! pointless (unknown restore point, catalog errors, the destination not writable) abort it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use model::quickxor::QuickXor;
use repo::catalog::{
    Catalog, CatalogError, ContainerInfo, ContainerKind, ContainerQuery, ContainerRow, ItemQuery, ItemRow,
    RestorePoint, VersionRow,
};
use repo::store::{BlobRef, Repository};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// Version of the export layout written into `manifest.json` (`formatVersion`).
pub const EXPORT_FORMAT_VERSION: u32 = 1;

/// Suffix of the metadata sidecar written next to every exported file and folder.
pub const SIDECAR_SUFFIX: &str = ".metadata.json";

/// Suffix of the folder holding the older versions of a file (`include_versions`).
pub const VERSIONS_SUFFIX: &str = ".versions";

/// Longest name (in bytes) [`sanitize_name`] returns. Leaves room below the usual 255-byte limit for the sidecar
/// suffix and a clash suffix such as ` (12)`.
pub const MAX_NAME_BYTES: usize = 200;

/// Rows fetched per catalog page while walking containers and folders.
const PAGE: i64 = 500;

/// How an export runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Also write every older version of each file as `{name}.versions/{label}{ext}`.
    pub include_versions: bool,
    /// Export into a destination directory that is not empty. Files at the same paths are replaced; other files are
    /// left as they are. Without it a non-empty destination is refused ([`ExportError::DestinationNotEmpty`]).
    pub overwrite: bool,
}

/// Failures that stop an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No restore point with this id exists in the catalog.
    #[error("restore point {0} does not exist")]
    UnknownRestorePoint(Uuid),
    /// The destination directory already holds files and `overwrite` was not given.
    #[error("destination {0} is not empty (export into an empty directory, or allow overwriting)")]
    DestinationNotEmpty(PathBuf),
    /// The destination exists and is not a directory.
    #[error("destination {0} is not a directory")]
    DestinationNotADirectory(PathBuf),
    /// Reading the catalog failed.
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
    /// Writing to the destination failed (full disk, permissions, ...).
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result type of the export.
pub type Result<T, E = ExportError> = std::result::Result<T, E>;

/// A problem with one exported item; the export went on without it (or with what could be written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportIssue {
    /// Catalog id of the container the item belongs to.
    pub container_id: Uuid,
    /// Microsoft id of the item, when the issue concerns one.
    pub item_id: Option<String>,
    /// Path of the affected file, relative to the destination.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportReport {
    /// The exported restore point.
    pub restore_point_id: Uuid,
    /// Its backup instant (the point in time exported).
    pub backup_time: DateTime<Utc>,
    /// The destination directory.
    pub destination: PathBuf,
    /// Containers exported (OneDrives, sites, lists and libraries).
    pub containers: u64,
    /// Folders created for drive folders.
    pub folders: u64,
    /// Files written with their current content.
    pub files: u64,
    /// Generic list items written as `{id}.json`.
    pub list_items: u64,
    /// List item attachments written.
    pub attachments: u64,
    /// Older versions written (`include_versions`).
    pub versions: u64,
    /// Content bytes written (files, versions, attachments).
    pub bytes: u64,
    /// Entries whose exported name differs from the original (sanitised or de-duplicated).
    pub renamed: u64,
    /// Per-item problems: content missing, unreadable or not matching its recorded hash.
    pub errors: Vec<ExportIssue>,
}

impl ExportReport {
    /// True when every item was exported and verified.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Windows device names: a file named like one (with any extension) cannot be created there.
const RESERVED: &[&str] = &["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];

fn is_reserved_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").trim_end_matches(' ').to_ascii_uppercase();
    if RESERVED.contains(&stem.as_str()) {
        return true;
    }
    // COM0–COM9, LPT0–LPT9 (also the superscript digits Windows treats the same way).
    let mut chars = stem.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix == "COM" || prefix == "LPT") && rest.len() == 1 && (rest[0].is_ascii_digit() || "¹²³".contains(rest[0]))
}

/// Bidirectional formatting characters (which can make `txt.exe` display as `exe.txt`) and zero-width characters
/// (which make two names look identical): invisible, so dropped from names.
fn is_invisible_format_char(c: char) -> bool {
    matches!(c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Makes a name from the tenant safe as one path component on Linux, macOS and Windows.
///
/// Bidirectional overrides and zero-width characters are dropped; path separators (`/`, `\`), the characters
/// Windows forbids (`< > : " | ? *`), NUL and other control characters become `_`; trailing dots and spaces are
/// dropped (Windows drops them itself, and it turns `.` and `..` into nothing); an empty result becomes `_`; Windows
/// device names (`CON`, `nul.txt`, `COM1`, ...) get a `_` prefix; names longer than [`MAX_NAME_BYTES`] are shortened,
/// keeping a short extension. The result is never empty, `.` or `..`, and never contains a separator, so joining it
/// onto a directory stays inside that directory.
pub fn sanitize_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .filter(|c| !is_invisible_format_char(*c))
        .map(|c| match c {
            '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let kept = s.trim_end_matches(['.', ' ']).len();
    s.truncate(kept);
    if s.is_empty() {
        s.push('_');
    }
    if is_reserved_device_name(&s) {
        s.insert(0, '_');
    }
    if s.len() > MAX_NAME_BYTES {
        let (stem, ext) = split_extension(&s);
        let ext = if ext.len() <= 16 { ext } else { "" };
        let stem = truncate_bytes(stem, MAX_NAME_BYTES - ext.len()).trim_end_matches(['.', ' ']);
        s = format!("{}{ext}", if stem.is_empty() { "_" } else { stem });
    }
    s
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_bytes(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `("report", ".docx")` for `report.docx`; a leading dot (`.profile`) is not an extension.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// The form in which two names are the same entry of a directory on some filesystem: lower case, NFC.
pub fn collision_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.to_lowercase().nfc().collect()
}

/// Hands out distinct names within one directory.
///
/// Names are compared case-insensitively and in Unicode normal form C ([`collision_key`]: Windows and macOS
/// filesystems treat `café` precomposed and `cafe` + U+0301 as one name); the names handed out keep the tenant's
/// form. A name can be claimed together with *companions* — names derived from it such as its sidecar
/// `{name}.metadata.json` — which must be free too and are reserved with it. A clash is resolved with a counter
/// before the extension: `a.txt`, `a (2).txt`, `a (3).txt`.
#[derive(Debug, Default, Clone)]
pub struct NameAllocator {
    used: HashSet<String>,
}

impl NameAllocator {
    /// An allocator for an empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sanitises `wanted` ([`sanitize_name`]) and returns a name that, together with `name + c` for every companion
    /// suffix `c`, is not used yet in this directory; reserves all of them.
    pub fn allocate(&mut self, wanted: &str, companions: &[&str]) -> String {
        let base = sanitize_name(wanted);
        let (stem, ext) = split_extension(&base);
        let mut n = 1u64;
        loop {
            let candidate = if n == 1 { base.clone() } else { format!("{stem} ({n}){ext}") };
            let keys: Vec<String> = std::iter::once(collision_key(&candidate))
                .chain(companions.iter().map(|c| collision_key(&format!("{candidate}{c}"))))
                .collect();
            if keys.iter().all(|k| !self.used.contains(k)) {
                self.used.extend(keys);
                return candidate;
            }
            n += 1;
        }
    }

    /// Whether `name` (case-insensitively, in NFC) is taken.
    pub fn is_used(&self, name: &str) -> bool {
        self.used.contains(&collision_key(name))
    }
}

/// Exports restore point `restore_point_id` into `dest` (created if missing); see the [module docs](self) for the
/// layout. Per-item problems are collected in the report; see [`ExportError`] for what aborts.
pub async fn export_restore_point(
    catalog: &Catalog,
    repo: &Repository,
    restore_point_id: Uuid,
    dest: &Path,
    opts: &ExportOptions,
) -> Result<ExportReport> {
    let rp =
        catalog.restore_point(restore_point_id).await?.ok_or(ExportError::UnknownRestorePoint(restore_point_id))?;
    prepare_destination(dest, opts.overwrite).await?;
    let mut ex = Exporter {
        catalog,
        repo,
        at: rp.backup_time,
        opts: *opts,
        dest: dest.to_path_buf(),
        report: ExportReport {
            restore_point_id,
            backup_time: rp.backup_time,
            destination: dest.to_path_buf(),
            containers: 0,
            folders: 0,
            files: 0,
            list_items: 0,
            attachments: 0,
            versions: 0,
            bytes: 0,
            renamed: 0,
            errors: Vec::new(),
        },
    };
    ex.export_onedrives(&rp).await?;
    ex.export_sharepoint(&rp).await?;
    ex.write_manifest(&rp).await?;
    Ok(ex.report)
}

/// Creates `dest`, or checks that the existing one is an (empty, unless `overwrite`) directory.
async fn prepare_destination(dest: &Path, overwrite: bool) -> Result<()> {
    let io = |source| ExportError::Io { path: dest.to_path_buf(), source };
    match tokio::fs::metadata(dest).await {
        Ok(m) if !m.is_dir() => return Err(ExportError::DestinationNotADirectory(dest.to_path_buf())),
        Ok(_) => {
            let mut entries = tokio::fs::read_dir(dest).await.map_err(io)?;
            if entries.next_entry().await.map_err(io)?.is_some() && !overwrite {
                return Err(ExportError::DestinationNotEmpty(dest.to_path_buf()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    tokio::fs::create_dir_all(dest).await.map_err(io)
}

/// The state of one export run.
struct Exporter<'a> {
    catalog: &'a Catalog,
    repo: &'a Repository,
    at: DateTime<Utc>,
    opts: ExportOptions,
    dest: PathBuf,
    report: ExportReport,
}

/// Outcome of streaming one blob into a file: bytes written and their quickXorHash, or why it failed.
type Written = std::result::Result<(u64, String), String>;

/// A drive folder waiting to be walked.
struct PendingFolder {
    /// Microsoft id of the folder; `None` = the top level of the drive.
    id: Option<String>,
    /// Where its children go.
    dir: PathBuf,
    /// Original names from the top of the drive down to this folder.
    path: Vec<String>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io { path: path.to_path_buf(), source }
}

fn time(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| json!(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))).unwrap_or(Value::Null)
}

impl Exporter<'_> {
    /// Every container of `kind` valid at the restore point, sorted by title (so clash suffixes are stable).
    async fn containers(&self, rp: &RestorePoint, kind: ContainerKind) -> Result<Vec<ContainerRow>> {
        let mut out = Vec::new();
        loop {
            let q = ContainerQuery::new(rp.organization_id, self.at).kind(kind).page(out.len() as i64, PAGE);
            let page = self.catalog.containers_at(&q).await?;
            let done = page.rows.is_empty() || out.len() as i64 + page.rows.len() as i64 >= page.total;
            out.extend(page.rows);
            if done {
                return Ok(out);
            }
        }
    }

    fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.dest).unwrap_or(path).to_path_buf()
    }

    fn issue(&mut self, container: Uuid, item: Option<&str>, path: &Path, message: String) {
        tracing::warn!(item, path = %path.display(), "export: {message}");
        let path = self.relative(path);
        self.report.errors.push(ExportIssue {
            container_id: container,
            item_id: item.map(str::to_string),
            path,
            message,
        });
    }

    /// Claims a name in `names`, counting it when it differs from the original.
    fn allocate(&mut self, names: &mut NameAllocator, wanted: &str, companions: &[&str]) -> String {
        let name = names.allocate(wanted, companions);
        if name != wanted {
            self.report.renamed += 1;
        }
        name
    }

    async fn create_dir(&self, dir: &Path) -> Result<()> {
        tokio::fs::create_dir_all(dir).await.map_err(io_err(dir))
    }

    async fn write_json(&self, path: &Path, value: &Value) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
        bytes.push(b'\n');
        tokio::fs::write(path, bytes).await.map_err(io_err(path))
    }

    /// The sidecar of a container folder.
    async fn container_sidecar(&self, dir: &Path, row: &ContainerRow, name: &str) -> Result<()> {
        let mut v = json!({
            "kind": row.info.kind().as_str(),
            "containerId": row.id,
            "originalName": row.info.title(),
            "exportedName": name,
            "backedUpSince": time(Some(row.valid_from)),
        });
        match &row.info {
            ContainerInfo::OneDrive(i) => {
                v["userId"] = json!(i.user_id);
                v["userPrincipalName"] = json!(i.upn);
                v["displayName"] = json!(i.display_name);
                v["driveId"] = json!(i.drive_id);
            }
            ContainerInfo::Site(i) => {
                v["siteId"] = json!(i.site_id);
                v["webUrl"] = json!(i.url);
                v["title"] = json!(i.title);
                v["parentSiteId"] = json!(i.parent_site_id);
            }
            ContainerInfo::List(i) => {
                v["listId"] = json!(i.list_id);
                v["siteId"] = json!(i.site_id);
                v["title"] = json!(i.title);
                v["template"] = json!(i.template);
                v["isDocumentLibrary"] = json!(i.is_document_library);
                v["driveId"] = json!(i.drive_id);
            }
        }
        self.write_json(&sidecar_path(dir), &v).await
    }

    async fn export_onedrives(&mut self, rp: &RestorePoint) -> Result<()> {
        let drives = self.containers(rp, ContainerKind::OneDrive).await?;
        let root = self.dest.join("OneDrive");
        self.create_dir(&root).await?;
        let mut names = NameAllocator::new();
        for row in drives {
            let ContainerInfo::OneDrive(info) = &row.info else { continue };
            let wanted = [&info.upn, &info.display_name, &info.user_id]
                .into_iter()
                .find(|s| !s.is_empty())
                .cloned()
                .unwrap_or_default();
            let name = self.allocate(&mut names, &wanted, &[SIDECAR_SUFFIX]);
            let dir = root.join(&name);
            self.create_dir(&dir).await?;
            self.container_sidecar(&dir, &row, &name).await?;
            self.report.containers += 1;
            self.export_drive(row.id, dir).await?;
        }
        Ok(())
    }

    async fn export_sharepoint(&mut self, rp: &RestorePoint) -> Result<()> {
        let sites = self.containers(rp, ContainerKind::Site).await?;
        let lists = self.containers(rp, ContainerKind::List).await?;
        let root = self.dest.join("SharePoint");
        self.create_dir(&root).await?;
        let mut names = NameAllocator::new();
        // Graph site id → (folder, names used in it).
        let mut site_dirs: Vec<(String, PathBuf, NameAllocator)> = Vec::new();
        for row in &sites {
            let ContainerInfo::Site(info) = &row.info else { continue };
            let wanted =
                if info.title.trim().is_empty() { host_and_path(&info.url, &info.site_id) } else { info.title.clone() };
            let name = self.allocate(&mut names, &wanted, &[SIDECAR_SUFFIX]);
            let dir = root.join(&name);
            self.create_dir(&dir).await?;
            self.container_sidecar(&dir, row, &name).await?;
            self.report.containers += 1;
            site_dirs.push((info.site_id.clone(), dir, NameAllocator::new()));
        }
        for row in &lists {
            let ContainerInfo::List(info) = &row.info else { continue };
            let slot = match site_dirs.iter().position(|(id, _, _)| *id == info.site_id) {
                Some(i) => i,
                None => {
                    // The list's site is not in this restore point (should not happen): keep the data anyway.
                    let name = self.allocate(&mut names, &format!("site {}", info.site_id), &[SIDECAR_SUFFIX]);
                    let dir = root.join(&name);
                    self.create_dir(&dir).await?;
                    site_dirs.push((info.site_id.clone(), dir, NameAllocator::new()));
                    site_dirs.len() - 1
                }
            };
            let wanted = if info.title.trim().is_empty() { info.list_id.clone() } else { info.title.clone() };
            let name = {
                let (_, _, site_names) = &mut site_dirs[slot];
                let name = site_names.allocate(&wanted, &[SIDECAR_SUFFIX]);
                if name != wanted {
                    self.report.renamed += 1;
                }
                name
            };
            let dir = site_dirs[slot].1.join(&name);
            self.create_dir(&dir).await?;
            self.container_sidecar(&dir, row, &name).await?;
            self.report.containers += 1;
            if info.is_document_library {
                self.export_drive(row.id, dir).await?;
            } else {
                self.export_list(row.id, dir).await?;
            }
        }
        Ok(())
    }

    /// All children of `parent` (`None` = top level) at the restore point, folders first, then by name.
    async fn children(&self, container: Uuid, parent: Option<&str>) -> Result<Vec<ItemRow>> {
        let mut out = Vec::new();
        loop {
            let mut q = ItemQuery::new(container, self.at).page(out.len() as i64, PAGE);
            if let Some(p) = parent {
                q = q.parent(p);
            }
            let page = self.catalog.items_at(&q).await?;
            let done = page.rows.is_empty() || out.len() as i64 + page.rows.len() as i64 >= page.total;
            out.extend(page.rows);
            if done {
                return Ok(out);
            }
        }
    }

    /// Walks a drive (OneDrive or document library) folder by folder, depth first, without recursion.
    async fn export_drive(&mut self, container: Uuid, dir: PathBuf) -> Result<()> {
        let mut stack = vec![PendingFolder { id: None, dir, path: Vec::new() }];
        // Guards against a parent cycle in a damaged catalog.
        let mut visited: HashSet<String> = HashSet::new();
        while let Some(folder) = stack.pop() {
            let mut names = NameAllocator::new();
            for row in self.children(container, folder.id.as_deref()).await? {
                let mut path = folder.path.clone();
                path.push(row.state.name.clone());
                if row.state.is_folder {
                    let name = self.allocate(&mut names, &row.state.name, &[SIDECAR_SUFFIX]);
                    let sub = folder.dir.join(&name);
                    self.create_dir(&sub).await?;
                    let mut meta = self.item_sidecar(container, &row, &name, &path).await?;
                    meta["kind"] = json!("folder");
                    self.write_json(&sidecar_path(&sub), &meta).await?;
                    self.report.folders += 1;
                    if visited.insert(row.item_id.clone()) {
                        stack.push(PendingFolder { id: Some(row.item_id.clone()), dir: sub, path });
                    }
                } else {
                    let name = self.allocate(&mut names, &row.state.name, &[SIDECAR_SUFFIX, VERSIONS_SUFFIX]);
                    self.export_file(container, &row, &folder.dir, &name, &path).await?;
                }
            }
        }
        Ok(())
    }

    /// The common part of a sidecar: the catalog state of the item at the restore point and its permissions.
    async fn item_sidecar(&self, container: Uuid, row: &ItemRow, name: &str, path: &[String]) -> Result<Value> {
        let s = &row.state;
        let permissions = self.catalog.permissions_at(container, &row.item_id, self.at).await?;
        Ok(json!({
            "id": row.item_id,
            "containerId": container,
            "parentId": s.parent_id,
            "originalName": s.name,
            "exportedName": name,
            "path": path,
            "size": s.size,
            "eTag": s.etag,
            "cTag": s.ctag,
            "createdDateTime": time(s.created_at),
            "createdBy": s.created_by,
            "lastModifiedDateTime": time(s.modified_at),
            "lastModifiedBy": s.modified_by,
            "quickXorHash": s.quick_xor_hash,
            "webUrl": s.web_url,
            "metadata": s.metadata,
            "fields": s.fields,
            "permissions": permissions,
            "backedUpSince": time(Some(row.valid_from)),
        }))
    }

    async fn export_file(
        &mut self,
        container: Uuid,
        row: &ItemRow,
        dir: &Path,
        name: &str,
        path: &[String],
    ) -> Result<()> {
        let file = dir.join(name);
        let mut meta = self.item_sidecar(container, row, name, path).await?;
        meta["kind"] = json!("file");
        match &row.state.content_ref {
            Some(content) => {
                let written = self.write_blob(content, &file, row.state.modified_at).await?;
                if self.check_written(container, &row.item_id, &file, written, row.state.quick_xor_hash.as_deref()) {
                    self.report.files += 1;
                }
            }
            None => {
                let msg = "no content was backed up for this file".to_string();
                self.issue(container, Some(&row.item_id), &file, msg);
            }
        }
        let versions = self.catalog.versions_at(container, &row.item_id, self.at, true).await?;
        let mut listed = Vec::new();
        let mut version_names = NameAllocator::new();
        let versions_dir = dir.join(format!("{name}{VERSIONS_SUFFIX}"));
        let (_, ext) = split_extension(name);
        for (i, v) in versions.iter().enumerate() {
            let mut entry = version_json(v);
            // The newest version is the file itself unless its content differs (then it is exported too).
            let is_current =
                i == 0 && v.version.content_ref.is_some() && v.version.content_ref == row.state.content_ref;
            if self.opts.include_versions && !is_current {
                if let Some(content) = &v.version.content_ref {
                    if version_names.used.is_empty() {
                        self.create_dir(&versions_dir).await?;
                    }
                    let vname = version_names.allocate(&format!("{}{ext}", v.version.label), &[]);
                    let vfile = versions_dir.join(&vname);
                    let written = self.write_blob(content, &vfile, v.version.modified_at).await?;
                    let hash = Some(v.version.content_hash.as_str()).filter(|h| !h.is_empty());
                    if self.check_written(container, &row.item_id, &vfile, written, hash) {
                        self.report.versions += 1;
                    }
                    entry["exportedAs"] = json!(format!("{name}{VERSIONS_SUFFIX}/{vname}"));
                }
            }
            listed.push(entry);
        }
        meta["versions"] = Value::Array(listed);
        self.write_json(&dir.join(format!("{name}{SIDECAR_SUFFIX}")), &meta).await
    }

    /// Accounts for a written blob; records an issue (and returns `false`) when it failed or its hash differs.
    fn check_written(
        &mut self,
        container: Uuid,
        item: &str,
        file: &Path,
        written: Written,
        expected: Option<&str>,
    ) -> bool {
        match written {
            Ok((bytes, hash)) => {
                self.report.bytes += bytes;
                match expected {
                    Some(exp) if exp != hash => {
                        let msg = format!("content does not match the backed-up quickXorHash {exp} (exported {hash})");
                        self.issue(container, Some(item), file, msg);
                        false
                    }
                    _ => true,
                }
            }
            Err(msg) => {
                self.issue(container, Some(item), file, msg);
                false
            }
        }
    }

    /// Streams the blob behind `content_ref` into `file` (constant memory), hashing it on the way, and sets the
    /// file's modification time. Destination I/O errors abort the export; content problems are returned as the inner
    /// error (a partial file is removed).
    async fn write_blob(&self, content_ref: &[u8], file: &Path, modified: Option<DateTime<Utc>>) -> Result<Written> {
        let blob = match BlobRef::from_compact(content_ref) {
            Ok(b) => b,
            Err(e) => return Ok(Err(format!("content reference cannot be decoded: {e}"))),
        };
        let mut out = tokio::fs::File::create(file).await.map_err(io_err(file))?;
        let mut hash = QuickXor::new();
        let mut written = 0u64;
        let mut stream = std::pin::pin!(self.repo.blob_stream(&blob.chunks));
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => {
                    hash.update(&bytes);
                    written += bytes.len() as u64;
                    out.write_all(&bytes).await.map_err(io_err(file))?;
                }
                Err(e) => {
                    drop(out);
                    let _ = tokio::fs::remove_file(file).await;
                    return Ok(Err(format!("content cannot be read from the repository: {e}")));
                }
            }
        }
        out.flush().await.map_err(io_err(file))?;
        if let Some(t) = modified {
            // Plain files should look like the originals to file managers and sync tools; failing to set the time is
            // harmless (some filesystems refuse it), so it is not an error.
            let std_file = out.into_std().await;
            let _ = std_file.set_modified(t.into());
        }
        if written != blob.size {
            return Ok(Err(format!("content is {written} bytes, the repository recorded {}", blob.size)));
        }
        Ok(Ok((written, hash.finalize_base64())))
    }

    /// A generic list: `{id}.json` (fields), `{id}.metadata.json`, `{id}/attachments/{file}`.
    async fn export_list(&mut self, container: Uuid, dir: PathBuf) -> Result<()> {
        let mut names = NameAllocator::new();
        for row in self.children(container, None).await? {
            let base = self.allocate(&mut names, &row.item_id, &[".json", SIDECAR_SUFFIX]);
            let fields = row.state.fields.clone().unwrap_or(Value::Null);
            self.write_json(&dir.join(format!("{base}.json")), &fields).await?;
            let mut meta = self.item_sidecar(container, &row, &base, std::slice::from_ref(&row.state.name)).await?;
            meta["kind"] = json!("listItem");
            meta["exportedName"] = json!(format!("{base}.json"));
            let mut listed = Vec::new();
            if !row.state.attachments.is_empty() {
                let att_dir = dir.join(&base).join("attachments");
                self.create_dir(&att_dir).await?;
                let mut att_names = NameAllocator::new();
                for a in &row.state.attachments {
                    let name = self.allocate(&mut att_names, &a.file_name, &[]);
                    let file = att_dir.join(&name);
                    let mut entry = json!({"fileName": a.file_name, "size": a.size, "exportedAs": Value::Null});
                    match &a.content_ref {
                        Some(content) => {
                            let written = self.write_blob(content, &file, row.state.modified_at).await?;
                            if self.check_written(container, &row.item_id, &file, written, None) {
                                self.report.attachments += 1;
                                entry["exportedAs"] = json!(format!("{base}/attachments/{name}"));
                            }
                        }
                        None => {
                            let msg = format!("no content was backed up for attachment {}", a.file_name);
                            self.issue(container, Some(&row.item_id), &file, msg);
                        }
                    }
                    listed.push(entry);
                }
            }
            meta["attachments"] = Value::Array(listed);
            self.write_json(&dir.join(format!("{base}{SIDECAR_SUFFIX}")), &meta).await?;
            self.report.list_items += 1;
        }
        Ok(())
    }

    async fn write_manifest(&self, rp: &RestorePoint) -> Result<()> {
        let org = self.catalog.organization(rp.organization_id).await?;
        let r = &self.report;
        let manifest = json!({
            "format": "vault365-export",
            "formatVersion": EXPORT_FORMAT_VERSION,
            "restorePointId": rp.id,
            "backupTime": time(Some(rp.backup_time)),
            "isFull": rp.is_full,
            "sessionId": rp.session_id,
            "jobId": rp.job_id,
            "exportedAt": time(Some(Utc::now())),
            "includeVersions": self.opts.include_versions,
            "organization": org.map(|o| json!({
                "id": o.id,
                "name": o.name,
                "tenantId": o.tenant_id,
                "tenantDomain": o.tenant_domain,
            })),
            "counts": {
                "containers": r.containers,
                "folders": r.folders,
                "files": r.files,
                "listItems": r.list_items,
                "attachments": r.attachments,
                "versions": r.versions,
                "bytes": r.bytes,
                "renamed": r.renamed,
                "errors": r.errors.len(),
            },
            "errors": r.errors,
        });
        self.write_json(&self.dest.join("manifest.json"), &manifest).await
    }
}

/// `{dir}.metadata.json` next to a directory.
fn sidecar_path(dir: &Path) -> PathBuf {
    let mut s = dir.as_os_str().to_os_string();
    s.push(SIDECAR_SUFFIX);
    PathBuf::from(s)
}

/// `contoso.sharepoint.com/sites/finance` from a site URL (falls back to the site id).
fn host_and_path(url: &str, fallback: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url).trim_end_matches('/');
    if rest.is_empty() {
        fallback.to_string()
    } else {
        rest.to_string()
    }
}

fn version_json(v: &VersionRow) -> Value {
    json!({
        "label": v.version.label,
        "size": v.version.size,
        "lastModifiedDateTime": time(v.version.modified_at),
        "lastModifiedBy": v.version.modified_by,
        "quickXorHash": Some(&v.version.content_hash).filter(|h| !h.is_empty()),
        "firstBackedUp": time(Some(v.first_seen)),
        "exportedAs": Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_zero_width_characters_are_dropped() {
        // "invoice\u{202E}fdp.exe" displays as "invoiceexe.pdf".
        assert_eq!(sanitize_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        for c in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}']
            .into_iter()
            .chain(['\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'])
        {
            assert_eq!(sanitize_name(&format!("a{c}b.txt")), "ab.txt", "U+{:04X}", c as u32);
        }
        assert_eq!(sanitize_name("\u{200B}\u{FEFF}"), "_");
        // Other Unicode stays as it is, in the tenant's normal form.
        assert_eq!(sanitize_name("cafe\u{301} – 日本.txt"), "cafe\u{301} – 日本.txt");
    }

    #[test]
    fn hostile_names_become_one_safe_component() {
        for (name, safe) in [
            ("../../etc/passwd", ".._.._etc_passwd"),
            ("a\0b\r\nc\"d.txt", "a_b__c_d.txt"),
            ("..", "_"),
            ("CON.txt", "_CON.txt"),
        ] {
            assert_eq!(sanitize_name(name), safe);
        }
    }

    #[test]
    fn names_equal_after_normalisation_or_case_get_distinct_entries() {
        let mut names = NameAllocator::new();
        let nfc = names.allocate("caf\u{E9}.txt", &[SIDECAR_SUFFIX]);
        let nfd = names.allocate("cafe\u{301}.txt", &[SIDECAR_SUFFIX]);
        let upper = names.allocate("CAF\u{C9}.TXT", &[SIDECAR_SUFFIX]);
        let zero_width = names.allocate("caf\u{E9}\u{200B}.txt", &[SIDECAR_SUFFIX]);
        assert_eq!(nfc, "caf\u{E9}.txt");
        assert_eq!(nfd, "cafe\u{301} (2).txt", "the tenant's form is kept, with a counter");
        assert_eq!(upper, "CAF\u{C9} (3).TXT");
        assert_eq!(zero_width, "caf\u{E9} (4).txt");
        assert!(names.is_used("CAFE\u{301}.TXT") && names.is_used("cafe\u{301}.txt.metadata.json"));
        assert_eq!(collision_key("E\u{301}"), collision_key("\u{E9}"));
    }
}
