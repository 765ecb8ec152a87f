//! The baseline of the save benchmark: the system `tar` archiving the same plain files into a pipe that this
//! process drains, like the ZIP probe drains its stream. (A pipe, not `/dev/null`: GNU tar notices an archive
//! written to `/dev/null` and then skips reading the files.)

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// One `tar` run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TarRun {
    /// Bytes of the archive tar wrote.
    pub archive_bytes: u64,
    pub secs: f64,
}

/// Runs `tar -cf - -C dir .` and counts its output. Blocking: call from `spawn_blocking`.
pub fn archive_dir(dir: &Path) -> anyhow::Result<TarRun> {
    let t = Instant::now();
    let mut child = Command::new("tar")
        .arg("-cf")
        .arg("-")
        .arg("-C")
        .arg(dir)
        .arg(".")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the system `tar` (is it installed?)")?;
    let mut out = child.stdout.take().context("tar has no stdout")?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut archive_bytes = 0u64;
    loop {
        let n = out.read(&mut buf).context("reading tar's output")?;
        if n == 0 {
            break;
        }
        archive_bytes += n as u64;
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().context("waiting for tar")?;
    let secs = t.elapsed().as_secs_f64();
    if !status.success() {
        bail!("tar failed ({status}): {}", err.trim());
    }
    Ok(TarRun { archive_bytes, secs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_a_directory_into_the_pipe() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/a.bin"), vec![7u8; 100_000]).unwrap();
        let run = archive_dir(d.path()).unwrap();
        // The content plus headers, padded to tar's 10 KiB records.
        assert!(run.archive_bytes >= 100_000 + 3 * 512, "{run:?}");
        assert_eq!(run.archive_bytes % 10_240, 0, "{run:?}");
        assert!(archive_dir(&d.path().join("missing")).is_err());
    }
}
