//! The *item search* benchmark: a catalog holding one restore point of a OneDrive with 100,000 items (folders
//! ten levels deep, files with generated names, authors and editors), written directly through the catalog API (no
//! tenant needed), then searches timed the way the API runs them — a count and the first page of 30 — with
//! `Catalog::search_items`. Each case is run several times; the median counts. Target: 200 ms per search.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use repo::catalog::{
    Catalog, ContainerInfo, ItemKind, ItemState, NewOrganization, OneDriveInfo, SearchQuery, SearchScope, SearchTerm,
    SizeOp,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Name of the benchmark in [`SearchResult::benchmark`].
pub const BENCHMARK: &str = "item-search";

/// Items of the default restore point.
pub const DEFAULT_ITEMS: usize = 100_000;

/// What one search may take.
pub const SEARCH_MS_MAX: f64 = 200.0;

/// Timed runs per case (the median counts).
const RUNS: usize = 7;

/// Items written per catalog transaction while building.
const BATCH: usize = 5_000;

/// One folder per this many items.
const FILES_PER_FOLDER: usize = 50;

const WORDS: &[&str] = &[
    "budget",
    "report",
    "invoice",
    "contract",
    "minutes",
    "roadmap",
    "design",
    "survey",
    "summary",
    "forecast",
    "payroll",
    "campaign",
    "backlog",
    "audit",
    "proposal",
    "schedule",
    "inventory",
    "release",
    "training",
    "policy",
];
const EXTS: &[&str] = &["docx", "xlsx", "pptx", "pdf", "txt", "csv", "png", "zip"];
const PEOPLE: &[&str] = &["Adele Vance", "Alex Wilber", "Diego Siciliani", "Grady Archie", "Isaiah Langer"];

/// What to benchmark.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchBenchOptions {
    /// Items in the restore point.
    pub items: usize,
}

impl Default for SearchBenchOptions {
    fn default() -> Self {
        SearchBenchOptions { items: DEFAULT_ITEMS }
    }
}

/// Everything one [`run`] measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Always [`BENCHMARK`].
    pub benchmark: String,
    pub options: SearchBenchOptions,
    /// Seconds to write the catalog.
    pub build_secs: f64,
    pub cases: Vec<SearchCase>,
}

/// One timed search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchCase {
    pub name: String,
    /// The API query it stands for.
    pub query: String,
    /// Matching items (the page total).
    pub matches: i64,
    /// Median wall time of count + first page, in milliseconds.
    pub median_ms: f64,
    /// Slowest run, in milliseconds.
    pub max_ms: f64,
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).single().expect("valid instant")
}

/// Writes the restore point: folders in a chain of ten levels repeated, files spread over them.
async fn build(catalog: &Catalog, items: usize) -> anyhow::Result<(Uuid, String)> {
    let org = catalog
        .create_organization(&NewOrganization {
            name: "bench.onmicrosoft.com".into(),
            tenant_id: Uuid::new_v4().to_string(),
            tenant_domain: "bench.onmicrosoft.com".into(),
            config: serde_json::json!({}),
        })
        .await?;
    let info = ContainerInfo::OneDrive(OneDriveInfo {
        user_id: "u1".into(),
        upn: "adele@bench.onmicrosoft.com".into(),
        display_name: "Adele Vance".into(),
        drive_id: "b!bench".into(),
    });
    let (drive, _) = catalog.record_container(org.id, &info, at()).await?;
    let folders = (items / FILES_PER_FOLDER).max(1);
    let mut batch = catalog.begin().await?;
    let mut written = 0usize;
    for i in 0..items {
        let state = if i < folders {
            // Folder i hangs below folder i - 1 within runs of ten (ten levels deep), else at the top.
            let parent = (i % 10 != 0).then(|| format!("F{}", i - 1));
            ItemState {
                name: format!("{} {}", WORDS[i % WORDS.len()], i),
                parent_id: parent,
                is_folder: true,
                ..Default::default()
            }
        } else {
            let w1 = WORDS[(i * 7) % WORDS.len()];
            let w2 = WORDS[(i * 13 + 3) % WORDS.len()];
            let ext = EXTS[i % EXTS.len()];
            ItemState {
                name: format!("{w1}-{w2} {i}.{ext}"),
                parent_id: Some(format!("F{}", i % folders)),
                size: (i as i64 * 7919) % 5_000_000,
                created_by: Some(PEOPLE[i % PEOPLE.len()].into()),
                modified_by: Some(PEOPLE[(i / 3) % PEOPLE.len()].into()),
                metadata: serde_json::json!({"file": {"mimeType": "application/octet-stream"}}),
                content_ref: Some(vec![7; 40]),
                ..Default::default()
            }
        };
        let id = if i < folders { format!("F{i}") } else { format!("I{i}") };
        batch.record_item_state(drive, &id, &state, at()).await?;
        written += 1;
        if written.is_multiple_of(BATCH) {
            batch.commit().await?;
            batch = catalog.begin().await?;
        }
    }
    batch.commit().await?;
    // A folder near the top of a ten-level chain: its subtree is a tenth of the drive's folders and their files.
    Ok((drive, "F10".to_string()))
}

/// Times `q` (count + page, as the API asks) [`RUNS`] times.
async fn time(catalog: &Catalog, name: &str, query: &str, q: SearchQuery) -> anyhow::Result<SearchCase> {
    let mut ms = Vec::with_capacity(RUNS);
    let mut matches = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let page = catalog.search_items(&q).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        matches = page.total;
    }
    ms.sort_by(f64::total_cmp);
    Ok(SearchCase {
        name: name.into(),
        query: query.into(),
        matches,
        median_ms: ms[ms.len() / 2],
        max_ms: ms[ms.len() - 1],
    })
}

/// Builds the catalog in a temporary SQLite file and times the searches.
pub async fn run(opts: &SearchBenchOptions) -> anyhow::Result<SearchResult> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display());
    let catalog = Catalog::connect(&url).await.context("catalog")?;
    tracing::info!(target: "bench", items = opts.items, "building the search catalog");
    let t = Instant::now();
    let (drive, folder) = build(&catalog, opts.items).await.context("building the catalog")?;
    let build_secs = t.elapsed().as_secs_f64();
    let whole = || SearchScope::Containers(vec![drive]);
    let q = |scope: SearchScope, terms: Vec<SearchTerm>| SearchQuery::new(scope, at(), terms).page(0, 30);
    let name = |s: &str| SearchTerm::Name(s.into());
    let mut cases = Vec::new();
    cases.push(time(&catalog, "substring, whole drive", "report", q(whole(), vec![name("report")])).await?);
    cases.push(time(&catalog, "rare substring", "99999", q(whole(), vec![name("99999")])).await?);
    cases.push(
        time(
            &catalog,
            "name + author + ext",
            "budget author:adele ext:pdf",
            q(
                whole(),
                vec![name("budget"), SearchTerm::CreatedBy("adele".into()), SearchTerm::Extension("pdf".into())],
            ),
        )
        .await?,
    );
    cases.push(
        time(
            &catalog,
            "size, documents only",
            "size:>4000000 (itemType=Documents)",
            q(whole(), vec![SearchTerm::Size(SizeOp::Gt, 4_000_000)]).kind(ItemKind::File),
        )
        .await?,
    );
    let below = SearchScope::Folder { container: drive, folder: folder.clone() };
    cases.push(time(&catalog, "folder subtree", "report (below a folder)", q(below, vec![name("report")])).await?);
    cases.push(
        time(
            &catalog,
            "deleted items shown",
            "report (showDeleted)",
            q(whole(), vec![name("report")]).show_deleted(true),
        )
        .await?,
    );
    catalog.close().await;
    Ok(SearchResult { benchmark: BENCHMARK.into(), options: opts.clone(), build_secs, cases })
}

/// The result as a table.
pub fn render(r: &SearchResult) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "vault365 {} — {} items in one restore point (built in {:.1} s), target ≤ {SEARCH_MS_MAX} ms",
        r.benchmark, r.options.items, r.build_secs
    );
    let _ = writeln!(s, "{:<26} {:>9} {:>10} {:>8}  query", "case", "matches", "median ms", "max ms");
    for c in &r.cases {
        let _ = writeln!(s, "{:<26} {:>9} {:>10.1} {:>8.1}  {}", c.name, c.matches, c.median_ms, c.max_ms, c.query);
    }
    s
}
