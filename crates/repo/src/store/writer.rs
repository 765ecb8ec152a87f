//! [`BlobWriter`]: streaming one blob into the repository.

use super::chunker::StreamChunker;
use super::error::Result;
use super::ids::{BlobRef, ChunkId};
use super::repository::Repository;

/// Writes one blob: feed its bytes with [`BlobWriter::write`] in slices of any size, then call
/// [`BlobWriter::finish`] for the [`BlobRef`].
///
/// Memory stays bounded (about two maximum chunks here, plus the repository's shared pack
/// buffer) whatever the blob size. Chunks already in the repository, or written earlier in this
/// blob or by another writer, are not stored again.
///
/// The chunks are durable only after [`Repository::flush`] (or once their pack filled up and was
/// uploaded). After an error the writer's state is unspecified: drop it and start over.
pub struct BlobWriter {
    repo: Repository,
    chunker: StreamChunker,
    chunks: Vec<ChunkId>,
    size: u64,
    new_chunks: u64,
    new_stored_bytes: u64,
}

impl BlobWriter {
    fn new(repo: Repository) -> Self {
        let chunker = StreamChunker::new(repo.chunker_params());
        BlobWriter { repo, chunker, chunks: Vec::new(), size: 0, new_chunks: 0, new_stored_bytes: 0 }
    }

    /// Appends content.
    pub async fn write(&mut self, data: &[u8]) -> Result<()> {
        self.size += data.len() as u64;
        // Feed at most one maximum chunk at a time so the chunker's buffer stays bounded even
        // when the caller hands over a huge slice.
        for piece in data.chunks(self.chunker.max_feed()) {
            self.chunker.feed(piece);
            while let Some(chunk) = self.chunker.next_chunk() {
                self.store(chunk).await?;
            }
        }
        Ok(())
    }

    async fn store(&mut self, chunk: Vec<u8>) -> Result<()> {
        let (id, new) = self.repo.store_chunk(chunk).await?;
        self.chunks.push(id);
        if let Some(stored) = new {
            self.new_chunks += 1;
            self.new_stored_bytes += stored;
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.size
    }

    /// Chunks the remaining buffered data and returns the blob's reference.
    pub async fn finish(mut self) -> Result<BlobRef> {
        while let Some(chunk) = self.chunker.next_final_chunk() {
            self.store(chunk).await?;
        }
        Ok(BlobRef {
            chunks: self.chunks,
            size: self.size,
            new_chunks: self.new_chunks,
            new_stored_bytes: self.new_stored_bytes,
        })
    }
}

// Beside the writer rather than in `repository`, so that the repository need not know its writer.
impl Repository {
    /// Starts writing one blob (a file's content); see [`BlobWriter`].
    pub fn blob_writer(&self) -> BlobWriter {
        BlobWriter::new(self.clone())
    }

    /// Writes a whole in-memory blob (convenience around [`Repository::blob_writer`]).
    pub async fn write_blob(&self, data: &[u8]) -> Result<BlobRef> {
        let mut w = self.blob_writer();
        w.write(data).await?;
        w.finish().await
    }
}
