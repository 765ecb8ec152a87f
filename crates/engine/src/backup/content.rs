//! Streaming downloads into the content store, verified with quickXorHash where Graph gives one.

use futures::StreamExt;
use m365::Resource;
use model::quickxor::QuickXor;
use repo::store::BlobRef;

use super::Run;
use crate::progress::Progress;

/// Bytes downloaded and stored.
pub(crate) struct Stored {
    pub blob: BlobRef,
    pub quick_xor: String,
}

/// Download `url` into the content store (constant memory: bytes flow from the socket into the
/// chunker). When `expected_hash` is given, a mismatch is an error: the bytes are not what Graph
/// says the file holds (a truncated or changed download).
pub(crate) async fn store_download(
    run: &Run,
    url: &str,
    resource: Option<Resource>,
    expected_hash: Option<&str>,
) -> anyhow::Result<Stored> {
    let mut writer = run.ctx.repo.blob_writer();
    let mut hash = QuickXor::new();
    let mut stream = std::pin::pin!(run.ctx.client.download_stream(url, resource));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        hash.update(&chunk);
        writer.write(&chunk).await?;
        Progress::add(&run.ctx.progress.bytes_read, chunk.len() as u64);
    }
    let blob = writer.finish().await?;
    Progress::add(&run.ctx.progress.bytes_stored, blob.new_stored_bytes);
    let quick_xor = hash.finalize_base64();
    if let Some(exp) = expected_hash {
        if exp != quick_xor {
            anyhow::bail!("downloaded content does not match quickXorHash {exp} (got {quick_xor})");
        }
    }
    Ok(Stored { blob, quick_xor })
}
