//! The CLI with the catalog on PostgreSQL (`VAULT365_CATALOG_URL`) and the repository on an S3 bucket
//! (`VAULT365_REPOSITORY_S3`, and `[repository.s3]` in a config file): org add, two backups, repo check, export.
//!
//! Needs `VAULT365_TEST_POSTGRES` and `VAULT365_TEST_S3` (set by `scripts/test.sh`); unset: skipped with a note;
//! set but unreachable: the test fails.

use std::path::Path;
use std::process::Command;

use crate::common::{field, fresh_postgres_database, output_ok as run_ok, tenant, test_server_var, PASSWORD};

#[tokio::test(flavor = "multi_thread")]
async fn backups_with_the_catalog_on_postgres_and_the_repository_on_s3() {
    let (Some(pg), Some(s3)) = (
        test_server_var("VAULT365_TEST_POSTGRES", "scale-out CLI"),
        test_server_var("VAULT365_TEST_S3", "scale-out CLI"),
    ) else {
        return;
    };
    let catalog_url = fresh_postgres_database(&pg, "cli_test").await;
    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=2,files=10,versions=1,sites=1,items=2").await;
    // Same server and bucket, a fresh prefix; the secret goes into a file referenced by the config.
    let s3cfg = repo::store::S3Config::from_url(&s3).unwrap();
    let prefix = format!("cli-test-{}", uuid::Uuid::new_v4().simple());
    std::fs::write(dir.path().join("s3.secret"), format!("{}\n", s3cfg.secret_key)).unwrap();
    let config = dir.path().join("vault365.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\ncatalog_url = {catalog_url:?}\n[repository.s3]\nbucket = {bucket:?}\n\
             endpoint = {endpoint:?}\naccess_key = {ak:?}\nsecret_key_file = {sk:?}\nallow_http = true\n\
             prefix = {prefix:?}\n",
            data = dir.path().join("data").display().to_string(),
            bucket = s3cfg.bucket,
            endpoint = s3cfg.endpoint.clone().unwrap(),
            ak = s3cfg.access_key,
            sk = dir.path().join("s3.secret").display().to_string(),
        ),
    )
    .unwrap();
    let cmd = move |args: &[&str]| {
        let mut c: Command = crate::common::vault365();
        c.arg("--config").arg(&config).args(args).env("VAULT365_REPO_PASSWORD", PASSWORD);
        c
    };
    let url = emu.base_url();
    let root = dir.path().to_path_buf();
    let (first, second, check, export, by_url) = tokio::task::spawn_blocking(move || {
        run_ok(cmd(&["org", "add", "--name", "contoso", "--emulator", &url]));
        let first = run_ok(cmd(&["backup", "--org", "contoso", "--quiet"]));
        let second = run_ok(cmd(&["backup", "--org", "contoso", "--quiet"]));
        let check = run_ok(cmd(&["repo", "check", "--read-data"]));
        let rp = field(&first, "restore_point").to_string();
        let to = root.join("export");
        let export = run_ok(cmd(&["export", "--restore-point", &rp, "--to", to.to_str().unwrap()]));
        // The same repository named by VAULT365_REPOSITORY_S3 instead of the config table.
        let mut c = cmd(&["repo", "check"]);
        c.env("VAULT365_REPOSITORY_S3", format!("{}/{prefix}", s3.trim_end_matches('/')));
        let by_url = run_ok(c);
        (first, second, check, export, by_url)
    })
    .await
    .unwrap();
    assert!(first.starts_with("backup success"), "{first}");
    assert_eq!(field(&second, "bytes_read"), "0", "{second}");
    assert!(check.contains("repo check ok"), "{check}");
    assert!(by_url.contains("repo check ok"), "{by_url}");
    assert!(export.starts_with("export ok"), "{export}");
    assert!(field(&export, "files").parse::<usize>().unwrap() >= 10, "{export}");
    // Nothing went to the local data directory: the repository lives in the bucket, the catalog in PostgreSQL.
    assert!(!Path::new(&dir.path().join("data/repository")).exists());
    assert!(!Path::new(&dir.path().join("data/catalog.db")).exists());
    emu.shutdown().await.unwrap();
}
