//! Acceptance: Microsoft's own Graph SDK for Python (`msgraph-sdk`, PyPI) works against the
//! emulator (tests/python/msgraph_probe.py). The interpreter is `$VAULT365_PYTHON`, default
//! `.venv/bin/python` at the workspace root (scripts/test.sh creates it). A missing interpreter or
//! module fails the test: this check must never skip silently.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn python() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os("VAULT365_PYTHON") {
        Some(p) => root.join(p),
        None => root.join(".venv/bin/python"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgraph_sdk_probe_passes() {
    let py = python();
    assert!(
        py.exists(),
        "Python interpreter {} not found: run scripts/test.sh (or python3 -m venv .venv && \
         .venv/bin/pip install -r tests/python/requirements.txt), or set VAULT365_PYTHON",
        py.display()
    );
    let import = tokio::process::Command::new(&py).args(["-c", "import msgraph, kiota_abstractions"]).output().await;
    let import = import.unwrap_or_else(|e| panic!("cannot run {}: {e}", py.display()));
    assert!(
        import.status.success(),
        "msgraph-sdk is not installed for {}: .venv/bin/pip install -r tests/python/requirements.txt\n{}",
        py.display(),
        String::from_utf8_lossy(&import.stderr)
    );

    let t = TestTenant::start("users=2,files=12,versions=2,folders=2x1").await;
    let probe = workspace_root().join("tests/python/msgraph_probe.py");
    let run = tokio::process::Command::new(&py).arg(&probe).arg(&t.base).kill_on_drop(true).output();
    let out = tokio::time::timeout(Duration::from_secs(180), run).await.expect("probe timed out").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "msgraph-sdk probe failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("checks passed"), "{stdout}");
    // The probe really wrote through the SDK into this emulator: one file with three versions.
    let st = t.emu.emu.state();
    let probe_files: Vec<_> = st.items.values().filter(|i| i.name.starts_with("hello-") && !i.is_folder).collect();
    assert_eq!(probe_files.len(), 1);
    assert_eq!(probe_files[0].versions.len(), 3);
    let folder = &st.items[probe_files[0].parent_id.as_ref().unwrap()];
    assert_eq!(folder.name, "msgraph-probe");
}
