//! ZIP details of `engine::save`: readable by the `zip` crate, Info-ZIP's `unzip` and Python's zipfile, ZIP64 for
//! many entries,
//! content from the repository, and a producer that stops when the reader goes away.

use std::io::{Cursor, Read};
use std::time::Duration;

use bytes::Bytes;
use engine::save::{zip_stream, zip_to_vec, EntryContent, ZipError, ZipPlan};
use futures::StreamExt;
use repo::store::{local_store, Repository};

fn python_test(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zip");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3").arg("-m").arg("zipfile").arg("-t").arg(&path).output().unwrap();
    assert!(out.status.success(), "python zipfile -t: {}", String::from_utf8_lossy(&out.stderr));
}

/// Info-ZIP `unzip`: the archive tests clean (`-t`); with `extract`, the files it writes hold `extract`'s bytes.
fn unzip_test(bytes: &[u8], extract: &[(String, Bytes)]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zip");
    std::fs::write(&path, bytes).unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new("unzip")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("`unzip` must be installed (.ci/run installs it): {e}"));
        assert!(out.status.success(), "unzip {args:?}: {}", String::from_utf8_lossy(&out.stdout));
    };
    run(&["-tq".as_ref(), path.as_os_str()]);
    if extract.is_empty() {
        return;
    }
    let to = dir.path().join("out");
    run(&["-q".as_ref(), path.as_os_str(), "-d".as_ref(), to.as_os_str()]);
    for (name, data) in extract.iter().filter(|(n, _)| !n.ends_with('/')) {
        let got = std::fs::read(to.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&got[..], &data[..], "{name}");
    }
}

fn read_all(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.push((f.name().to_string(), data));
    }
    out
}

async fn test_repo(dir: &std::path::Path) -> Repository {
    Repository::init(local_store(dir).unwrap(), "pw").await.unwrap()
}

fn pseudo_random(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn small_archive_is_readable_everywhere() {
    let entries = vec![
        ("a.txt".to_string(), Bytes::from_static(b"hello")),
        ("dir/".to_string(), Bytes::new()),
        ("dir/b.bin".to_string(), Bytes::from(pseudo_random(100_000, 7))),
        ("dir/ünïcode €.txt".to_string(), Bytes::from_static(b"utf8")),
        ("empty".to_string(), Bytes::new()),
    ];
    let bytes = zip_to_vec(entries.clone()).await.unwrap();
    python_test(&bytes);
    unzip_test(&bytes, &entries);
    let read = read_all(&bytes);
    assert_eq!(read.len(), entries.len());
    for ((n, d), (rn, rd)) in entries.iter().zip(read.iter()) {
        assert_eq!(n, rn);
        assert_eq!(&d[..], &rd[..]);
    }
}

#[tokio::test]
async fn many_entries_use_zip64() {
    let entries: Vec<(String, Bytes)> =
        (0..70_000).map(|i| (format!("f{i}.txt"), Bytes::from(format!("{i}").into_bytes()))).collect();
    let bytes = zip_to_vec(entries).await.unwrap();
    // ZIP64 end-of-central-directory record present.
    assert!(bytes.windows(4).any(|w| w == [0x50, 0x4b, 0x06, 0x06]));
    python_test(&bytes);
    unzip_test(&bytes, &[]);
    let mut z = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(z.len(), 70_000);
    let mut s = String::new();
    z.by_name("f69999.txt").unwrap().read_to_string(&mut s).unwrap();
    assert_eq!(s, "69999");
}

#[tokio::test]
async fn blobs_from_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let repo = test_repo(dir.path()).await;
    let a = pseudo_random(3 * 1024 * 1024 + 17, 1);
    let b = pseudo_random(10, 2);
    let ra = repo.write_blob(&a).await.unwrap();
    let rb = repo.write_blob(&b).await.unwrap();
    repo.flush().await.unwrap();
    let mut plan = ZipPlan::new();
    plan.add_folder(None, "F", "Folder", None);
    plan.add_file(Some("F"), "a.bin", EntryContent::Blob(ra.clone()), None);
    plan.add_file(Some("F"), "a.bin", EntryContent::Blob(rb), None);
    let entries = plan.into_entries();
    let expected_size = engine::save::zip_size(&entries);
    let (stream, handle) = zip_stream(repo.clone(), entries);
    let mut bytes = Vec::new();
    let mut stream = std::pin::pin!(stream);
    while let Some(piece) = stream.next().await {
        bytes.extend_from_slice(&piece.unwrap());
    }
    let summary = handle.await.unwrap().unwrap();
    assert_eq!(summary.entries, 3);
    assert_eq!(summary.bytes, bytes.len() as u64);
    assert_eq!(expected_size, bytes.len() as u64);
    python_test(&bytes);
    let read = read_all(&bytes);
    assert_eq!(read[0].0, "Folder/");
    assert_eq!(read[1], ("Folder/a.bin".to_string(), a));
    assert_eq!(read[2], ("Folder/a (2).bin".to_string(), b));

    // A single blob streamed raw.
    let raw: Vec<u8> =
        engine::save::blob_bytes(&repo, &ra).map(|r| r.unwrap().to_vec()).collect::<Vec<_>>().await.concat();
    assert_eq!(raw.len() as u64, ra.size);
}

#[tokio::test]
async fn dropping_the_stream_stops_the_producer() {
    let dir = tempfile::tempdir().unwrap();
    let repo = test_repo(dir.path()).await;
    let big = pseudo_random(48 * 1024 * 1024, 3);
    let r = repo.write_blob(&big).await.unwrap();
    repo.flush().await.unwrap();
    drop(big);
    let mut plan = ZipPlan::new();
    for i in 0..8 {
        plan.add_file(None, &format!("big{i}.bin"), EntryContent::Blob(r.clone()), None);
    }
    let (stream, handle) = zip_stream(repo, plan.into_entries());
    let mut stream = Box::pin(stream);
    let mut got = 0usize;
    while got < 1024 * 1024 {
        got += stream.next().await.unwrap().unwrap().len();
    }
    drop(stream);
    let result = tokio::time::timeout(Duration::from_secs(20), handle).await.expect("producer ended").unwrap();
    assert!(matches!(result, Err(ZipError::Disconnected)), "{result:?}");
}
