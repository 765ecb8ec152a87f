//! Deterministic synthetic tenants. `--seed users=5,files=200,versions=3,sites=2` always builds the
//! same tenant (same ids, names, timestamps and bytes); content is synthetic so size costs no disk.
//!
//! Options (comma-separated `key=value`; unknown keys are an error):
//! `tenant`, `seed` (another deterministic tenant), `users`, `files` (total over OneDrives and team-site
//! libraries), `versions` (per file), `sites` (team sites, each with a subsite, a document library and an
//! "Issues" list), `items` (list items per list), `width`/`depth` of each drive's folder tree (or
//! `folders=WxD`, `folders=0` for none), `permissions` (shared files/folders), `size` (average bytes of
//! ordinary files). The word `large` is a preset (100k files, ~10 GB) that later options may refine.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context};
use base64::Engine;
use chrono::TimeZone;

use crate::content::{BlobStore, ContentRef};
use crate::state::{
    App, Attachment, IdentityRef, IdentitySet, ListItem, NewItem, Permission, SharingLink, State, Time, User,
};

/// Seed parameters. Unknown keys are an error so typos do not silently seed something else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedSpec {
    pub tenant: String,
    pub seed: u64,
    pub users: usize,
    pub files: usize,
    pub versions: usize,
    pub sites: usize,
    /// Subfolders per folder in each drive's folder tree.
    pub width: usize,
    /// Folder levels below each drive's root (0 = files only in the root).
    pub depth: usize,
    /// Items per generic list.
    pub items: usize,
    /// Files/folders shared with other users or by link; `None` = about one in twenty files.
    pub permissions: Option<usize>,
    /// Average size of ordinary files in bytes (a few multi-MiB files come on top when files ≥ 50).
    pub size: u64,
}

impl Default for SeedSpec {
    fn default() -> Self {
        Self {
            tenant: "contoso".into(),
            seed: 1,
            users: 0,
            files: 0,
            versions: 1,
            sites: 0,
            width: 3,
            depth: 2,
            items: 10,
            permissions: None,
            size: 8 * 1024,
        }
    }
}

/// Files at least this big exist so that clients exercise upload sessions (Graph's simple-upload cut-off).
pub const LARGE_FILE_MIN: u64 = 4 * 1024 * 1024;
/// One file in this many is a large one (when there are at least this many files).
const LARGE_EVERY: usize = 50;

impl SeedSpec {
    pub fn parse(spec: &str) -> anyhow::Result<Self> {
        let mut s = SeedSpec::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "large" {
                s = SeedSpec { tenant: s.tenant, seed: s.seed, ..Self::large() };
                continue;
            }
            let (k, v) = part
                .split_once('=')
                .with_context(|| format!("seed option '{part}' is not key=value (or the preset 'large')"))?;
            let (k, v) = (k.trim(), v.trim());
            let num = || v.parse::<usize>().with_context(|| format!("seed option '{k}' needs a number, got '{v}'"));
            match k {
                "tenant" => {
                    if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                        bail!("seed option 'tenant' must be a non-empty name of letters, digits and '-', got '{v}'");
                    }
                    s.tenant = v.to_ascii_lowercase()
                }
                "seed" => {
                    s.seed = v.parse().with_context(|| format!("seed option 'seed' needs a number, got '{v}'"))?
                }
                "users" => s.users = num()?,
                "files" => s.files = num()?,
                "versions" => s.versions = num()?.max(1),
                "sites" => s.sites = num()?,
                "items" => s.items = num()?,
                "width" => s.width = num()?,
                "depth" => s.depth = num()?,
                "folders" => match v.split_once(['x', 'X']) {
                    Some((w, d)) => {
                        let bad = || format!("seed option 'folders' is WIDTHxDEPTH, e.g. 3x2, got '{v}'");
                        s.width = w.parse().with_context(bad)?;
                        s.depth = d.parse().with_context(bad)?;
                    }
                    None if num()? == 0 => s.depth = 0,
                    None => bail!("seed option 'folders' is WIDTHxDEPTH (e.g. 3x2) or 0, got '{v}'"),
                },
                "permissions" => s.permissions = Some(num()?),
                "size" => {
                    s.size = v.parse::<u64>().with_context(|| format!("seed option 'size' needs bytes, got '{v}'"))?
                }
                _ => bail!(
                    "unknown seed option '{k}' (known: tenant, seed, users, files, versions, sites, items, width, \
                     depth, folders, permissions, size, and the preset 'large')"
                ),
            }
        }
        if s.width > 1000 || s.depth > 20 {
            bail!("seed folder tree too big: width ≤ 1000 and depth ≤ 20");
        }
        Ok(s)
    }

    /// The `large` preset: 100,000 files, about 10 GB, over many users and sites.
    pub fn large() -> Self {
        SeedSpec { users: 60, sites: 20, files: 100_000, versions: 1, width: 4, depth: 3, items: 50, ..Self::default() }
    }

    /// Seed string behind deterministic ids.
    pub fn id_seed(&self) -> String {
        format!("{}:{}", self.tenant, self.seed)
    }
}

/// The fixed instant seeded data is dated from (determinism: never the wall clock).
pub fn epoch() -> Time {
    chrono::Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single().expect("valid date")
}

/// Well-known app registration every tenant has: client id and secret are derived from the seed.
pub fn default_app(st: &State) -> App {
    App {
        client_id: crate::ids::guid(&st.id_seed, "app", 0),
        display_name: "vault365 backup".into(),
        secret: Some(format!("v365~{}", &crate::ids::guid(&st.id_seed, "secret", 0)[..18])),
        certificates: Vec::new(),
        public_client: true,
        roles: vec![
            "Files.ReadWrite.All".into(),
            "Sites.FullControl.All".into(),
            "User.Read.All".into(),
            "Mail.Send".into(),
        ],
    }
}

/// Add a user with a provisioned OneDrive (personal site on the `-my` host).
pub fn add_user(st: &mut State, login: &str, display_name: &str, now: Time) -> String {
    let id = st.new_guid("user");
    let upn = format!("{login}@{}", st.tenant.domain());
    let my_host = st.tenant.my_host();
    let site_path = format!("/personal/{}", upn.replace(['@', '.'], "_"));
    let site = st.create_site(&my_host, &site_path, display_name, None, true, now);
    let list = st.create_list(&site, "Documents", "documentLibrary", Some(&id), now);
    let drive_id = st.lists[&list].drive_id.clone().expect("library has a drive");
    if let Some(d) = st.drives.get_mut(&drive_id) {
        d.name = "OneDrive".into();
    }
    st.add_user(User {
        id: id.clone(),
        user_principal_name: upn.clone(),
        mail: upn,
        display_name: display_name.to_string(),
        password: format!("Pa55-{login}"),
        mfa_required: false,
        disabled: false,
        drive_id: Some(drive_id),
    });
    id
}

const FIRST: &[&str] =
    &["Alex", "Megan", "Lee", "Diego", "Isaiah", "Adele", "Johanna", "Lynne", "Nestor", "Patti", "Grady", "Pradeep"];
const LAST: &[&str] = &[
    "Wilber",
    "Bowen",
    "Gu",
    "Siciliani",
    "Langer",
    "Vance",
    "Lorenz",
    "Robbins",
    "Wilke",
    "Fernandez",
    "Archie",
    "Gupta",
];
const SITES: &[&str] =
    &["Finance", "Marketing", "Engineering", "Sales", "Legal", "HR", "Operations", "Research", "Support", "Design"];
const FOLDERS: &[&str] = &[
    "Projects",
    "Finance",
    "Reports",
    "Archive",
    "Photos",
    "Shared",
    "Marketing",
    "Legal",
    "Drafts",
    "Templates",
    "Meetings",
    "Contracts",
];
const WORDS: &[&str] = &[
    "budget",
    "report",
    "plan",
    "notes",
    "invoice",
    "summary",
    "review",
    "draft",
    "final",
    "minutes",
    "roadmap",
    "forecast",
    "proposal",
    "contract",
    "design",
    "status",
    "agenda",
    "analysis",
    "checklist",
    "memo",
];
const TEXT_EXT: &[&str] = &["txt", "csv", "md", "json", "xml", "log", "html"];
const BINARY_EXT: &[&str] = &["docx", "xlsx", "pptx", "pdf", "png", "jpg", "zip"];
const LARGE_EXT: &[&str] = &["zip", "mp4", "pptx", "iso"];

/// splitmix64: tiny, fast, and stable across platforms and Rust versions (determinism).
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: &str) -> Self {
        let h = blake3::hash(format!("{seed}\0{stream}").as_bytes());
        Rng(u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes")))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Seeded time: strictly increasing, never the wall clock.
struct Clock(Time);

impl Clock {
    fn tick(&mut self, secs: i64) -> Time {
        self.0 += chrono::Duration::seconds(secs);
        self.0
    }
}

fn person(st: &State, user_id: &str) -> IdentitySet {
    let user = st.users.get(user_id).map(|u| IdentityRef {
        id: u.id.clone(),
        display_name: u.display_name.clone(),
        email: Some(u.mail.clone()),
    });
    IdentitySet { user, application: None }
}

fn app_identity(st: &State) -> IdentitySet {
    let app = default_app(st);
    IdentitySet {
        user: None,
        application: Some(IdentityRef { id: app.client_id, display_name: app.display_name, email: None }),
    }
}

/// A drive files are seeded into, with who writes there.
struct TargetDrive {
    drive_id: String,
    root_id: String,
    /// OneDrive owner; library files are written by any user.
    owner: Option<String>,
    host: String,
}

/// One planned file version: synthetic content parameters and who/when.
struct PlannedVersion {
    item: String,
    seed: u64,
    len: u64,
    text: bool,
    by: IdentitySet,
    at: Time,
}

/// What a seed produced (returned by the control API and logged by the CLI).
#[derive(Clone, Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub users: usize,
    pub sites: usize,
    pub drives: usize,
    pub folders: usize,
    pub files: usize,
    pub versions: usize,
    /// Bytes of current versions.
    pub bytes: u64,
    /// Bytes of all versions.
    pub bytes_all_versions: u64,
    pub large_files: usize,
    pub lists: usize,
    pub list_items: usize,
    pub attachments: usize,
    pub permissions: usize,
}

pub fn summary(st: &State) -> Summary {
    let mut s = Summary {
        users: st.users.len(),
        sites: st.sites.len(),
        drives: st.drives.len(),
        lists: st.lists.len(),
        ..Default::default()
    };
    for it in st.items.values().filter(|i| i.deleted.is_none() && i.parent_id.is_some()) {
        s.permissions += it.permissions.len();
        if it.is_folder {
            s.folders += 1;
            continue;
        }
        s.files += 1;
        s.versions += it.versions.len();
        s.bytes += it.size;
        s.bytes_all_versions += it.versions.iter().map(|v| v.size).sum::<u64>();
        if it.size >= LARGE_FILE_MIN {
            s.large_files += 1;
        }
    }
    for l in st.lists.values() {
        let live = l.items.values().filter(|i| i.deleted.is_none());
        for i in live {
            s.list_items += 1;
            s.attachments += i.attachments.len();
        }
    }
    s
}

/// Build the tenant described by `spec` into a fresh state (from `State::new(&spec.tenant, &spec.id_seed())`).
pub fn apply(st: &mut State, _blobs: &BlobStore, spec: &SeedSpec) -> anyhow::Result<()> {
    let mut clock = Clock(epoch());
    let app = default_app(st);
    st.apps.insert(app.client_id.clone(), app);
    let now = clock.0;
    let root = st.create_site(&st.tenant.sp_host(), "/", "Communication site", None, false, now);
    let root_list = st.create_list(&root, "Documents", "documentLibrary", None, now);

    let mut users = Vec::with_capacity(spec.users);
    for n in 0..spec.users {
        let first = FIRST[n % FIRST.len()];
        let last = LAST[(n / FIRST.len() + n) % LAST.len()];
        let suffix = if n < FIRST.len() { String::new() } else { (n / FIRST.len()).to_string() };
        let login = format!("{}{suffix}", first.to_lowercase());
        users.push(add_user(st, &login, &format!("{first} {last}"), clock.tick(60)));
    }

    let my_host = st.tenant.my_host();
    let sp_host = st.tenant.sp_host();
    let mut targets: Vec<TargetDrive> = Vec::new();
    for u in &users {
        let drive_id = st.users[u].drive_id.clone().expect("seeded users have a drive");
        let root_id = st.drives[&drive_id].root_id.clone();
        targets.push(TargetDrive { drive_id, root_id, owner: Some(u.clone()), host: my_host.clone() });
    }
    let mut issue_lists = Vec::new();
    for n in 0..spec.sites {
        let base = SITES[n % SITES.len()];
        let round = n / SITES.len();
        let display = if round == 0 { base.to_string() } else { format!("{base} {}", round + 1) };
        let path = format!("/sites/{}", display.to_lowercase().replace(' ', "-"));
        let site = st.create_site(&sp_host, &path, &display, None, false, clock.tick(60));
        let lib = st.create_list(&site, "Documents", "documentLibrary", None, clock.tick(1));
        let sub_path = format!("{path}/projects");
        let sub =
            st.create_site(&sp_host, &sub_path, &format!("{display} Projects"), Some(&site), false, clock.tick(1));
        let sub_lib = st.create_list(&sub, "Documents", "documentLibrary", None, clock.tick(1));
        for list in [lib, sub_lib] {
            let drive_id = st.lists[&list].drive_id.clone().expect("library has a drive");
            let root_id = st.drives[&drive_id].root_id.clone();
            targets.push(TargetDrive { drive_id, root_id, owner: None, host: sp_host.clone() });
        }
        let issues = st.create_list(&site, "Issues", "genericList", None, clock.tick(1));
        issue_lists.push(issues);
    }
    if targets.is_empty() && spec.files > 0 {
        let drive_id = st.lists[&root_list].drive_id.clone().expect("library has a drive");
        let root_id = st.drives[&drive_id].root_id.clone();
        targets.push(TargetDrive { drive_id, root_id, owner: None, host: sp_host.clone() });
    }

    let planned = seed_files(st, spec, &targets, &users, &mut clock);
    let hashes = hash_parallel(&planned);
    for (v, qx) in planned.into_iter().zip(hashes) {
        let content = ContentRef::Synthetic { seed: v.seed, len: v.len, text: v.text };
        st.add_version(&v.item, content, v.len, qx, v.by, v.at);
    }
    seed_permissions(st, spec, &targets, &users, &mut clock);
    for list in issue_lists {
        seed_list_items(st, spec, &list, &users, &mut clock);
    }
    Ok(())
}

/// Folder trees and file items (without content); returns the versions to hash and attach, in order.
fn seed_files(
    st: &mut State,
    spec: &SeedSpec,
    targets: &[TargetDrive],
    users: &[String],
    clock: &mut Clock,
) -> Vec<PlannedVersion> {
    let mut planned = Vec::with_capacity(spec.files * spec.versions);
    if targets.is_empty() || spec.files == 0 {
        return planned;
    }
    let mut rng = Rng::new(spec.seed, "files");
    let writer = |st: &State, rng: &mut Rng, t: &TargetDrive| -> IdentitySet {
        match (&t.owner, users.is_empty()) {
            (Some(o), _) => person(st, o),
            (None, false) => person(st, &users[rng.below(users.len() as u64) as usize]),
            (None, true) => app_identity(st),
        }
    };
    let per_drive = spec.files.div_ceil(targets.len());
    for (ti, t) in targets.iter().enumerate() {
        // Files i ≡ ti (mod drives): round-robin keeps drives balanced and large files spread out.
        let mine: Vec<usize> = (ti..spec.files).step_by(targets.len()).collect();
        if mine.is_empty() {
            continue;
        }
        let mut folders = vec![t.root_id.clone()];
        let cap = (per_drive / 3).min(10_000);
        let mut level = vec![t.root_id.clone()];
        'tree: for _ in 0..spec.depth {
            let mut next = Vec::new();
            for parent in &level {
                let offset = rng.below(FOLDERS.len() as u64) as usize;
                for w in 0..spec.width {
                    if folders.len() > cap {
                        break 'tree;
                    }
                    let base = FOLDERS[(offset + w) % FOLDERS.len()];
                    let name = match w / FOLDERS.len() {
                        0 => base.to_string(),
                        k => format!("{base} {}", k + 1),
                    };
                    let name = st.unique_name(parent, &name);
                    let by = writer(st, &mut rng, t);
                    let now = clock.tick(5);
                    let id = st.create_item(NewItem {
                        drive_id: &t.drive_id,
                        parent_id: parent,
                        name: &name,
                        is_folder: true,
                        by,
                        now,
                    });
                    folders.push(id.clone());
                    next.push(id);
                }
            }
            level = next;
        }
        for &i in &mine {
            let large = spec.files >= LARGE_EVERY && i % LARGE_EVERY == LARGE_EVERY / 2;
            let text = !large && rng.below(2) == 0;
            let ext = match (large, text) {
                (true, _) => rng.pick(LARGE_EXT),
                (false, true) => rng.pick(TEXT_EXT),
                (false, false) => rng.pick(BINARY_EXT),
            };
            let len = if large {
                LARGE_FILE_MIN + 1 + rng.below(2 * 1024 * 1024)
            } else if i == 11 {
                0 // one empty file: zero-byte content is a classic edge case
            } else {
                1 + rng.below(spec.size.saturating_mul(2).max(1))
            };
            let stem = format!("{}-{} {}", rng.pick(WORDS), rng.pick(WORDS), i + 1);
            let parent = folders[rng.below(folders.len() as u64) as usize].clone();
            let name = st.unique_name(&parent, &format!("{stem}.{ext}"));
            let by = writer(st, &mut rng, t);
            let created = clock.tick(7);
            let id = st.create_item(NewItem {
                drive_id: &t.drive_id,
                parent_id: &parent,
                name: &name,
                is_folder: false,
                by: by.clone(),
                now: created,
            });
            for v in 0..spec.versions {
                let last = v + 1 == spec.versions;
                // Older versions are somewhat smaller; the current one has the planned size.
                let vlen = if last || len == 0 { len } else { len - rng.below(len / 4 + 1).min(len - 1) };
                let vby = if v == 0 { by.clone() } else { writer(st, &mut rng, t) };
                let at = created + chrono::Duration::hours(6 * v as i64);
                planned.push(PlannedVersion { item: id.clone(), seed: rng.next(), len: vlen, text, by: vby, at });
            }
        }
    }
    planned
}

/// quickXorHash of every planned version, computed on all cores (a large seed hashes ~10 GB).
fn hash_parallel(planned: &[PlannedVersion]) -> Vec<String> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    let next = AtomicUsize::new(0);
    let mut out = vec![String::new(); planned.len()];
    let parts: Vec<Vec<(usize, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(v) = planned.get(i) else { break };
                        mine.push((i, crate::content::synthetic_quick_xor(v.seed, v.len, v.text)));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("hash worker")).collect()
    });
    for (i, h) in parts.into_iter().flatten() {
        out[i] = h;
    }
    out
}

fn seed_permissions(st: &mut State, spec: &SeedSpec, targets: &[TargetDrive], users: &[String], clock: &mut Clock) {
    let drive_host: std::collections::HashMap<&str, &TargetDrive> =
        targets.iter().map(|t| (t.drive_id.as_str(), t)).collect();
    // Candidates in id order (BTreeMap) → deterministic; drive roots are not shared.
    let candidates: Vec<(String, String)> = st
        .items
        .values()
        .filter(|i| i.parent_id.is_some() && i.deleted.is_none() && drive_host.contains_key(i.drive_id.as_str()))
        .map(|i| (i.id.clone(), i.drive_id.clone()))
        .collect();
    let want = spec.permissions.unwrap_or(spec.files / 20).min(candidates.len());
    if want == 0 {
        return;
    }
    let mut rng = Rng::new(spec.seed, "permissions");
    let stride = candidates.len() / want;
    for k in 0..want {
        let (item_id, drive_id) = &candidates[k * stride + rng.below(stride as u64) as usize];
        let t = drive_host[drive_id.as_str()];
        let write = rng.below(3) == 0;
        let roles = vec![if write { "write" } else { "read" }.to_string()];
        let others: Vec<&String> = users.iter().filter(|u| Some(*u) != t.owner.as_ref()).collect();
        let grantee = match others.is_empty() {
            true => None,
            false => Some(others[rng.below(others.len() as u64) as usize]),
        };
        st.counters.permissions += 1;
        let n = st.counters.permissions;
        let perm = match grantee {
            // One in four shares (and all when there is nobody to invite) is a sharing link.
            Some(u) if k % 4 != 3 => {
                let upn = &st.users[u].user_principal_name;
                let claim = format!("i:0#.f|membership|{upn}");
                Permission {
                    id: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("aTowIy5m{n}|{claim}")),
                    roles,
                    granted_to_user: Some(u.clone()),
                    ..Default::default()
                }
            }
            _ => {
                let share = crate::ids::guid(&st.id_seed, "share", n).replace('-', "");
                let (kind, letter) = if write { ("edit", 'w') } else { ("view", 'r') };
                let scope = if rng.below(2) == 0 { "organization" } else { "anonymous" };
                Permission {
                    id: crate::ids::guid(&st.id_seed, "permission", n),
                    roles,
                    link: Some(SharingLink {
                        link_type: kind.to_string(),
                        scope: scope.to_string(),
                        web_url: format!("https://{}/:{letter}:/g/{share}", t.host),
                        prevents_download: false,
                    }),
                    share_id: Some(format!("s!{share}")),
                    ..Default::default()
                }
            }
        };
        let by = t.owner.as_ref().map(|o| person(st, o));
        if let Some(it) = st.items.get_mut(item_id) {
            it.permissions.push(perm);
        }
        let now = clock.tick(30);
        st.touch_metadata(item_id, by, now);
    }
}

fn seed_list_items(st: &mut State, spec: &SeedSpec, list_id: &str, users: &[String], clock: &mut Clock) {
    const STATUS: &[&str] = &["Active", "Resolved", "Closed"];
    const PRIORITY: &[&str] = &["(1) High", "(2) Normal", "(3) Low"];
    const ATTACH: &[(&str, bool)] =
        &[("screenshot.png", false), ("error-log.txt", true), ("spec.pdf", false), ("steps.md", true)];
    let mut rng = Rng::new(spec.seed, &format!("list:{list_id}"));
    for n in 0..spec.items {
        let by = match users.is_empty() {
            true => app_identity(st),
            false => person(st, &users[rng.below(users.len() as u64) as usize]),
        };
        let mut attachments = Vec::new();
        if n % 3 == 0 {
            for a in 0..=(rng.below(2) as usize) {
                let (name, text) = ATTACH[(n / 3 + a) % ATTACH.len()];
                let len = 1 + rng.below(20_000);
                let content = ContentRef::Synthetic { seed: rng.next(), len, text };
                attachments.push(Attachment { file_name: name.to_string(), content, size: len });
            }
        }
        let title = format!("{} {} issue {}", rng.pick(WORDS), rng.pick(WORDS), n + 1);
        let mut fields = serde_json::Map::new();
        fields.insert("Title".into(), title.into());
        fields.insert("Status".into(), rng.pick(STATUS).into());
        fields.insert("Priority".into(), rng.pick(PRIORITY).into());
        fields.insert("Description".into(), format!("Seeded issue {} of {}.", n + 1, spec.items).into());
        fields.insert("Attachments".into(), (!attachments.is_empty()).into());
        let unique_id = st.new_guid("unique");
        let now = clock.tick(11);
        let Some(list) = st.lists.get_mut(list_id) else { return };
        let id = list.next_item_id;
        list.next_item_id += 1;
        list.items.insert(
            id,
            ListItem {
                id,
                fields,
                created: now,
                modified: now,
                created_by: by.clone(),
                modified_by: by,
                etag_version: 1,
                unique_id,
                attachments,
                deleted: None,
                change_seq: 0,
            },
        );
        list.modified = now;
        st.touch_list_item(list_id, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_options_and_errors() {
        let s = SeedSpec::parse("users=3, files=10,folders=2x4,size=100,seed=7").unwrap();
        assert_eq!((s.users, s.files, s.width, s.depth, s.size, s.seed), (3, 10, 2, 4, 100, 7));
        assert_eq!(SeedSpec::parse("folders=0").unwrap().depth, 0);
        let l = SeedSpec::parse("large,seed=3").unwrap();
        assert_eq!((l.files, l.seed), (100_000, 3));
        for bad in ["userz=1", "users", "users=x", "folders=3", "folders=ax2", "tenant=a b", "size=-1"] {
            assert!(SeedSpec::parse(bad).is_err(), "{bad} should be rejected");
        }
        let err = SeedSpec::parse("filez=1").unwrap_err().to_string();
        assert!(err.contains("unknown seed option 'filez'"), "{err}");
    }
}
