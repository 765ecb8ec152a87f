//! `check_repository`: a clean backup checks clean; lost packs, lost index entries, tampered bytes and broken
//! catalog references are found and attributed to the content that needs them.

use crate::common;

use std::path::PathBuf;

use common::*;
use engine::check::{check_repository, CheckProblem};
use repo::catalog::{ContainerKind, ItemState};
use repo::store::{local_store, Problem, Repository};

/// Pack files of the test repository.
fn packs(env: &Env) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(env.dir.path().join("repo").join("data")).unwrap() {
        for p in std::fs::read_dir(d.unwrap().path()).unwrap() {
            out.push(p.unwrap().path());
        }
    }
    out.sort();
    out
}

async fn backed_up(seed: &str) -> Env {
    let env = Env::new(seed).await;
    env.backup().await;
    env
}

fn chunk_problems(problems: &[CheckProblem]) -> Vec<(u64, bool)> {
    problems
        .iter()
        .filter_map(|p| match p {
            CheckProblem::MissingChunk { references, .. } => Some((*references, true)),
            CheckProblem::DamagedChunk { references, .. } => Some((*references, false)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn clean_backup_checks_clean() {
    let env = backed_up("users=1,files=8,versions=2,sites=1,items=2").await;
    for read_data in [false, true] {
        let s = check_repository(&env.catalog, &env.repo, read_data).await.unwrap();
        assert!(s.is_ok(), "{:?}", s.problems);
        assert!(s.references > 0 && s.chunk_references >= s.references, "{s:?}");
        assert_eq!(s.read_data, read_data);
        assert_eq!(s.store.chunks_verified > 0, read_data);
    }
}

#[tokio::test]
async fn deleted_pack_is_reported_with_the_content_that_needs_it() {
    let env = backed_up("users=1,files=8,versions=1").await;
    let victim = packs(&env).remove(0);
    std::fs::remove_file(&victim).unwrap();
    let s = check_repository(&env.catalog, &env.repo, false).await.unwrap();
    assert!(!s.is_ok());
    let pack_name = victim.file_name().unwrap().to_str().unwrap();
    assert!(
        s.problems.iter().any(|p| matches!(p, CheckProblem::Store { problem: Problem::MissingPack { pack, .. } }
            if pack.to_string() == pack_name)),
        "{:?}",
        s.problems
    );
    // The open repository still indexes the lost chunks; reading them shows which content is affected.
    let chunks = chunk_problems(&s.problems);
    assert!(!chunks.is_empty() && chunks.iter().all(|(refs, missing)| *refs >= 1 && !missing), "{:?}", s.problems);
    assert!(s.problems.iter().any(|p| p.to_string().contains("content references need it")));
}

#[tokio::test]
async fn lost_pack_and_index_are_found_by_the_catalog_cross_check() {
    let env = backed_up("users=1,files=8,versions=1").await;
    let victim = packs(&env).remove(0);
    let id = victim.file_name().unwrap().to_str().unwrap().to_string();
    std::fs::remove_file(&victim).unwrap();
    std::fs::remove_file(env.dir.path().join("repo").join("index").join(&id)).unwrap();
    // A freshly opened repository no longer knows those chunks, and the store itself looks consistent.
    let reopened = Repository::open(local_store(&env.dir.path().join("repo")).unwrap(), PASSWORD).await.unwrap();
    let s = check_repository(&env.catalog, &reopened, true).await.unwrap();
    assert!(s.store.is_ok(), "{:?}", s.store.problems);
    assert!(!s.is_ok(), "the catalog references the lost content");
    let chunks = chunk_problems(&s.problems);
    assert!(!chunks.is_empty() && chunks.iter().all(|(refs, missing)| *refs >= 1 && *missing), "{:?}", s.problems);
}

#[tokio::test]
async fn one_tampered_byte_is_found_by_reading_data() {
    let env = backed_up("users=1,files=8,versions=1").await;
    let victim = packs(&env).remove(0);
    let mut bytes = std::fs::read(&victim).unwrap();
    // Inside the first chunk frame (after its 12-byte nonce).
    bytes[20] ^= 0x01;
    std::fs::write(&victim, bytes).unwrap();
    let quick = check_repository(&env.catalog, &env.repo, false).await.unwrap();
    assert!(quick.is_ok(), "without read_data pack bytes are not read: {:?}", quick.problems);
    let s = check_repository(&env.catalog, &env.repo, true).await.unwrap();
    assert!(!s.is_ok());
    assert!(s.problems.iter().any(|p| matches!(p, CheckProblem::Store { problem: Problem::BadChunk { .. } })));
    let damaged: Vec<_> = s.problems.iter().filter(|p| matches!(p, CheckProblem::DamagedChunk { .. })).collect();
    assert_eq!(damaged.len(), 1, "exactly the tampered chunk: {:?}", s.problems);
}

#[tokio::test]
async fn undecodable_catalog_reference_is_reported() {
    let env = backed_up("users=1,files=3,versions=1").await;
    let (_, drive) = env.first_drive();
    let user = env.emu.emu.state().drives[&drive].owner_user_id.clone().unwrap();
    let c = env.catalog.container_id(env.org, ContainerKind::OneDrive, &user).await.unwrap().unwrap();
    let state = ItemState {
        name: "broken.bin".into(),
        parent_id: None,
        is_folder: false,
        size: 3,
        quick_xor_hash: None,
        etag: None,
        ctag: None,
        created_at: None,
        created_by: None,
        modified_at: None,
        modified_by: None,
        web_url: None,
        content_ref: Some(vec![7, 7, 7]),
        metadata: serde_json::Value::Null,
        fields: None,
        attachments: Vec::new(),
    };
    env.catalog.record_item_state(c, "broken-item", &state, chrono::Utc::now()).await.unwrap();
    let s = check_repository(&env.catalog, &env.repo, false).await.unwrap();
    assert!(s.store.is_ok());
    match s.problems.as_slice() {
        [CheckProblem::UndecodableReference { reference, detail }] => {
            assert_eq!(reference, "070707");
            assert!(!detail.is_empty());
        }
        other => panic!("{other:?}"),
    }
}
