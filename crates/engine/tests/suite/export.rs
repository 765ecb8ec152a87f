//! Export of restore points as plain files: content equals the tenant's, sidecars carry the catalog metadata,
//! versions, list items and attachments are written, older restore points give older data, names are made safe.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::*;
use engine::export::{
    export_restore_point, sanitize_name, ExportError, ExportOptions, NameAllocator, MAX_NAME_BYTES, SIDECAR_SUFFIX,
};
use repo::catalog::{
    ContainerKind, ItemKind, ItemQuery, NewRestorePoint, RestorePointStats, SessionCounters, SessionStatus,
};
use reqwest::Method;
use serde_json::{json, Value};

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Sidecars of `kind` under `dir`: (path of the exported entry, sidecar JSON).
fn sidecars(dir: &Path, kind: &str) -> Vec<(PathBuf, Value)> {
    walk(dir)
        .into_iter()
        .filter_map(|p| {
            let s = p.to_str()?.strip_suffix(SIDECAR_SUFFIX)?.to_string();
            let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            (v["kind"] == kind).then(|| (PathBuf::from(s), v))
        })
        .collect()
}

/// A generic list item of the tenant: id, `Title` field, attachments (name, bytes).
type ExpectedListItem = (u64, Value, Vec<(String, Vec<u8>)>);

/// Current bytes of every live file of the tenant: item id → (name, bytes).
fn tenant_files(env: &Env) -> HashMap<String, (String, Vec<u8>)> {
    let st = env.emu.emu.state();
    st.items
        .values()
        .filter(|i| !i.is_folder && i.deleted.is_none())
        .map(|i| {
            let bytes = env.emu.emu.blobs.read_all(&i.versions.last().unwrap().content).unwrap();
            (i.id.clone(), (i.name.clone(), bytes))
        })
        .collect()
}

#[tokio::test]
async fn export_writes_the_tenant_as_plain_files_with_metadata() {
    let env = Env::new("users=2,files=20,versions=2,sites=1,items=3").await;
    let r = env.backup().await;
    let rp = r.restore_point.unwrap();
    let out = env.dir.path().join("export");
    let report = export_restore_point(&env.catalog, &env.repo, rp.id, &out, &ExportOptions::default()).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.errors);

    // Every exported file has the tenant's bytes, and every live file of the tenant was exported.
    let tenant = tenant_files(&env);
    let files = sidecars(&out, "file");
    assert_eq!(files.len() as u64, report.files);
    let mut exported: HashMap<String, usize> = HashMap::new();
    for (path, meta) in &files {
        let id = meta["id"].as_str().unwrap();
        let (name, bytes) = tenant.get(id).unwrap_or_else(|| panic!("{} is not a tenant file", path.display()));
        assert_eq!(&std::fs::read(path).unwrap(), bytes, "content of {}", path.display());
        assert_eq!(meta["originalName"], json!(name));
        assert_eq!(path.file_name().unwrap().to_str().unwrap(), name, "seeded names need no sanitising");
        assert!(meta["containerId"].is_string() && meta["eTag"].is_string(), "{meta}");
        assert!(meta["quickXorHash"].is_string() && meta["lastModifiedDateTime"].is_string(), "{meta}");
        assert!(!meta["versions"].as_array().unwrap().is_empty(), "{meta}");
        *exported.entry(id.to_string()).or_default() += 1;
    }
    for (id, (name, _)) in &tenant {
        assert!(exported.contains_key(id), "{name} ({id}) not exported");
    }
    // OneDrives sit under OneDrive/{upn}, with the folder tree of the drive.
    let (upn, drive) = env.first_drive();
    let nested = {
        let st = env.emu.emu.state();
        let root = st.drives[&drive].root_id.clone();
        let f = st
            .items
            .values()
            .find(|i| {
                i.drive_id == drive && !i.is_folder && i.deleted.is_none() && i.parent_id.as_deref() != Some(&root)
            })
            .expect("seed has files in folders");
        let parent = &st.items[f.parent_id.as_ref().unwrap()];
        (f.id.clone(), parent.name.clone(), f.name.clone())
    };
    let (path, _) = files.iter().find(|(_, m)| m["id"] == json!(nested.0)).unwrap();
    assert!(path.starts_with(out.join("OneDrive").join(&upn)), "{}", path.display());
    assert!(path.ends_with(Path::new(&nested.1).join(&nested.2)), "{}", path.display());
    assert!(!sidecars(&out, "folder").is_empty());
    assert!(!walk(&out).iter().any(|p| p.to_str().unwrap().contains(".versions")), "no versions without the flag");

    // Generic list items: fields as {id}.json, attachments under {id}/attachments.
    let lists: Vec<(String, Vec<ExpectedListItem>)> = {
        let st = env.emu.emu.state();
        st.lists
            .values()
            .filter(|l| l.template == "genericList" && !l.items.is_empty())
            .map(|l| {
                let items = l
                    .items
                    .values()
                    .filter(|i| i.deleted.is_none())
                    .map(|i| {
                        let atts = i
                            .attachments
                            .iter()
                            .map(|a| (a.file_name.clone(), env.emu.emu.blobs.read_all(&a.content).unwrap()))
                            .collect();
                        (i.id, i.fields.get("Title").cloned().unwrap_or(Value::Null), atts)
                    })
                    .collect();
                (l.display_name.clone(), items)
            })
            .collect()
    };
    assert!(!lists.is_empty());
    let list_items = sidecars(&out, "listItem");
    let mut attachments = 0;
    for (title, items) in &lists {
        for (id, item_title, atts) in items {
            let (path, meta) = list_items
                .iter()
                .find(|(p, m)| m["id"] == json!(id.to_string()) && p.parent().unwrap().ends_with(title))
                .unwrap_or_else(|| panic!("item {id} of {title} exported"));
            assert!(path.starts_with(out.join("SharePoint")));
            let fields: Value = serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap()).unwrap();
            assert_eq!(&fields["Title"], item_title);
            for (name, bytes) in atts {
                let file = path.join("attachments").join(name);
                assert_eq!(&std::fs::read(&file).unwrap(), bytes, "{}", file.display());
                assert!(meta["attachments"].as_array().unwrap().iter().any(|a| a["fileName"] == json!(name)));
                attachments += 1;
            }
        }
    }
    assert!(attachments > 0, "seed has attachments");
    assert_eq!(report.attachments, attachments as u64);

    // The manifest describes the export.
    let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["restorePointId"], json!(rp.id));
    assert_eq!(manifest["organization"]["name"], json!("contoso"));
    assert_eq!(manifest["counts"]["files"], json!(report.files));
    assert_eq!(manifest["counts"]["listItems"], json!(report.list_items));
    assert_eq!(manifest["errors"], json!([]));

    // With versions: every older version next to its file, with the tenant's old bytes.
    let out2 = env.dir.path().join("export-versions");
    let opts = ExportOptions { include_versions: true, ..Default::default() };
    let report2 = export_restore_point(&env.catalog, &env.repo, rp.id, &out2, &opts).await.unwrap();
    assert!(report2.is_ok(), "{:?}", report2.errors);
    assert!(report2.versions > 0);
    let mut checked = 0;
    for (path, meta) in sidecars(&out2, "file") {
        let id = meta["id"].as_str().unwrap();
        let versions: Vec<(String, Vec<u8>)> = {
            let st = env.emu.emu.state();
            st.items[id]
                .versions
                .iter()
                .map(|v| (v.label.clone(), env.emu.emu.blobs.read_all(&v.content).unwrap()))
                .collect()
        };
        assert_eq!(meta["versions"].as_array().unwrap().len(), versions.len(), "{meta}");
        let ext = path.extension().map(|e| format!(".{}", e.to_str().unwrap())).unwrap_or_default();
        let dir = PathBuf::from(format!("{}.versions", path.display()));
        for (label, bytes) in &versions[..versions.len() - 1] {
            let file = dir.join(format!("{label}{ext}"));
            assert_eq!(&std::fs::read(&file).unwrap(), bytes, "{}", file.display());
            checked += 1;
        }
    }
    assert_eq!(checked as u64, report2.versions);
}

#[tokio::test]
async fn older_restore_point_exports_older_data_and_nothing_is_overwritten() {
    let env = Env::new("users=1,files=6,versions=1").await;
    let (upn, drive) = env.first_drive();
    // A file whose name clashes with the sidecar of another one.
    env.graph(Method::PUT, &format!("/drives/{drive}/root:/clash.txt:/content"), None, Some(b"one".to_vec())).await;
    env.graph(
        Method::PUT,
        &format!("/drives/{drive}/root:/clash.txt.metadata.json:/content"),
        None,
        Some(b"user data, not a sidecar".to_vec()),
    )
    .await;
    let (a, b, b_name) = {
        let st = env.emu.emu.state();
        let mut fs: Vec<_> = st
            .items
            .values()
            .filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none() && !i.name.starts_with("clash"))
            .map(|i| (i.id.clone(), i.name.clone()))
            .collect();
        fs.sort();
        (fs[0].0.clone(), fs[1].0.clone(), fs[1].1.clone())
    };
    let shared = format!("/drives/{drive}/items/{b}/createLink");
    env.graph(Method::POST, &shared, Some(json!({"type": "view", "scope": "organization"})), None).await;
    let rp1 = env.backup().await.restore_point.unwrap();
    let old_a = tenant_files(&env)[&a].1.clone();
    env.graph(Method::PUT, &format!("/drives/{drive}/items/{a}/content"), None, Some(b"new A".to_vec())).await;
    env.graph(Method::PATCH, &format!("/drives/{drive}/items/{b}"), Some(json!({"name": "renamed.txt"})), None).await;
    let rp2 = env.backup().await.restore_point.unwrap();

    let find = |out: &Path, id: &str| {
        sidecars(out, "file").into_iter().find(|(_, m)| m["id"] == json!(id)).map(|(p, _)| p).unwrap()
    };
    let out1 = env.dir.path().join("rp1");
    let r1 = export_restore_point(&env.catalog, &env.repo, rp1.id, &out1, &ExportOptions::default()).await.unwrap();
    assert!(r1.is_ok(), "{:?}", r1.errors);
    assert_eq!(std::fs::read(find(&out1, &a)).unwrap(), old_a);
    assert_eq!(find(&out1, &b).file_name().unwrap().to_str().unwrap(), b_name);
    // The permission snapshot of the shared file, and the container's own sidecar.
    let b_meta: Value =
        serde_json::from_slice(&std::fs::read(format!("{}{SIDECAR_SUFFIX}", find(&out1, &b).display())).unwrap())
            .unwrap();
    let perms = b_meta["permissions"].as_array().unwrap_or_else(|| panic!("permissions in {b_meta}"));
    assert!(perms.iter().any(|p| p["link"]["scope"] == "organization"), "{b_meta}");
    let a_meta: Value =
        serde_json::from_slice(&std::fs::read(format!("{}{SIDECAR_SUFFIX}", find(&out1, &a).display())).unwrap())
            .unwrap();
    assert_eq!(a_meta["permissions"], Value::Null, "not shared");
    let home_meta = out1.join("OneDrive").join(format!("{upn}{SIDECAR_SUFFIX}"));
    let home_meta: Value = serde_json::from_slice(&std::fs::read(home_meta).unwrap()).unwrap();
    assert_eq!(home_meta["userPrincipalName"], json!(upn));
    assert_eq!(home_meta["driveId"], json!(drive));
    let out2 = env.dir.path().join("rp2");
    let r2 = export_restore_point(&env.catalog, &env.repo, rp2.id, &out2, &ExportOptions::default()).await.unwrap();
    assert_eq!(std::fs::read(find(&out2, &a)).unwrap(), b"new A");
    assert_eq!(find(&out2, &b).file_name().unwrap(), "renamed.txt");
    assert_eq!(r2.files, r1.files);

    // The sidecar of clash.txt and the user's file of that name both survive.
    let home = out2.join("OneDrive").join(&upn);
    let sidecar: Value = serde_json::from_slice(&std::fs::read(home.join("clash.txt.metadata.json")).unwrap()).unwrap();
    assert_eq!(sidecar["originalName"], "clash.txt");
    let user_file = sidecars(&out2, "file").into_iter().find(|(_, m)| m["originalName"] == "clash.txt.metadata.json");
    let (path, meta) = user_file.expect("the clashing file is exported");
    assert_eq!(std::fs::read(&path).unwrap(), b"user data, not a sidecar");
    assert_ne!(meta["exportedName"], "clash.txt.metadata.json");
    assert!(r2.renamed >= 1);

    // A non-empty destination is refused unless overwriting is allowed.
    let err = export_restore_point(&env.catalog, &env.repo, rp1.id, &out2, &ExportOptions::default()).await;
    assert!(matches!(err, Err(ExportError::DestinationNotEmpty(_))), "{err:?}");
    assert_eq!(std::fs::read(find(&out2, &a)).unwrap(), b"new A", "refused export wrote nothing");
    let opts = ExportOptions { overwrite: true, ..Default::default() };
    let again = export_restore_point(&env.catalog, &env.repo, rp1.id, &out2, &opts).await.unwrap();
    assert!(again.is_ok());
    assert_eq!(std::fs::read(find(&out2, &a)).unwrap(), old_a);

    // A file as destination, and an unknown restore point.
    let file = env.dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let err = export_restore_point(&env.catalog, &env.repo, rp1.id, &file, &opts).await;
    assert!(matches!(err, Err(ExportError::DestinationNotADirectory(_))), "{err:?}");
    let unknown = uuid::Uuid::new_v4();
    let err = export_restore_point(&env.catalog, &env.repo, unknown, &env.dir.path().join("nope"), &opts).await;
    match err {
        Err(e @ ExportError::UnknownRestorePoint(id)) => {
            assert_eq!(id, unknown);
            assert!(e.to_string().contains(&unknown.to_string()));
        }
        other => panic!("{other:?}"),
    }
    assert!(!env.dir.path().join("nope").exists(), "nothing created for an unknown restore point");
}

#[tokio::test]
async fn corrupted_content_is_reported_not_exported_silently() {
    let env = Env::new("users=1,files=4,versions=1").await;
    let rp = env.backup().await.restore_point.unwrap();

    // A catalog whose recorded hash disagrees with the stored bytes: the export says so.
    let (_, drive) = env.first_drive();
    let user = env.emu.emu.state().drives[&drive].owner_user_id.clone().unwrap();
    let c = env.catalog.container_id(env.org, ContainerKind::OneDrive, &user).await.unwrap().unwrap();
    let row =
        env.catalog.items_at(&ItemQuery::new(c, rp.backup_time).kind(ItemKind::File)).await.unwrap().rows.remove(0);
    let session = env.catalog.start_session(env.job, chrono::Utc::now()).await.unwrap();
    let mut state = row.state.clone();
    state.quick_xor_hash = Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
    env.catalog.record_item_state(c, &row.item_id, &state, session.started_at).await.unwrap();
    let stats = RestorePointStats { containers: 1, items: 1, bytes: 0 };
    let bad = env
        .catalog
        .finish_session(
            session.id,
            SessionStatus::Success,
            &SessionCounters::default(),
            Some(NewRestorePoint { is_full: false, stats }),
        )
        .await
        .unwrap()
        .unwrap();
    let out = env.dir.path().join("mismatch");
    let report = export_restore_point(&env.catalog, &env.repo, bad.id, &out, &ExportOptions::default()).await.unwrap();
    match report.errors.as_slice() {
        [e] => {
            assert_eq!(e.item_id.as_deref(), Some(row.item_id.as_str()));
            assert!(e.message.contains("quickXorHash"), "{e:?}");
            assert!(out.join(&e.path).is_file(), "the bytes as stored are kept: {e:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(report.files > 0, "the other files are fine");
    // Damage every pack: reading any chunk now fails authentication.
    for p in walk(&env.dir.path().join("repo").join("data")) {
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[20] ^= 0xff;
        std::fs::write(&p, bytes).unwrap();
    }
    let out = env.dir.path().join("export");
    let report = export_restore_point(&env.catalog, &env.repo, rp.id, &out, &ExportOptions::default()).await.unwrap();
    assert!(!report.is_ok());
    let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["counts"]["errors"], json!(report.errors.len()));
    for e in &report.errors {
        assert!(e.item_id.is_some() && e.message.contains("cannot be read"), "{e:?}");
        assert!(!out.join(&e.path).exists(), "partial file {} left behind", e.path.display());
    }
}

#[test]
fn sanitiser_makes_every_name_a_safe_single_component() {
    assert_eq!(sanitize_name(".."), "_");
    assert_eq!(sanitize_name("."), "_");
    assert_eq!(sanitize_name(""), "_");
    assert_eq!(sanitize_name("   "), "_");
    assert_eq!(sanitize_name("a/b"), "a_b");
    assert_eq!(sanitize_name("/etc/passwd"), "_etc_passwd");
    assert_eq!(sanitize_name("..\\..\\x"), ".._.._x");
    assert_eq!(sanitize_name("C:\\Windows"), "C__Windows");
    assert_eq!(sanitize_name("a\0b"), "a_b");
    assert_eq!(sanitize_name("tab\there\n"), "tab_here_");
    assert_eq!(sanitize_name("what?<>|*\".txt"), "what______.txt");
    assert_eq!(sanitize_name("name. . "), "name");
    assert_eq!(sanitize_name("CON"), "_CON");
    assert_eq!(sanitize_name("con.txt"), "_con.txt");
    assert_eq!(sanitize_name("Nul"), "_Nul");
    assert_eq!(sanitize_name("COM1.log"), "_COM1.log");
    assert_eq!(sanitize_name("lpt9"), "_lpt9");
    assert_eq!(sanitize_name("CONSOLE.txt"), "CONSOLE.txt");
    assert_eq!(sanitize_name("COM10"), "COM10");
    assert_eq!(sanitize_name("report.docx"), "report.docx");
    assert_eq!(sanitize_name(".profile"), ".profile");
    assert_eq!(sanitize_name("Übersicht – 2024 ✓.xlsx"), "Übersicht – 2024 ✓.xlsx");

    let long = format!("{}.pdf", "ä".repeat(300));
    let s = sanitize_name(&long);
    assert!(s.len() <= MAX_NAME_BYTES && s.ends_with(".pdf") && s.starts_with('ä'), "{s}");
    let long_dots = ".".repeat(500);
    assert_eq!(sanitize_name(&long_dots), "_");

    for hostile in ["..", "../../etc", "a/../b", "/", "\\", "\0", "x/.", "./.."] {
        let s = sanitize_name(hostile);
        assert!(!s.contains(['/', '\\', '\0']) && s != "." && s != ".." && !s.is_empty(), "{hostile:?} → {s:?}");
        let joined = Path::new("/dest").join(&s);
        assert_eq!(joined.parent(), Some(Path::new("/dest")), "{hostile:?} stays in its directory");
    }
}

#[test]
fn allocator_never_hands_out_a_name_twice() {
    let mut names = NameAllocator::new();
    assert_eq!(names.allocate("a.txt", &[SIDECAR_SUFFIX]), "a.txt");
    assert_eq!(names.allocate("a.txt", &[SIDECAR_SUFFIX]), "a (2).txt");
    // Case-insensitive filesystems would merge these.
    assert_eq!(names.allocate("A.TXT", &[SIDECAR_SUFFIX]), "A (3).TXT");
    // Names that differ only before sanitising clash after it.
    assert_eq!(names.allocate("x/y", &[]), "x_y");
    assert_eq!(names.allocate("x\\y", &[]), "x_y (2)");
    assert_eq!(names.allocate("x:y", &[]), "x_y (3)");
    // A companion (the sidecar of a.txt) is taken as well, and a name whose companion is taken moves on.
    assert!(names.is_used("a.txt.metadata.json"));
    assert_eq!(names.allocate("a.txt.metadata.json", &[SIDECAR_SUFFIX]), "a.txt.metadata (2).json");
    let mut names = NameAllocator::new();
    assert_eq!(names.allocate("b.txt.metadata.json", &[]), "b.txt.metadata.json");
    assert_eq!(names.allocate("b.txt", &[SIDECAR_SUFFIX]), "b (2).txt");
    assert_eq!(names.allocate("..", &[]), "_");
    assert_eq!(names.allocate("...", &[]), "_ (2)");
}
