//! Deterministic seeding: same spec → byte-identical state (but for the random signing key), the
//! promised shape (users, sites with subsites, libraries, Issues lists with attachments, versions,
//! permissions, large files), internal invariants, and clear errors for bad specs.

use std::collections::{BTreeMap, HashSet};

use emulator::content::{BlobStore, ContentRef};
use emulator::seed::{self, SeedSpec};
use emulator::state::State;

fn build(spec: &str) -> State {
    let spec = SeedSpec::parse(spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open(dir.path()).unwrap();
    let mut st = State::new(&spec.tenant, &spec.id_seed());
    seed::apply(&mut st, &blobs, &spec).unwrap();
    st
}

fn json_without_key(st: &State) -> String {
    String::from_utf8(st.to_json()).unwrap().replace(&st.signing_key, "KEY")
}

const SPEC: &str = "users=3,files=60,versions=3,sites=2,items=6,permissions=8";

#[test]
fn same_spec_gives_identical_state() {
    let (a, b) = (build(SPEC), build(SPEC));
    assert_ne!(a.signing_key, b.signing_key, "the signing key is random per state");
    assert_eq!(json_without_key(&a), json_without_key(&b));
    // Through the server's loader too (what `vault365 emulator --seed` does).
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s1 = emulator::server::load_or_create(d1.path(), Some(SPEC)).unwrap();
    let s2 = emulator::server::load_or_create(d2.path(), Some(SPEC)).unwrap();
    assert_eq!(json_without_key(&s1), json_without_key(&a));
    assert_eq!(json_without_key(&s2), json_without_key(&a));
    // Another seed number is another tenant.
    let c = build(&format!("{SPEC},seed=2"));
    assert_ne!(c.tenant.id, a.tenant.id);
    let names = |s: &State| s.items.values().map(|i| i.name.clone()).collect::<Vec<_>>();
    assert_ne!(names(&a), names(&c));
    assert_eq!(seed::summary(&a).files, seed::summary(&c).files);
}

#[test]
fn seeded_tenant_has_the_promised_shape() {
    let st = build(SPEC);
    let s = seed::summary(&st);
    assert_eq!(s.users, 3);
    assert_eq!(s.files, 60);
    assert_eq!(s.versions, 180);
    assert_eq!(s.permissions, 8);
    assert_eq!(s.list_items, 12, "6 items in each of the 2 Issues lists");
    assert!(s.large_files >= 1, "files ≥ 50 brings a multi-MiB file: {s:?}");
    assert!(s.folders > 0 && s.attachments > 0, "{s:?}");
    // 1 root site + 3 personal sites + 2 team sites + 2 subsites.
    assert_eq!(st.sites.len(), 8);
    let team: Vec<_> =
        st.sites.values().filter(|x| x.path.starts_with("/sites/") && x.parent_site_id.is_none()).collect();
    assert_eq!(team.len(), 2);
    for site in team {
        let sub = st.sites.values().find(|x| x.parent_site_id.as_deref() == Some(site.id.as_str())).expect("subsite");
        assert_eq!(sub.collection_id, site.collection_id);
        let lists: Vec<_> = st.lists.values().filter(|l| l.site_id == site.id).collect();
        let issues = lists.iter().find(|l| l.display_name == "Issues").expect("Issues list");
        assert_eq!(issues.template, "genericList");
        assert_eq!(issues.items.len(), 6);
        assert!(issues.items.values().all(|i| i.fields["Title"].is_string() && i.change_seq > 0));
        assert!(issues.items.values().any(|i| !i.attachments.is_empty() && i.fields["Attachments"] == true));
        let lib = lists.iter().find(|l| l.template == "documentLibrary").expect("library");
        let drive = &st.drives[lib.drive_id.as_ref().unwrap()];
        assert!(st.items.values().any(|i| i.drive_id == drive.id && !i.is_folder), "team library has files");
    }
    let files: Vec<_> = st.items.values().filter(|i| !i.is_folder).collect();
    let text =
        files.iter().filter(|i| matches!(i.versions[0].content, ContentRef::Synthetic { text: true, .. })).count();
    assert!(text > 10 && text < 50, "about half the files are text: {text}");
    assert!(files.iter().any(|i| i.size == 0), "one empty file");
    assert!(files.iter().filter(|i| i.size < 4 << 20).all(|i| i.size <= 16 * 1024));
    let perms: Vec<_> = st.items.values().flat_map(|i| i.permissions.iter()).collect();
    assert!(perms.iter().any(|p| p.granted_to_user.as_ref().is_some_and(|u| st.users.contains_key(u))));
    assert!(perms.iter().any(|p| p.link.is_some() && p.share_id.is_some()));
    let ids: HashSet<_> = perms.iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids.len(), perms.len(), "permission ids are unique");
}

#[test]
fn versions_hashes_and_invariants_hold() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open(dir.path()).unwrap();
    let st = build("users=2,files=12,versions=3,size=3000");
    for it in st.items.values().filter(|i| !i.is_folder) {
        assert_eq!(it.versions.len(), 3);
        let labels: Vec<_> = it.versions.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(labels, ["1.0", "2.0", "3.0"]);
        assert!(it.versions.windows(2).all(|w| w[0].modified < w[1].modified), "version times increase");
        assert!(it.versions.iter().all(|v| v.modified >= seed::epoch() && v.modified >= it.created));
        assert_eq!(it.size, it.versions[2].size);
        assert_eq!(it.modified, it.versions[2].modified);
        for v in &it.versions {
            let bytes = blobs.read_all(&v.content).unwrap();
            assert_eq!(bytes.len() as u64, v.size);
            assert_eq!(model::quickxor::quick_xor_base64(&bytes), v.quick_xor);
        }
        if it.size > 0 {
            let seeds: HashSet<_> = it.versions.iter().map(|v| format!("{:?}", v.content)).collect();
            assert_eq!(seeds.len(), 3, "every version has different content");
        }
    }
    // Folder sizes are the sum of their live children; names are unique per folder.
    let mut kids: BTreeMap<&str, Vec<&emulator::state::Item>> = BTreeMap::new();
    for it in st.items.values() {
        if let Some(p) = &it.parent_id {
            kids.entry(p).or_default().push(it);
        }
    }
    for (parent, children) in &kids {
        assert_eq!(st.items[*parent].size, children.iter().map(|c| c.size).sum::<u64>());
        let names: HashSet<_> = children.iter().map(|c| c.name.to_lowercase()).collect();
        assert_eq!(names.len(), children.len());
        assert_eq!(st.children_of(parent).len(), children.len(), "index matches");
    }
    // Delta sequence numbers are unique per drive and never ahead of the drive.
    for d in st.drives.values() {
        let seqs: Vec<u64> = st.items.values().filter(|i| i.drive_id == d.id).map(|i| i.change_seq).collect();
        assert_eq!(seqs.iter().collect::<HashSet<_>>().len(), seqs.len());
        assert!(seqs.iter().all(|s| *s >= 1 && *s <= d.seq));
    }
}

#[test]
fn folder_tree_follows_width_and_depth() {
    let st = build("users=1,files=200,folders=2x3");
    let depth = |id: &str| st.ancestors(id).len();
    let folders: Vec<_> = st.items.values().filter(|i| i.is_folder && i.parent_id.is_some()).collect();
    assert_eq!(folders.len(), 2 + 4 + 8);
    assert_eq!(folders.iter().map(|f| depth(&f.id)).max(), Some(3));
    let flat = build("users=1,files=20,folders=0");
    assert!(flat.items.values().filter(|i| i.parent_id.is_some()).all(|i| !i.is_folder));
}

#[test]
fn bad_specs_are_clear_errors() {
    for (spec, needle) in [
        ("users=2,filez=3", "unknown seed option 'filez'"),
        ("users=two", "'users' needs a number"),
        ("files", "not key=value"),
        ("folders=3", "WIDTHxDEPTH"),
    ] {
        let err = format!("{:#}", SeedSpec::parse(spec).unwrap_err());
        assert!(err.contains(needle), "{spec}: {err}");
        let dir = tempfile::tempdir().unwrap();
        assert!(emulator::server::load_or_create(dir.path(), Some(spec)).is_err());
    }
    let large = SeedSpec::parse("large").unwrap();
    assert_eq!(large.files, 100_000);
    assert!(large.users >= 20 && large.sites >= 10);
}
