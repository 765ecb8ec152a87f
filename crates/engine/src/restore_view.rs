//! What a restore knows about the target drive without asking Graph again, so that a restored small file costs one
//! request (its upload) instead of three (item by id, child by name, upload).
//!
//! Two sources of knowledge:
//! * **A full listing** of the drive (one delta enumeration, ~200 items a request), taken when the restore is large
//!   compared with what the listing costs: a whole OneDrive, or many files written back to their original drive.
//!   Every lookup is then answered locally.
//! * **Folders this restore created**: they were empty when created and only this restore wrote into them, so a
//!   lookup below one of them is answered locally too (a copyTo into a new folder asks Graph nothing but uploads).
//!
//! Everything else is asked of Graph, as before. The view is updated with every item the restore creates or deletes.
//! A concurrent change in the tenant that the view misses surfaces at the write (uploads use conflictBehavior=fail
//! for new items), as a failed item — never as lost data.

use std::collections::HashMap;

use m365::write;
use m365::{GraphClient, M365Error};
use serde_json::{json, Value};

/// Lower-cased name: OneDrive names are case-insensitive.
fn key(name: &str) -> String {
    name.to_lowercase()
}

/// Live items by id and by (parent, name).
#[derive(Default)]
struct Listing {
    by_id: HashMap<String, Value>,
    by_name: HashMap<(String, String), String>,
}

impl Listing {
    fn insert(&mut self, parent: &str, item: Value) {
        let (Some(id), Some(name)) = (item.get("id").and_then(Value::as_str), item.get("name").and_then(Value::as_str))
        else {
            return;
        };
        self.by_name.insert((parent.to_string(), key(name)), id.to_string());
        self.by_id.insert(id.to_string(), item);
    }

    fn remove(&mut self, id: &str) {
        if self.by_id.remove(id).is_some() {
            self.by_name.retain(|_, v| v != id);
        }
    }

    fn child(&self, parent: &str, name: &str) -> Option<&Value> {
        self.by_name.get(&(parent.to_string(), key(name))).and_then(|id| self.by_id.get(id))
    }
}

/// The restore's knowledge of the target drive (see the [module docs](self)).
pub(crate) struct DriveView {
    drive: String,
    /// Id of the drive's root item (`"root"` is an alias of it), when the full listing was taken.
    root_id: Option<String>,
    /// The whole drive (full listing) or only the folders this restore created and what it put in them.
    listing: Listing,
    /// Whether `listing` covers the whole drive.
    complete: bool,
    /// Folders created by this restore (their listings in `listing` are complete).
    created: std::collections::HashSet<String>,
}

impl DriveView {
    /// A view that knows nothing yet.
    pub(crate) fn empty(drive: &str) -> DriveView {
        DriveView {
            drive: drive.to_string(),
            root_id: None,
            listing: Listing::default(),
            complete: false,
            created: Default::default(),
        }
    }

    /// A view of the whole drive, from one delta enumeration.
    pub(crate) async fn full(client: &GraphClient, drive: &str) -> Result<DriveView, M365Error> {
        let (items, _) = client.delta_all(&client.drive_delta_start(drive)).await?;
        let mut view = DriveView::empty(drive);
        view.complete = true;
        // Later entries of a delta round win: apply in order, then index the survivors.
        let mut latest: HashMap<String, Value> = HashMap::new();
        for item in items {
            let Some(id) = item.get("id").and_then(Value::as_str).map(str::to_string) else { continue };
            if item.get("root").is_some() {
                view.root_id = Some(id.clone());
            }
            latest.insert(id, item);
        }
        for (_, item) in latest {
            if item.get("deleted").is_some() || item.get("root").is_some() {
                continue;
            }
            let parent = item.pointer("/parentReference/id").and_then(Value::as_str).map(str::to_string);
            if let Some(parent) = parent {
                view.listing.insert(&parent, item);
            }
        }
        Ok(view)
    }

    fn parent_key<'a>(&'a self, parent: &'a str) -> &'a str {
        match (&self.root_id, parent) {
            (Some(root), "root") => root,
            _ => parent,
        }
    }

    /// Whether lookups under `parent` are answered locally.
    fn knows_children_of(&self, parent: &str) -> bool {
        self.complete || self.created.contains(parent)
    }

    /// The live item `id`, `None` when it does not exist.
    pub(crate) async fn item(&self, client: &GraphClient, id: &str) -> Result<Option<Value>, M365Error> {
        if self.complete {
            return Ok(if self.root_id.as_deref() == Some(id) {
                Some(json!({"id": id, "folder": {}, "root": {}}))
            } else {
                self.listing.by_id.get(id).cloned()
            });
        }
        if let Some(v) = self.listing.by_id.get(id) {
            return Ok(Some(v.clone()));
        }
        write::get_item(client, &self.drive, id).await
    }

    /// The child `name` of `parent` (`"root"` for the drive's root), `None` when there is none.
    pub(crate) async fn child(
        &self,
        client: &GraphClient,
        parent: &str,
        name: &str,
    ) -> Result<Option<Value>, M365Error> {
        let parent = self.parent_key(parent);
        if self.knows_children_of(parent) {
            return Ok(self.listing.child(parent, name).cloned());
        }
        write::get_child(client, &self.drive, parent, name).await
    }

    /// The id of folder `name` under `parent`, created when missing; `true` when this call created it.
    pub(crate) async fn ensure_folder(
        &mut self,
        client: &GraphClient,
        parent: &str,
        name: &str,
    ) -> Result<(String, bool), M365Error> {
        if let Some(existing) = self.child(client, parent, name).await? {
            if existing.get("folder").is_none() {
                return Err(M365Error::Invalid(format!("'{name}' exists and is not a folder")));
            }
            if let Some(id) = existing.get("id").and_then(Value::as_str) {
                return Ok((id.to_string(), false));
            }
        }
        let parent = self.parent_key(parent).to_string();
        let (id, created) = write::create_folder(client, &self.drive, &parent, name).await?;
        // Only a folder this restore created is known to hold nothing but what the restore puts there.
        if created {
            self.created.insert(id.clone());
        }
        self.listing.insert(&parent, json!({"id": id, "name": name, "folder": {}}));
        Ok((id, created))
    }

    /// Records an item the restore wrote under `parent` (the driveItem Graph answered).
    pub(crate) fn wrote(&mut self, parent: &str, item: &Value) {
        let parent = self.parent_key(parent).to_string();
        if self.knows_children_of(&parent) {
            self.listing.insert(&parent, item.clone());
        }
    }

    /// Records that the restore deleted item `id`.
    pub(crate) fn deleted(&mut self, id: &str) {
        self.listing.remove(id);
    }

    /// Records that the restore renamed/moved an item under `parent` (`moved` = the driveItem Graph answered).
    pub(crate) fn moved(&mut self, parent: &str, moved: &Value) {
        if let Some(id) = moved.get("id").and_then(Value::as_str) {
            self.listing.remove(id);
        }
        let parent = self.parent_key(parent).to_string();
        if self.knows_children_of(&parent) {
            self.listing.insert(&parent, moved.clone());
        }
    }

    /// The drive's root item id, when the full listing has been taken.
    pub(crate) fn root_id(&self) -> Option<&str> {
        self.root_id.as_deref()
    }
}
