//! Mutation helpers. Every change to a drive item goes through here so that:
//! - the drive's delta sequence advances and the item records it (`change_seq`),
//! - eTag/cTag versions bump by Graph's rules (eTag on any change, cTag on content),
//! - folder sizes (sum of live descendants) and the name index stay correct.

use std::collections::BTreeMap;

use super::*;
use crate::content::ContentRef;

/// Parameters of a new drive item.
pub struct NewItem<'a> {
    pub drive_id: &'a str,
    pub parent_id: &'a str,
    pub name: &'a str,
    pub is_folder: bool,
    pub by: IdentitySet,
    pub now: Time,
}

impl State {
    /// A live (not deleted) item.
    pub fn live_item(&self, id: &str) -> Option<&Item> {
        self.items.get(id).filter(|i| i.deleted.is_none())
    }

    /// Live children of a folder, ordered by name (case-insensitive).
    pub fn children_of(&self, parent: &str) -> Vec<&Item> {
        self.index
            .children
            .get(parent)
            .map(|m| m.values().filter_map(|id| self.items.get(id)).collect())
            .unwrap_or_default()
    }

    pub fn child_by_name(&self, parent: &str, name: &str) -> Option<&Item> {
        self.index.children.get(parent).and_then(|m| m.get(&name.to_lowercase())).and_then(|id| self.items.get(id))
    }

    /// Follow `segments` (already percent-decoded) from `base`; `None` if any step is missing.
    pub fn resolve_path(&self, base: &str, segments: &[String]) -> Option<String> {
        let mut cur = base.to_string();
        for s in segments.iter().filter(|s| !s.is_empty()) {
            cur = self.child_by_name(&cur, s)?.id.clone();
        }
        Some(cur)
    }

    /// Ancestor ids, nearest first, ending with the root.
    pub fn ancestors(&self, id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = self.items.get(id).and_then(|i| i.parent_id.clone());
        while let Some(p) = cur {
            cur = self.items.get(&p).and_then(|i| i.parent_id.clone());
            out.push(p);
        }
        out
    }

    pub fn is_same_or_descendant(&self, id: &str, of: &str) -> bool {
        id == of || self.ancestors(id).iter().any(|a| a == of)
    }

    /// `parentReference.path` of the children of `folder`: `/drives/{d}/root:` + `/A/B`.
    pub fn folder_path(&self, folder: &str) -> String {
        let Some(it) = self.items.get(folder) else {
            return String::new();
        };
        let mut names: Vec<&str> = Vec::new();
        let mut cur = Some(it);
        while let Some(i) = cur {
            if i.parent_id.is_none() {
                break;
            }
            names.push(&i.name);
            cur = i.parent_id.as_ref().and_then(|p| self.items.get(p));
        }
        names.reverse();
        let mut p = format!("/drives/{}/root:", it.drive_id);
        for n in names {
            p.push('/');
            p.push_str(n);
        }
        p
    }

    /// Record a change of `id` for delta.
    pub fn touch(&mut self, id: &str) {
        let Some(drive_id) = self.items.get(id).map(|i| i.drive_id.clone()) else {
            return;
        };
        let seq = match self.drives.get_mut(&drive_id) {
            Some(d) => {
                d.seq += 1;
                d.seq
            }
            None => return,
        };
        if let Some(i) = self.items.get_mut(id) {
            i.change_seq = seq;
        }
    }

    fn add_size(&mut self, from_folder: Option<String>, delta: i64) {
        let mut cur = from_folder;
        while let Some(id) = cur {
            let Some(it) = self.items.get_mut(&id) else {
                break;
            };
            it.size = (it.size as i64 + delta).max(0) as u64;
            cur = it.parent_id.clone();
        }
    }

    fn next_list_item_id(&mut self, drive_id: &str) -> u64 {
        let list_id = self.drives.get(drive_id).map(|d| d.list_id.clone()).unwrap_or_default();
        match self.lists.get_mut(&list_id) {
            Some(l) => {
                let n = l.next_item_id;
                l.next_item_id += 1;
                n
            }
            None => 0,
        }
    }

    /// Create a file (without versions yet) or folder. The caller has resolved name conflicts.
    pub fn create_item(&mut self, n: NewItem) -> String {
        let id = self.new_item_id();
        let unique_id = self.new_guid("unique").to_uppercase();
        let list_item_id = self.next_list_item_id(n.drive_id);
        let item = Item {
            id: id.clone(),
            drive_id: n.drive_id.to_string(),
            parent_id: Some(n.parent_id.to_string()),
            name: n.name.to_string(),
            is_folder: n.is_folder,
            unique_id,
            list_item_id,
            created: n.now,
            modified: n.now,
            created_by: n.by.clone(),
            modified_by: n.by,
            fs_created: n.now,
            fs_modified: n.now,
            description: None,
            etag_version: 1,
            ctag_version: if n.is_folder { 0 } else { 1 },
            size: 0,
            versions: Vec::new(),
            permissions: Vec::new(),
            inheritance_broken: false,
            deleted: None,
            change_seq: 0,
        };
        self.index.children.entry(n.parent_id.to_string()).or_default().insert(n.name.to_lowercase(), id.clone());
        self.items.insert(id.clone(), item);
        self.touch(&id);
        id
    }

    /// Append a new current version to a file (every content write does this).
    pub fn add_version(
        &mut self,
        id: &str,
        content: ContentRef,
        size: u64,
        quick_xor: String,
        by: IdentitySet,
        now: Time,
    ) {
        let Some(it) = self.items.get_mut(id) else {
            return;
        };
        let old = it.size as i64;
        let label = format!("{}.0", it.versions.len() + 1);
        it.versions.push(FileVersion { label, content, size, quick_xor, modified: now, modified_by: by.clone() });
        // The first content of a fresh item is part of its creation, not a new eTag.
        if it.versions.len() > 1 {
            it.etag_version += 1;
            it.ctag_version += 1;
        }
        it.size = size;
        it.modified = now;
        it.fs_modified = now;
        it.modified_by = by;
        let parent = it.parent_id.clone();
        self.add_size(parent, size as i64 - old);
        self.touch(id);
    }

    /// Rename and/or move. The caller checked conflicts and cycles.
    pub fn rename_move(
        &mut self,
        id: &str,
        new_name: Option<&str>,
        new_parent: Option<&str>,
        by: IdentitySet,
        now: Time,
    ) {
        let Some(it) = self.items.get(id) else { return };
        let (old_parent, old_name, size) = (it.parent_id.clone(), it.name.clone(), it.size);
        let name = new_name.unwrap_or(&old_name).to_string();
        let parent = new_parent.map(str::to_string).or(old_parent.clone());
        if let Some(op) = &old_parent {
            if let Some(m) = self.index.children.get_mut(op) {
                m.remove(&old_name.to_lowercase());
            }
        }
        if old_parent != parent {
            self.add_size(old_parent.clone(), -(size as i64));
            self.add_size(parent.clone(), size as i64);
        }
        if let Some(p) = &parent {
            self.index.children.entry(p.clone()).or_default().insert(name.to_lowercase(), id.to_string());
        }
        let it = self.items.get_mut(id).expect("checked above");
        it.name = name;
        it.parent_id = parent;
        it.etag_version += 1;
        it.modified = now;
        it.modified_by = by;
        self.touch(id);
    }

    /// Metadata-only change (fileSystemInfo, description, permissions): eTag bumps, cTag does not.
    pub fn touch_metadata(&mut self, id: &str, by: Option<IdentitySet>, now: Time) {
        if let Some(it) = self.items.get_mut(id) {
            it.etag_version += 1;
            it.modified = now;
            if let Some(by) = by {
                it.modified_by = by;
            }
        }
        self.touch(id);
    }

    /// Delete an item and everything below it (tombstones stay for delta).
    pub fn delete_item(&mut self, id: &str, now: Time) {
        let Some(it) = self.items.get(id) else { return };
        let (parent, name, size) = (it.parent_id.clone(), it.name.clone(), it.size);
        if let Some(p) = &parent {
            if let Some(m) = self.index.children.get_mut(p) {
                m.remove(&name.to_lowercase());
            }
        }
        self.add_size(parent, -(size as i64));
        let mut stack = vec![id.to_string()];
        while let Some(cur) = stack.pop() {
            if let Some(kids) = self.index.children.remove(&cur) {
                stack.extend(kids.into_values());
            }
            if let Some(i) = self.items.get_mut(&cur) {
                i.deleted = Some(now);
            }
            self.touch(&cur);
        }
    }

    /// A free name for conflictBehavior=rename: `name 1.ext`, `name 2.ext`, … (SharePoint style).
    pub fn unique_name(&self, parent: &str, name: &str) -> String {
        if self.child_by_name(parent, name).is_none() {
            return name.to_string();
        }
        let (stem, ext) = match name.rfind('.') {
            Some(i) if i > 0 => (&name[..i], &name[i..]),
            _ => (name, ""),
        };
        (1..).map(|n| format!("{stem} {n}{ext}")).find(|c| self.child_by_name(parent, c).is_none()).expect("unbounded")
    }

    /// Create a site (team site or personal site).
    pub fn create_site(
        &mut self,
        hostname: &str,
        path: &str,
        display_name: &str,
        parent_site_id: Option<&str>,
        is_personal: bool,
        now: Time,
    ) -> String {
        let collection_id = match parent_site_id.and_then(|p| self.sites.get(p)) {
            Some(parent) => parent.collection_id.clone(),
            None => self.new_guid("site-collection"),
        };
        let web_id = self.new_guid("web");
        let id = format!("{hostname},{collection_id},{web_id}");
        let name = path.rsplit('/').next().unwrap_or(path).to_string();
        self.sites.insert(
            id.clone(),
            Site {
                id: id.clone(),
                hostname: hostname.to_string(),
                collection_id,
                web_id,
                path: path.to_string(),
                name,
                display_name: display_name.to_string(),
                description: String::new(),
                parent_site_id: parent_site_id.map(str::to_string),
                is_personal,
                created: now,
                modified: now,
            },
        );
        id
    }

    /// Create a list in a site; document libraries get a drive with a root folder.
    pub fn create_list(
        &mut self,
        site_id: &str,
        display_name: &str,
        template: &str,
        drive_owner: Option<&str>,
        now: Time,
    ) -> String {
        let list_id = self.new_guid("list");
        let site = self.sites.get(site_id).cloned().expect("site exists");
        let name = if template == "documentLibrary" && display_name == "Documents" {
            "Shared Documents".to_string()
        } else {
            display_name.replace(' ', "")
        };
        let mut drive_id = None;
        if template == "documentLibrary" {
            let id = crate::ids::drive_id(&site.collection_id, &site.web_id, &list_id);
            let root_id = self.new_item_id();
            let unique_id = self.new_guid("unique").to_uppercase();
            let by = IdentitySet::default();
            self.items.insert(
                root_id.clone(),
                Item {
                    id: root_id.clone(),
                    drive_id: id.clone(),
                    parent_id: None,
                    name: "root".to_string(),
                    is_folder: true,
                    unique_id,
                    list_item_id: 0,
                    created: now,
                    modified: now,
                    created_by: by.clone(),
                    modified_by: by,
                    fs_created: now,
                    fs_modified: now,
                    description: None,
                    etag_version: 1,
                    ctag_version: 0,
                    size: 0,
                    versions: Vec::new(),
                    permissions: Vec::new(),
                    inheritance_broken: false,
                    deleted: None,
                    change_seq: 0,
                },
            );
            self.drives.insert(
                id.clone(),
                Drive {
                    id: id.clone(),
                    drive_type: if drive_owner.is_some() { DriveType::Business } else { DriveType::DocumentLibrary },
                    name: display_name.to_string(),
                    description: String::new(),
                    owner_user_id: drive_owner.map(str::to_string),
                    site_id: site_id.to_string(),
                    list_id: list_id.clone(),
                    root_id: root_id.clone(),
                    web_url: String::new(),
                    created: now,
                    quota_total: 1 << 40,
                    seq: 0,
                    delta_floor: 0,
                },
            );
            self.touch(&root_id);
            drive_id = Some(id);
        }
        self.lists.insert(
            list_id.clone(),
            List {
                id: list_id.clone(),
                site_id: site_id.to_string(),
                name,
                display_name: display_name.to_string(),
                description: String::new(),
                template: template.to_string(),
                hidden: false,
                system: false,
                drive_id,
                created: now,
                modified: now,
                etag_version: 1,
                next_item_id: 1,
                items: BTreeMap::new(),
                seq: 0,
                delta_floor: 0,
            },
        );
        list_id
    }

    /// Record a change of a generic list item for list-item delta.
    pub fn touch_list_item(&mut self, list_id: &str, item_id: u64) {
        if let Some(l) = self.lists.get_mut(list_id) {
            l.seq += 1;
            let seq = l.seq;
            if let Some(i) = l.items.get_mut(&item_id) {
                i.change_seq = seq;
            }
        }
    }
}
