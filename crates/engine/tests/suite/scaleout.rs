//! Backups on the scale-out backends: the catalog on PostgreSQL (`VAULT365_TEST_POSTGRES`), the content store on an
//! S3-compatible bucket (`VAULT365_TEST_S3`), and both together.
//!
//! `scripts/test.sh` starts both servers and always sets both variables. A developer run without them skips these
//! tests with a printed note; with a variable set, an unreachable server FAILS the test (never a silent skip).

use crate::common;

use common::*;
use repo::catalog::{ContainerKind, SessionStatus};
use repo::store::{BlobRef, Repository};
use reqwest::Method;

/// Full backup, an edit and a new file in the tenant, incremental backup; then checks what each restore point holds,
/// reading every content back from the store (through a freshly opened repository, as another node would).
async fn full_then_incremental(env: &Env) {
    let r1 = env.backup().await;
    assert_eq!(r1.status, SessionStatus::Success, "{r1:?}");
    let t1 = r1.restore_point.as_ref().unwrap().backup_time;

    let (_, drive) = env.first_drive();
    let user_id = env.emu.emu.state().drives[&drive].owner_user_id.clone().unwrap();
    let c = env.catalog.container_id(env.org, ContainerKind::OneDrive, &user_id).await.unwrap().unwrap();
    let first = {
        let st = env.emu.emu.state();
        let mut files: Vec<_> =
            st.items.values().filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none()).collect();
        files.sort_by_key(|i| i.id.clone());
        let f = files[0];
        (f.id.clone(), env.emu.emu.blobs.read_all(&f.versions.last().unwrap().content).unwrap())
    };

    let edited = b"edited on a scale-out backend ".repeat(50);
    env.graph(Method::PUT, &format!("/drives/{drive}/items/{}/content", first.0), None, Some(edited.clone())).await;
    let added = b"new file".to_vec();
    let new =
        env.graph(Method::PUT, &format!("/drives/{drive}/root:/added.txt:/content"), None, Some(added.clone())).await;
    let new_id = new["id"].as_str().unwrap().to_string();

    let r2 = env.backup().await;
    assert_eq!(r2.status, SessionStatus::Success, "{r2:?}");
    let rp2 = r2.restore_point.as_ref().unwrap();
    assert!(!rp2.is_full);
    assert_eq!(r2.bytes_read, (edited.len() + added.len()) as u64, "incremental reads only the changes: {r2:?}");

    // Another handle on the same store sees everything that was flushed.
    let reopened = Repository::open(env.repo.object_store().clone(), PASSWORD).await.unwrap();
    let content = |t, id: String| {
        let (catalog, repo) = (env.catalog.clone(), reopened.clone());
        async move {
            let row = catalog.item_at(c, &id, t).await.unwrap().unwrap();
            let blob = BlobRef::from_compact(row.state.content_ref.as_ref().unwrap()).unwrap();
            repo.read_blob(&blob.chunks).await.unwrap()
        }
    };
    assert_eq!(content(t1, first.0.clone()).await, first.1, "the first restore point keeps the old bytes");
    assert_eq!(content(rp2.backup_time, first.0.clone()).await, edited);
    assert_eq!(content(rp2.backup_time, new_id.clone()).await, added);
    assert!(env.catalog.item_at(c, &new_id, t1).await.unwrap().is_none());
    assert_eq!(env.catalog.restore_points(env.org).await.unwrap().len(), 2);
    let report = reopened.check(true).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test]
async fn backup_with_the_catalog_on_postgres() {
    let Some(url) = postgres_catalog_url().await else { return };
    let env = Env::with_backends(
        "users=2,files=12,versions=2,sites=1,items=2",
        Backends { catalog_url: Some(url), store: None },
    )
    .await;
    assert_eq!(env.catalog.backend(), repo::catalog::Backend::Postgres);
    full_then_incremental(&env).await;
}

#[tokio::test]
async fn backup_into_an_s3_bucket() {
    let Some(store) = s3_test_store().await else { return };
    let env = Env::with_backends(
        "users=2,files=12,versions=2,sites=1,items=2",
        Backends { catalog_url: None, store: Some(store) },
    )
    .await;
    full_then_incremental(&env).await;
}

#[tokio::test]
async fn backup_with_postgres_and_s3_together() {
    let (Some(url), Some(store)) = (postgres_catalog_url().await, s3_test_store().await) else { return };
    let env =
        Env::with_backends("users=1,files=8,versions=1", Backends { catalog_url: Some(url), store: Some(store) }).await;
    full_then_incremental(&env).await;
}
