//! Schema migrations: a versioned list of portable DDL statements, each version applied in one transaction and
//! recorded in `schema_version`.
//!
//! Statements may contain `{blob}`, replaced by the binary column type of the backend (`BLOB` / `BYTEA`) — the only
//! dialect difference in the schema. New versions are appended; released versions are never edited.

use chrono::Utc;
use sqlx::Row;

use super::{Backend, Catalog, CatalogError, Result};

/// Version 1: the whole catalog.
const V1: &[&str] = &[
    "CREATE TABLE organizations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        tenant_domain TEXT NOT NULL,
        config TEXT NOT NULL,
        created_at BIGINT NOT NULL
    )",
    "CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL REFERENCES organizations (id),
        name TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        UNIQUE (organization_id, name)
    )",
    "CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs (id),
        started_at BIGINT NOT NULL,
        finished_at BIGINT,
        heartbeat_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        processed_items BIGINT NOT NULL,
        processed_bytes BIGINT NOT NULL,
        warnings BIGINT NOT NULL,
        errors BIGINT NOT NULL
    )",
    "CREATE INDEX sessions_job ON sessions (job_id, started_at)",
    "CREATE INDEX sessions_status ON sessions (status, heartbeat_at)",
    "CREATE TABLE session_log (
        session_id TEXT NOT NULL REFERENCES sessions (id),
        seq BIGINT NOT NULL,
        at BIGINT NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        item_ref TEXT,
        PRIMARY KEY (session_id, seq)
    )",
    "CREATE TABLE restore_points (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL REFERENCES organizations (id),
        job_id TEXT NOT NULL REFERENCES jobs (id),
        session_id TEXT NOT NULL UNIQUE REFERENCES sessions (id),
        backup_time BIGINT NOT NULL,
        is_full BIGINT NOT NULL,
        containers BIGINT NOT NULL,
        items BIGINT NOT NULL,
        bytes BIGINT NOT NULL
    )",
    "CREATE INDEX restore_points_org ON restore_points (organization_id, backup_time)",
    "CREATE TABLE containers (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL REFERENCES organizations (id),
        kind TEXT NOT NULL,
        external_id TEXT NOT NULL,
        UNIQUE (organization_id, kind, external_id)
    )",
    "CREATE TABLE container_states (
        container_id TEXT NOT NULL REFERENCES containers (id),
        valid_from BIGINT NOT NULL,
        valid_to BIGINT,
        title TEXT NOT NULL,
        parent_ref TEXT,
        info TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (container_id, valid_from)
    )",
    "CREATE TABLE item_states (
        container_id TEXT NOT NULL REFERENCES containers (id),
        item_id TEXT NOT NULL,
        valid_from BIGINT NOT NULL,
        valid_to BIGINT,
        name TEXT NOT NULL,
        parent_id TEXT,
        is_folder BIGINT NOT NULL,
        size BIGINT NOT NULL,
        quick_xor_hash TEXT,
        etag TEXT,
        ctag TEXT,
        created_at BIGINT,
        created_by TEXT,
        modified_at BIGINT,
        modified_by TEXT,
        web_url TEXT,
        content_ref {blob},
        metadata TEXT NOT NULL,
        fields TEXT,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (container_id, item_id, valid_from)
    )",
    "CREATE INDEX item_states_parent ON item_states (container_id, parent_id, valid_from)",
    "CREATE TABLE item_attachments (
        container_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        valid_from BIGINT NOT NULL,
        file_name TEXT NOT NULL,
        size BIGINT NOT NULL,
        content_ref {blob},
        PRIMARY KEY (container_id, item_id, valid_from, file_name),
        FOREIGN KEY (container_id, item_id, valid_from)
            REFERENCES item_states (container_id, item_id, valid_from) ON DELETE CASCADE
    )",
    "CREATE TABLE item_versions (
        container_id TEXT NOT NULL REFERENCES containers (id),
        item_id TEXT NOT NULL,
        label TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        size BIGINT NOT NULL,
        modified_at BIGINT,
        modified_by TEXT,
        content_ref {blob},
        first_seen BIGINT NOT NULL,
        PRIMARY KEY (container_id, item_id, label, content_hash)
    )",
    "CREATE TABLE item_permissions (
        container_id TEXT NOT NULL REFERENCES containers (id),
        item_id TEXT NOT NULL,
        valid_from BIGINT NOT NULL,
        valid_to BIGINT,
        permissions TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (container_id, item_id, valid_from)
    )",
    "CREATE TABLE delta_links (
        container_id TEXT PRIMARY KEY REFERENCES containers (id),
        delta_link TEXT NOT NULL,
        session_id TEXT NOT NULL REFERENCES sessions (id),
        updated_at BIGINT NOT NULL
    )",
    "CREATE TABLE staged_delta_links (
        session_id TEXT NOT NULL REFERENCES sessions (id),
        container_id TEXT NOT NULL REFERENCES containers (id),
        delta_link TEXT NOT NULL,
        PRIMARY KEY (session_id, container_id)
    )",
];

/// Version 2: failed API logons per account name and client address (`api::logon_throttle`), kept in the catalog
/// so that every node of a cluster throttles with the same counts. `subject` is `user:<name key>` or `addr:<ip>`;
/// times are microseconds since the epoch (`locked_until` 0 = not locked).
const V2: &[&str] = &[
    "CREATE TABLE api_logon_failures (
        subject TEXT PRIMARY KEY,
        failures BIGINT NOT NULL,
        locked_until BIGINT NOT NULL,
        last_failure BIGINT NOT NULL
    )",
    "CREATE INDEX api_logon_failures_last ON api_logon_failures (last_failure)",
];

/// Stands in a version's statement list for a step done in Rust: fill the folded search columns of the existing item
/// states ([`super::search::fill_folded_columns`]; SQL `LOWER()` is not Unicode-aware on every backend).
const FILL_FOLDED_COLUMNS: &str = "-- fill folded search columns";

/// Version 3: item search ([`super::search`]): folded copies of the searched columns, filled for the existing rows, and an index
/// of each container's folded names.
const V3: &[&str] = &[
    "ALTER TABLE item_states ADD COLUMN name_folded TEXT",
    "ALTER TABLE item_states ADD COLUMN created_by_folded TEXT",
    "ALTER TABLE item_states ADD COLUMN modified_by_folded TEXT",
    FILL_FOLDED_COLUMNS,
    "CREATE INDEX item_states_name ON item_states (container_id, name_folded)",
];

/// Version 4: the API's own tables, which earlier builds of the API created on first use outside these versions
/// (hence `IF NOT EXISTS`: a database such a build used already has them, with this very layout, and keeps their
/// rows). Times are microseconds since the epoch unless said otherwise; flags are 0/1.
/// * `api_users`, `api_tokens`: local API accounts (argon2id hashes; `name_key` is the lower-cased name) and the
///   hashes of the access and refresh tokens issued to them;
/// * `api_restore_sessions`, `api_restore_session_events`: restore sessions and their events (`seq` = order);
/// * `api_restore_jobs`: background restores with the node and process instance running them and a heartbeat;
/// * `api_device_codes`: pending restore device codes (sealed with the repository key; `expires_at` in seconds);
/// * `api_email_settings`: email settings per explorer (JSON with sealed secrets).
const V4: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS api_users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        disabled BIGINT NOT NULL DEFAULT 0
    )",
    "CREATE TABLE IF NOT EXISTS api_tokens (
        token_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        user_id TEXT NOT NULL,
        family TEXT NOT NULL,
        issued_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked BIGINT NOT NULL DEFAULT 0
    )",
    "CREATE INDEX IF NOT EXISTS api_tokens_family ON api_tokens (family)",
    "CREATE INDEX IF NOT EXISTS api_tokens_expires ON api_tokens (expires_at)",
    "CREATE TABLE IF NOT EXISTS api_restore_sessions (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        owner_name TEXT NOT NULL,
        organization_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        requested_at BIGINT,
        browse_at BIGINT,
        restore_point_id TEXT,
        show_deleted BIGINT NOT NULL,
        show_all_versions BIGINT NOT NULL,
        state TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        ended_at BIGINT,
        last_used BIGINT NOT NULL,
        etag BIGINT NOT NULL,
        parent_id TEXT,
        details TEXT,
        reason TEXT
    )",
    "CREATE INDEX IF NOT EXISTS api_restore_sessions_owner ON api_restore_sessions (owner, created_at)",
    "CREATE TABLE IF NOT EXISTS api_restore_session_events (
        session_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        ended_at BIGINT,
        title TEXT NOT NULL,
        message TEXT NOT NULL,
        item_name TEXT,
        item_type TEXT,
        item_size BIGINT,
        source TEXT,
        target TEXT,
        user_id TEXT,
        group_id TEXT,
        site_id TEXT,
        team_id TEXT,
        PRIMARY KEY (session_id, seq)
    )",
    "CREATE TABLE IF NOT EXISTS api_restore_jobs (
        session_id TEXT PRIMARY KEY,
        node TEXT NOT NULL,
        instance TEXT NOT NULL,
        state TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        heartbeat BIGINT NOT NULL,
        ended_at BIGINT
    )",
    "CREATE TABLE IF NOT EXISTS api_device_codes (
        user_code TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        organization TEXT NOT NULL,
        client_id TEXT NOT NULL,
        sealed BIGINT NOT NULL,
        code TEXT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS api_email_settings (
        explorer VARCHAR(16) PRIMARY KEY,
        settings TEXT NOT NULL
    )",
];

/// Version 5: a job runs at most once at a time. Earlier builds could leave several `running` sessions of one job
/// (two backups started at once, or crashed runs): all but the newest are failed (their staged delta links dropped),
/// then a partial unique index makes a second running session of a job impossible on both backends.
const V5: &[&str] = &[
    "UPDATE sessions SET status = 'failed', finished_at = heartbeat_at
     WHERE status = 'running' AND EXISTS (
        SELECT 1 FROM sessions newer WHERE newer.job_id = sessions.job_id AND newer.status = 'running'
        AND (newer.started_at > sessions.started_at OR (newer.started_at = sessions.started_at AND newer.id > sessions.id)))",
    "DELETE FROM staged_delta_links WHERE session_id IN (SELECT id FROM sessions WHERE status = 'failed')",
    "CREATE UNIQUE INDEX sessions_one_running_per_job ON sessions (job_id) WHERE status = 'running'",
];

/// All versions, in order; version N is `MIGRATIONS[N - 1]`.
/// Jobs gain their definition (description, engine-owned settings: backup type, items, schedule), the scheduler's
/// `next_run_at`, a revision (the API's eTag) and soft removal; a backup runs once at a time per organization (an
/// organization may have several jobs now), so sessions name their organization and the one-running rule moves there;
/// a stop of a running session can be asked for from any node; each run records how each user and site went; the
/// cluster's task queue table joins the versioned schema.
const V6: &[&str] = &[
    "ALTER TABLE jobs ADD COLUMN description TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE jobs ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE jobs ADD COLUMN enabled BIGINT NOT NULL DEFAULT 1",
    "ALTER TABLE jobs ADD COLUMN next_run_at BIGINT",
    "ALTER TABLE jobs ADD COLUMN revision BIGINT NOT NULL DEFAULT 1",
    "ALTER TABLE jobs ADD COLUMN removed_at BIGINT",
    "CREATE INDEX jobs_due ON jobs (next_run_at)",
    "ALTER TABLE sessions ADD COLUMN organization_id TEXT",
    "ALTER TABLE sessions ADD COLUMN stop_requested_at BIGINT",
    "UPDATE sessions SET organization_id = (SELECT organization_id FROM jobs WHERE jobs.id = sessions.job_id)",
    "UPDATE sessions SET status = 'failed', finished_at = heartbeat_at
     WHERE status = 'running' AND EXISTS (
        SELECT 1 FROM sessions newer WHERE newer.organization_id = sessions.organization_id AND newer.status = 'running'
        AND (newer.started_at > sessions.started_at OR (newer.started_at = sessions.started_at AND newer.id > sessions.id)))",
    "DELETE FROM staged_delta_links WHERE session_id IN (SELECT id FROM sessions WHERE status = 'failed')",
    "CREATE UNIQUE INDEX sessions_one_running_per_organization ON sessions (organization_id) WHERE status = 'running'",
    // The cluster's task queue (`cluster::TaskQueue`), which its first user used to create itself: IF NOT EXISTS
    // keeps the table those catalogs already have.
    "CREATE TABLE IF NOT EXISTS cluster_tasks (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        dedup_key TEXT UNIQUE,
        status TEXT NOT NULL,
        node TEXT,
        attempts BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        claimed_at BIGINT,
        heartbeat_at BIGINT,
        finished_at BIGINT,
        result TEXT,
        error TEXT
    )",
    "CREATE INDEX IF NOT EXISTS cluster_tasks_status ON cluster_tasks (status, created_at)",
    "CREATE TABLE session_objects (
        session_id TEXT NOT NULL REFERENCES sessions (id),
        kind TEXT NOT NULL,
        object_id TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (session_id, kind, object_id)
    )",
];
const MIGRATIONS: &[&[&str]] = &[V1, V2, V3, V4, V5, V6];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema of `catalog` to [`SCHEMA_VERSION`]; refuses a database from a newer build.
pub(crate) async fn migrate(catalog: &Catalog) -> Result<()> {
    migrate_to(catalog, SCHEMA_VERSION).await
}

/// Brings the schema of `catalog` to version `target` (tests stop at an older version to check a later migration).
async fn migrate_to(catalog: &Catalog, target: i64) -> Result<()> {
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .execute(&catalog.pool)
        .await?;
    let blob = match catalog.backend {
        Backend::Sqlite => "BLOB",
        Backend::Postgres => "BYTEA",
    };
    let mut tx = catalog.tx().await?;
    if catalog.backend == Backend::Postgres {
        // Serializes concurrent `serve` nodes starting at once; SQLite's BEGIN IMMEDIATE already did.
        sqlx::query("LOCK TABLE schema_version IN EXCLUSIVE MODE").execute(&mut *tx).await?;
    }
    let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_version")
        .fetch_one(&mut *tx)
        .await?
        .try_get("v")?;
    if current > SCHEMA_VERSION {
        return Err(CatalogError::SchemaTooNew { found: current, supported: SCHEMA_VERSION });
    }
    // One transaction for all pending versions: DDL is transactional on both backends, so a failure leaves the
    // previous version intact.
    for (index, statements) in MIGRATIONS.iter().enumerate().take(target as usize).skip(current as usize) {
        for statement in statements.iter() {
            if *statement == FILL_FOLDED_COLUMNS {
                super::search::fill_folded_columns(&mut tx).await?;
                continue;
            }
            sqlx::query(&statement.replace("{blob}", blob)).execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)")
            .bind(index as i64 + 1)
            .bind(Utc::now().timestamp_micros())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The version recorded in the database (0 = empty).
pub(crate) async fn current_version(catalog: &Catalog) -> Result<i64> {
    Ok(sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_version")
        .fetch_one(&catalog.pool)
        .await?
        .try_get("v")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::search::FILL_CHUNK;
    use crate::catalog::{SearchQuery, SearchScope, SearchTerm};
    use chrono::TimeZone;

    /// An in-memory SQLite catalog migrated to `version`, holding one organization (its id).
    async fn catalog_at(version: i64) -> (Catalog, uuid::Uuid) {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        let catalog = Catalog { pool, backend: Backend::Sqlite };
        migrate_to(&catalog, version).await.unwrap();
        assert_eq!(current_version(&catalog).await.unwrap(), version);
        let org = uuid::Uuid::new_v4();
        sqlx::query("INSERT INTO organizations VALUES ($1, 'o', 't', 'd', '{}', 0)")
            .bind(org.to_string())
            .execute(&catalog.pool)
            .await
            .unwrap();
        (catalog, org)
    }

    /// Item states written by a build without the search columns get them from the migration that adds them, in
    /// chunks (more rows than one chunk here).
    #[tokio::test]
    async fn the_search_migration_fills_rows_recorded_before_it() {
        let search_version = MIGRATIONS.iter().position(|m| m.contains(&FILL_FOLDED_COLUMNS)).unwrap() as i64 + 1;
        let (catalog, org) = catalog_at(search_version - 1).await;
        let drive = uuid::Uuid::new_v4();
        let p = &catalog.pool;
        sqlx::query("INSERT INTO containers VALUES ($1, $2, 'OneDrive', 'x')")
            .bind(drive.to_string())
            .bind(org.to_string())
            .execute(p)
            .await
            .unwrap();
        let old_row = |id: String, name: String, by: Option<&'static str>| {
            sqlx::query(
                "INSERT INTO item_states (container_id, item_id, valid_from, name, is_folder, size, created_by, \
                 metadata, fingerprint) VALUES ($1, $2, 10, $3, 0, 1, $4, 'null', 'fp')",
            )
            .bind(drive.to_string())
            .bind(id)
            .bind(name)
            .bind(by)
        };
        old_row("A".into(), "Ärger REPORT.TXT".into(), Some("Zoë Ünal")).execute(p).await.unwrap();
        for i in 0..(FILL_CHUNK + 5) {
            old_row(format!("F{i:05}"), format!("File {i}"), None).execute(p).await.unwrap();
        }

        migrate(&catalog).await.unwrap();
        assert_eq!(current_version(&catalog).await.unwrap(), SCHEMA_VERSION);
        let unfilled: i64 = sqlx::query("SELECT COUNT(*) AS n FROM item_states WHERE name_folded IS NULL")
            .fetch_one(p)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(unfilled, 0);
        let at = Utc.timestamp_micros(10).unwrap();
        let scope = SearchScope::Containers(vec![drive]);
        for term in [SearchTerm::Name("ärger report".into()), SearchTerm::CreatedBy("zoË ü".into())] {
            let page = catalog.search_items(&SearchQuery::new(scope.clone(), at, vec![term])).await.unwrap();
            assert_eq!(page.rows.iter().map(|r| r.item_id.as_str()).collect::<Vec<_>>(), ["A"]);
        }
        let last = SearchQuery::new(scope, at, vec![SearchTerm::Name(format!("file {}", FILL_CHUNK + 4))]);
        assert_eq!(catalog.search_items(&last).await.unwrap().total, 1);
    }

    /// Several running sessions of one job left by an older build: the upgrade keeps the newest running and fails
    /// the others, and from then on a second running session of the job is refused.
    #[tokio::test]
    async fn the_one_running_session_migration_fails_older_duplicates() {
        let (catalog, org) = catalog_at(4).await;
        let job = uuid::Uuid::new_v4();
        let p = &catalog.pool;
        sqlx::query("INSERT INTO jobs (id, organization_id, name, created_at) VALUES ($1, $2, 'daily', 0)")
            .bind(job.to_string())
            .bind(org.to_string())
            .execute(p)
            .await
            .unwrap();
        let ids: Vec<uuid::Uuid> = (0..3).map(|_| uuid::Uuid::new_v4()).collect();
        for (n, id) in ids.iter().enumerate() {
            sqlx::query(
                "INSERT INTO sessions (id, job_id, started_at, finished_at, heartbeat_at, status, processed_items, \
                 processed_bytes, warnings, errors) VALUES ($1, $2, $3, NULL, $3, 'running', 0, 0, 0, 0)",
            )
            .bind(id.to_string())
            .bind(job.to_string())
            .bind(n as i64 + 1)
            .execute(p)
            .await
            .unwrap();
        }
        migrate(&catalog).await.unwrap();
        let mut statuses = Vec::new();
        for id in &ids {
            statuses.push(catalog.session(*id).await.unwrap().unwrap().status);
        }
        use crate::catalog::SessionStatus::{Failed, Running};
        assert_eq!(statuses, [Failed, Failed, Running]);
        let e = catalog.start_session(job, Utc::now()).await.unwrap_err();
        assert!(matches!(e, CatalogError::Busy(_)), "{e:?}");
    }
}
