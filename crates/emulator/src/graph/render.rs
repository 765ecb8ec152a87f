//! JSON renderings of drives and drive items with Graph's field names (checked against the CSDL).

use serde_json::{json, Map, Value};

use crate::emu::Emu;
use crate::state::{Drive, IdentitySet, Item, State, Time};

/// Characters escaped in a `webUrl` path segment.
const URL_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

pub fn time(t: &Time) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn identity_set(i: &IdentitySet) -> Value {
    let mut m = Map::new();
    if let Some(u) = &i.user {
        let mut v = json!({"id": u.id, "displayName": u.display_name});
        if let Some(e) = &u.email {
            v["email"] = json!(e);
        }
        m.insert("user".into(), v);
    }
    if let Some(a) = &i.application {
        m.insert("application".into(), json!({"id": a.id, "displayName": a.display_name}));
    }
    Value::Object(m)
}

pub fn etag(it: &Item) -> String {
    format!("\"{{{}}},{}\"", it.unique_id, it.etag_version)
}

pub fn ctag(it: &Item) -> String {
    format!("\"c:{{{}}},{}\"", it.unique_id, it.ctag_version)
}

/// `webUrl` of a site (points back to the emulator's SharePoint surface).
pub fn site_web_url(emu: &Emu, st: &State, site_id: &str) -> String {
    match st.sites.get(site_id) {
        Some(s) => format!("{}/_sp/{}{}", emu.base_url(), s.hostname, if s.path == "/" { "" } else { &s.path }),
        None => String::new(),
    }
}

/// `webUrl` of a drive: the library's URL on its site.
pub fn drive_web_url(emu: &Emu, st: &State, d: &Drive) -> String {
    let list = st.lists.get(&d.list_id).map(|l| l.name.clone()).unwrap_or_default();
    format!("{}/{}", site_web_url(emu, st, &d.site_id), list)
}

pub fn sharepoint_ids(emu: &Emu, st: &State, d: &Drive) -> Value {
    let site = st.sites.get(&d.site_id);
    json!({
        "listId": d.list_id,
        "siteId": site.map(|s| s.collection_id.clone()),
        "siteUrl": site_web_url(emu, st, &d.site_id),
        "tenantId": st.tenant.id,
        "webId": site.map(|s| s.web_id.clone()),
    })
}

pub fn drive_json(emu: &Emu, st: &State, d: &Drive) -> Value {
    let used: u64 = st.items.get(&d.root_id).map(|r| r.size).unwrap_or(0);
    let owner = match d.owner_user_id.as_ref().and_then(|u| st.users.get(u)) {
        Some(u) => json!({"user": {"id": u.id, "displayName": u.display_name, "email": u.mail}}),
        None => {
            json!({"group": {"displayName": st.sites.get(&d.site_id).map(|s| s.display_name.clone())}})
        }
    };
    json!({
        "id": d.id,
        "driveType": d.drive_type.as_str(),
        "name": d.name,
        "description": d.description,
        "createdDateTime": time(&d.created),
        "lastModifiedDateTime": time(&d.created),
        "webUrl": drive_web_url(emu, st, d),
        "owner": owner,
        "quota": {"total": d.quota_total, "used": used, "remaining": d.quota_total.saturating_sub(used), "deleted": 0, "state": "normal"},
        "sharePointIds": sharepoint_ids(emu, st, d),
    })
}

/// Options for rendering a drive item.
#[derive(Default, Clone, Copy)]
pub struct ItemOpts {
    /// Delta rendering: no `parentReference.path`, no cTag (ODB rules), deleted facet.
    pub delta: bool,
    /// Include `@microsoft.graph.downloadUrl` for files.
    pub download_url: bool,
}

pub fn item_json(emu: &Emu, st: &State, it: &Item, opts: ItemOpts) -> Value {
    let Some(d) = st.drives.get(&it.drive_id) else {
        return json!({"id": it.id});
    };
    if it.deleted.is_some() {
        // Deleted items in delta: id, deleted facet, parentReference; no name, no cTag.
        let mut v = json!({"id": it.id, "deleted": {"state": "deleted"}, "size": 0,
            "parentReference": {"driveId": d.id, "driveType": d.drive_type.as_str(), "id": it.parent_id}});
        if it.is_folder {
            v["folder"] = json!({"childCount": 0});
        } else {
            v["file"] = json!({});
        }
        return v;
    }
    let mut v = Map::new();
    if opts.download_url && !it.is_folder {
        v.insert("@microsoft.graph.downloadUrl".into(), json!(emu.download_url(st, &it.id, None)));
    }
    v.insert("id".into(), json!(it.id));
    v.insert("name".into(), json!(it.name));
    v.insert("size".into(), json!(it.size));
    v.insert("eTag".into(), json!(etag(it)));
    if !it.is_folder && !opts.delta {
        v.insert("cTag".into(), json!(ctag(it)));
    }
    v.insert("createdDateTime".into(), json!(time(&it.created)));
    v.insert("lastModifiedDateTime".into(), json!(time(&it.modified)));
    v.insert("createdBy".into(), identity_set(&it.created_by));
    v.insert("lastModifiedBy".into(), identity_set(&it.modified_by));
    let web = if it.parent_id.is_none() {
        drive_web_url(emu, st, d)
    } else {
        let path = st.folder_path(&it.id);
        // Like SharePoint, each path segment is percent-encoded (spaces become %20).
        let rel: String = path
            .split_once("root:")
            .map(|(_, r)| r)
            .unwrap_or_default()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| format!("/{}", percent_encoding::utf8_percent_encode(s, URL_SEGMENT)))
            .collect();
        format!("{}{}", drive_web_url(emu, st, d), rel)
    };
    v.insert("webUrl".into(), json!(web));
    let mut parent = json!({"driveId": d.id, "driveType": d.drive_type.as_str(), "siteId": d.site_id});
    if let Some(p) = &it.parent_id {
        parent["id"] = json!(p);
        if let Some(pi) = st.items.get(p) {
            if pi.parent_id.is_some() {
                parent["name"] = json!(pi.name);
            } else {
                parent["name"] = json!("root");
            }
        }
        if !opts.delta {
            parent["path"] = json!(st.folder_path(p));
        }
    }
    v.insert("parentReference".into(), parent);
    v.insert(
        "fileSystemInfo".into(),
        json!({"createdDateTime": time(&it.fs_created), "lastModifiedDateTime": time(&it.fs_modified)}),
    );
    if let Some(desc) = &it.description {
        v.insert("description".into(), json!(desc));
    }
    if it.is_folder {
        let count = st.index.children.get(&it.id).map(|c| c.len()).unwrap_or(0);
        v.insert("folder".into(), json!({"childCount": count}));
        if it.parent_id.is_none() {
            v.insert("root".into(), json!({}));
        }
    } else {
        let qx = it.versions.last().map(|x| x.quick_xor.clone()).unwrap_or_default();
        let mime = mime_guess::from_path(&it.name).first_or_octet_stream().essence_str().to_string();
        v.insert("file".into(), json!({"mimeType": mime, "hashes": {"quickXorHash": qx}}));
    }
    if !it.permissions.is_empty() || it.inheritance_broken {
        if let Some(owner) = d.owner_user_id.as_ref().and_then(|u| st.users.get(u)) {
            v.insert(
                "shared".into(),
                json!({"scope": "users", "owner": {"user": {"id": owner.id, "displayName": owner.display_name}}}),
            );
        } else {
            v.insert("shared".into(), json!({"scope": "users"}));
        }
    }
    let mut sp = sharepoint_ids(emu, st, d);
    sp["listItemId"] = json!(it.list_item_id.to_string());
    sp["listItemUniqueId"] = json!(it.unique_id.to_lowercase());
    v.insert("sharepointIds".into(), sp);
    Value::Object(v)
}
