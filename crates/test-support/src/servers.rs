//! The PostgreSQL and S3 test servers that `scripts/test.sh` starts and names in `VAULT365_TEST_POSTGRES` and
//! `VAULT365_TEST_S3`, as every crate's integration tests use them.
//!
//! Unset variable: the test skips after a note (a developer run). Set variable with a server that does not answer:
//! the test fails, so CI (which always sets both) cannot skip silently.

/// The value of test-server variable `var`, or `None` after a note that the `what` test is skipped.
pub fn test_server_var(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            eprintln!("note: {var} is not set: skipping the {what} test (scripts/test.sh always sets it)");
            None
        }
    }
}

/// A new, empty database named `{prefix}_{uuid}` on the PostgreSQL server at `base` (`postgres://user@host:port`);
/// its URL. Panics (fails the test) when the server does not answer or refuses the database.
pub async fn fresh_postgres_database(base: &str, prefix: &str) -> String {
    let base = base.trim_end_matches('/');
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("{base}/postgres"))
        .await
        .unwrap_or_else(|e| panic!("VAULT365_TEST_POSTGRES={base} is set but the server is unreachable: {e}"));
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("creating database {name} on {base}: {e}"));
    format!("{base}/{name}")
}
