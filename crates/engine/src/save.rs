//! "Save": backed-up content handed to a client as a download — one item's bytes, or a ZIP of many items.
//!
//! * [`blob_bytes`] streams one blob from the repository chunk by chunk (constant memory).
//! * [`ZipPlan`] collects the entries of an archive: folders and files with their original names, arranged like
//!   the catalog's folders. Every name is made safe with [`crate::export::sanitize_name`] (no `/`, `\`, NUL or control
//!   characters, never `.`/`..`, so no entry can escape the archive's root) and made unique within its folder with
//!   [`crate::export::NameAllocator`] (case-insensitively, in NFC: `a.txt`, `A (2).txt`, …), so no entry is ever lost.
//! * [`zip_stream`] writes the archive **while the client reads it**: a producer task writes into a bounded channel
//!   ([`CHANNEL_DEPTH`] chunks), the returned stream reads from it. Entries are STORED (Office files and media are
//!   already compressed) with data descriptors (bit 3), so nothing is buffered but the central directory (a few dozen
//!   bytes per entry). ZIP64 records are written for entries ≥ 4 GiB, offsets past 4 GiB and more than 65 535 entries.
//!   When the client goes away the stream is dropped, the next send fails and the producer ends.

use std::collections::HashMap;
use std::io;

use bytes::{BufMut, Bytes, BytesMut};
use chrono::{DateTime, Datelike, Timelike, Utc};
use futures::{Stream, StreamExt};
use repo::store::{BlobRef, Repository};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::export::NameAllocator;
use crate::selection::{FileRef, SelectError, Selection, SessionView, MAX_RECURSIVE_ROWS};
use repo::catalog::ItemKind;

/// Chunks the producer may be ahead of the client.
pub const CHANNEL_DEPTH: usize = 4;

/// Largest piece of output sent through the channel at once.
const PIECE: usize = 256 * 1024;

const LOCAL_SIG: u32 = 0x0403_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
/// Bit 3 (sizes and CRC in a data descriptor) + bit 11 (UTF-8 names).
const FLAGS: u16 = 0x0808;
const U32_MAX: u64 = 0xFFFF_FFFF;

/// Streams the bytes of one blob (constant memory); a repository error ends the stream with an I/O error.
pub fn blob_bytes(repo: &Repository, blob: &BlobRef) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    repo.blob_stream(&blob.chunks).map(|r| r.map_err(|e| io::Error::other(e.to_string())))
}

/// Content of an archive entry.
#[derive(Debug, Clone)]
pub enum EntryContent {
    /// A directory entry (`name/`).
    Directory,
    /// A file whose bytes are a repository blob.
    Blob(BlobRef),
    /// A small in-memory file.
    Inline(Bytes),
}

impl EntryContent {
    /// The content of `file`: its blob, or an empty file.
    pub fn of(file: &FileRef) -> Result<EntryContent, SelectError> {
        Ok(file.blob()?.map_or(EntryContent::Inline(Bytes::new()), EntryContent::Blob))
    }

    fn size(&self) -> u64 {
        match self {
            EntryContent::Directory => 0,
            EntryContent::Blob(b) => b.size,
            EntryContent::Inline(b) => b.len() as u64,
        }
    }
}

/// One entry of an archive: its final (safe, unique) path and content.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    /// `/`-separated path; directories end with `/`.
    pub name: String,
    /// What the entry holds.
    pub content: EntryContent,
    /// Modification time (DOS time in the archive; before 1980 → 1980-01-01).
    pub modified: Option<DateTime<Utc>>,
}

/// The entries of an archive, named safely and uniquely (see the [module docs](self)).
///
/// Folders are registered under a caller-chosen key (the catalog item id); files and sub-folders name their parent by
/// that key. An unknown parent key places the entry at the root rather than losing it.
#[derive(Debug, Default)]
pub struct ZipPlan {
    entries: Vec<ZipEntry>,
    root: NameAllocator,
    folders: HashMap<String, (String, NameAllocator)>,
}

impl ZipPlan {
    /// An empty archive.
    pub fn new() -> ZipPlan {
        ZipPlan::default()
    }

    fn allocate(&mut self, parent: Option<&str>, wanted: &str) -> String {
        match parent.and_then(|p| self.folders.get_mut(p)) {
            Some((path, names)) => format!("{path}/{}", names.allocate(wanted, &[])),
            None => self.root.allocate(wanted, &[]),
        }
    }

    /// Adds folder `key` named `name` under `parent` (`None`: the root); returns its path. Adding a key twice keeps
    /// the first.
    pub fn add_folder(
        &mut self,
        parent: Option<&str>,
        key: &str,
        name: &str,
        modified: Option<DateTime<Utc>>,
    ) -> String {
        if let Some((path, _)) = self.folders.get(key) {
            return path.clone();
        }
        let path = self.allocate(parent, name);
        self.folders.insert(key.to_string(), (path.clone(), NameAllocator::new()));
        self.entries.push(ZipEntry { name: format!("{path}/"), content: EntryContent::Directory, modified });
        path
    }

    /// Adds a file named `name` under `parent` (`None`: the root); returns its path.
    pub fn add_file(
        &mut self,
        parent: Option<&str>,
        name: &str,
        content: EntryContent,
        modified: Option<DateTime<Utc>>,
    ) -> String {
        let path = self.allocate(parent, name);
        self.entries.push(ZipEntry { name: path.clone(), content, modified });
        path
    }

    /// The entries in the order they were added.
    pub fn entries(&self) -> &[ZipEntry] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the archive is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sum of the content sizes.
    pub fn content_bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.content.size()).sum()
    }

    /// The entries, consumed.
    pub fn into_entries(self) -> Vec<ZipEntry> {
        self.entries
    }
}

/// What a finished producer wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipSummary {
    /// Entries written.
    pub entries: u64,
    /// Archive size in bytes.
    pub bytes: u64,
}

/// Why a producer stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// The reader went away (client disconnected).
    #[error("the client stopped reading")]
    Disconnected,
    /// Content could not be read or did not have its recorded size.
    #[error("{0}")]
    Content(String),
}

/// Starts a producer writing the archive of `entries` and returns the stream of its bytes and the producer's handle.
/// Errors while reading content end the stream with an I/O error (the client sees a broken transfer, never a
/// truncated archive that looks complete). Dropping the stream stops the producer.
pub fn zip_stream(
    repo: Repository,
    entries: Vec<ZipEntry>,
) -> (impl Stream<Item = io::Result<Bytes>> + Send + 'static, JoinHandle<Result<ZipSummary, ZipError>>) {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(CHANNEL_DEPTH);
    let handle = tokio::spawn(async move {
        let mut w = ZipWriter::new(tx.clone());
        let result = write_all_entries(&mut w, &repo, entries).await;
        if let Err(ZipError::Content(msg)) = &result {
            let _ = tx.send(Err(io::Error::other(msg.clone()))).await;
        }
        result
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    (stream, handle)
}

async fn write_all_entries(
    w: &mut ZipWriter,
    repo: &Repository,
    entries: Vec<ZipEntry>,
) -> Result<ZipSummary, ZipError> {
    for e in entries {
        match e.content {
            EntryContent::Directory => {
                w.add(&e.name, e.modified, 0, futures::stream::empty::<io::Result<Bytes>>()).await?;
            }
            EntryContent::Inline(b) => {
                let n = b.len() as u64;
                w.add(&e.name, e.modified, n, futures::stream::iter([Ok(b)])).await?;
            }
            EntryContent::Blob(blob) => {
                let size = blob.size;
                w.add(&e.name, e.modified, size, blob_bytes(repo, &blob)).await?;
            }
        }
    }
    w.finish().await
}

/// Central-directory record of a written entry.
struct Written {
    name: Vec<u8>,
    dos_time: u16,
    dos_date: u16,
    crc: u32,
    size: u64,
    offset: u64,
    is_dir: bool,
}

/// A streaming STORED ZIP writer into a channel (see the [module docs](self)).
pub struct ZipWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    offset: u64,
    central: Vec<Written>,
}

fn dos_time(t: Option<DateTime<Utc>>) -> (u16, u16) {
    let t = t.unwrap_or_else(Utc::now);
    if t.year() < 1980 {
        return (0, (1 << 5) | 1);
    }
    if t.year() > 2107 {
        return (0xBF7D, 0xFF9F);
    }
    let date = (((t.year() - 1980) as u16) << 9) | ((t.month() as u16) << 5) | t.day() as u16;
    let time = ((t.hour() as u16) << 11) | ((t.minute() as u16) << 5) | (t.second() as u16 / 2);
    (time, date)
}

impl ZipWriter {
    /// A writer sending its output into `tx`.
    pub fn new(tx: mpsc::Sender<io::Result<Bytes>>) -> ZipWriter {
        ZipWriter { tx, offset: 0, central: Vec::new() }
    }

    async fn emit(&mut self, b: Bytes) -> Result<(), ZipError> {
        self.offset += b.len() as u64;
        self.tx.send(Ok(b)).await.map_err(|_| ZipError::Disconnected)
    }

    /// Writes one entry whose content (`size` bytes, checked) comes from `data`.
    pub async fn add<S>(
        &mut self,
        name: &str,
        modified: Option<DateTime<Utc>>,
        size: u64,
        data: S,
    ) -> Result<(), ZipError>
    where
        S: Stream<Item = io::Result<Bytes>> + Send,
    {
        let is_dir = name.ends_with('/');
        let zip64 = size >= U32_MAX;
        let (time, date) = dos_time(modified);
        let offset = self.offset;
        let name_bytes = name.as_bytes().to_vec();
        let mut h = BytesMut::with_capacity(64 + name_bytes.len());
        h.put_u32_le(LOCAL_SIG);
        h.put_u16_le(if zip64 { 45 } else { 20 });
        h.put_u16_le(FLAGS);
        h.put_u16_le(0); // stored
        h.put_u16_le(time);
        h.put_u16_le(date);
        h.put_u32_le(0); // crc: in the data descriptor
        if zip64 {
            h.put_u32_le(U32_MAX as u32);
            h.put_u32_le(U32_MAX as u32);
        } else {
            h.put_u32_le(0);
            h.put_u32_le(0);
        }
        h.put_u16_le(name_bytes.len() as u16);
        h.put_u16_le(if zip64 { 20 } else { 0 });
        h.put_slice(&name_bytes);
        if zip64 {
            h.put_u16_le(1);
            h.put_u16_le(16);
            h.put_u64_le(0);
            h.put_u64_le(0);
        }
        self.emit(h.freeze()).await?;

        let mut crc = crc32fast::Hasher::new();
        let mut written = 0u64;
        let mut data = std::pin::pin!(data);
        while let Some(piece) = data.next().await {
            let mut piece = piece.map_err(|e| ZipError::Content(format!("{name}: {e}")))?;
            written += piece.len() as u64;
            if written > size {
                return Err(ZipError::Content(format!("{name}: content is longer than its recorded {size} bytes")));
            }
            crc.update(&piece);
            while !piece.is_empty() {
                let part = piece.split_to(piece.len().min(PIECE));
                self.emit(part).await?;
            }
        }
        if written != size {
            return Err(ZipError::Content(format!("{name}: content is {written} bytes, recorded {size}")));
        }
        let crc = crc.finalize();
        let mut d = BytesMut::with_capacity(24);
        d.put_u32_le(DESCRIPTOR_SIG);
        d.put_u32_le(crc);
        if zip64 {
            d.put_u64_le(size);
            d.put_u64_le(size);
        } else {
            d.put_u32_le(size as u32);
            d.put_u32_le(size as u32);
        }
        self.emit(d.freeze()).await?;
        self.central.push(Written { name: name_bytes, dos_time: time, dos_date: date, crc, size, offset, is_dir });
        Ok(())
    }

    /// Writes the central directory (and ZIP64 end records when needed).
    pub async fn finish(&mut self) -> Result<ZipSummary, ZipError> {
        let cd_start = self.offset;
        let central = std::mem::take(&mut self.central);
        let count = central.len() as u64;
        let mut buf = BytesMut::new();
        for e in &central {
            let big_size = e.size >= U32_MAX;
            let big_off = e.offset >= U32_MAX;
            let mut extra = BytesMut::new();
            if big_size || big_off {
                let mut fields = BytesMut::new();
                if big_size {
                    fields.put_u64_le(e.size);
                    fields.put_u64_le(e.size);
                }
                if big_off {
                    fields.put_u64_le(e.offset);
                }
                extra.put_u16_le(1);
                extra.put_u16_le(fields.len() as u16);
                extra.put_slice(&fields);
            }
            let needed = if big_size || big_off { 45 } else { 20 };
            buf.put_u32_le(CENTRAL_SIG);
            buf.put_u16_le((3 << 8) | 45); // Unix, 4.5
            buf.put_u16_le(needed);
            buf.put_u16_le(FLAGS);
            buf.put_u16_le(0);
            buf.put_u16_le(e.dos_time);
            buf.put_u16_le(e.dos_date);
            buf.put_u32_le(e.crc);
            let s = if big_size { U32_MAX as u32 } else { e.size as u32 };
            buf.put_u32_le(s);
            buf.put_u32_le(s);
            buf.put_u16_le(e.name.len() as u16);
            buf.put_u16_le(extra.len() as u16);
            buf.put_u16_le(0); // comment
            buf.put_u16_le(0); // disk
            buf.put_u16_le(0); // internal attributes
            let external = if e.is_dir { (0o40755u32 << 16) | 0x10 } else { 0o100644u32 << 16 };
            buf.put_u32_le(external);
            buf.put_u32_le(if big_off { U32_MAX as u32 } else { e.offset as u32 });
            buf.put_slice(&e.name);
            buf.put_slice(&extra);
            if buf.len() >= PIECE {
                let b = buf.split().freeze();
                self.emit(b).await?;
            }
        }
        let b = buf.split().freeze();
        self.emit(b).await?;
        let cd_size = self.offset - cd_start;
        let needs64 = count >= 0xFFFF || cd_size >= U32_MAX || cd_start >= U32_MAX;
        let mut end = BytesMut::new();
        if needs64 {
            let eocd64 = self.offset;
            end.put_u32_le(ZIP64_EOCD_SIG);
            end.put_u64_le(44);
            end.put_u16_le((3 << 8) | 45);
            end.put_u16_le(45);
            end.put_u32_le(0);
            end.put_u32_le(0);
            end.put_u64_le(count);
            end.put_u64_le(count);
            end.put_u64_le(cd_size);
            end.put_u64_le(cd_start);
            end.put_u32_le(ZIP64_LOCATOR_SIG);
            end.put_u32_le(0);
            end.put_u64_le(eocd64);
            end.put_u32_le(1);
        }
        end.put_u32_le(EOCD_SIG);
        end.put_u16_le(0);
        end.put_u16_le(0);
        let c16 = if needs64 { 0xFFFF } else { count as u16 };
        end.put_u16_le(c16);
        end.put_u16_le(c16);
        end.put_u32_le(if needs64 { U32_MAX as u32 } else { cd_size as u32 });
        end.put_u32_le(if needs64 { U32_MAX as u32 } else { cd_start as u32 });
        end.put_u16_le(0);
        self.emit(end.freeze()).await?;
        Ok(ZipSummary { entries: count, bytes: self.offset })
    }
}

/// The exact size of the archive [`zip_stream`] writes for `entries` (for `Content-Length`).
pub fn zip_size(entries: &[ZipEntry]) -> u64 {
    let mut offset = 0u64;
    let mut central = 0u64;
    for e in entries {
        let size = e.content.size();
        let zip64 = size >= U32_MAX;
        let name = e.name.len() as u64;
        let big_off = offset >= U32_MAX;
        offset += 30 + name + if zip64 { 20 } else { 0 } + size + if zip64 { 24 } else { 16 };
        let extra = if zip64 || big_off { 4 + if zip64 { 16 } else { 0 } + if big_off { 8 } else { 0 } } else { 0 };
        central += 46 + name + extra;
    }
    let count = entries.len() as u64;
    let needs64 = count >= 0xFFFF || central >= U32_MAX || offset >= U32_MAX;
    offset + central + 22 + if needs64 { 56 + 20 } else { 0 }
}

/// An archive planned from a [`Selection`]: its entries, and how many files of its trees were left out because the
/// backup holds no content for them.
#[derive(Debug, Default)]
pub struct SavePlan {
    /// The entries.
    pub zip: ZipPlan,
    /// Files of trees left out for lack of content.
    pub missing: u64,
}

/// Plans the archive of `selection` as `view` shows it: trees keep the catalog's folders (a selected folder is the
/// archive's top folder; a whole container puts its top level at the root) and leave out files without content;
/// single files sit at the root and must all have content.
pub async fn plan(view: &SessionView<'_>, selection: &Selection) -> Result<SavePlan, SelectError> {
    let mut out = SavePlan::default();
    match selection {
        Selection::Files(files) => {
            for f in files {
                out.zip.add_file(None, &f.name, EntryContent::of(f)?, f.modified);
            }
        }
        Selection::Trees(trees) => {
            for tree in trees {
                if let Some(f) = &tree.folder {
                    out.zip.add_folder(None, &f.item_id, &f.state.name, f.state.modified_at);
                }
                let rows = view.walk(tree, ItemKind::Any).await?;
                if rows.len() >= MAX_RECURSIVE_ROWS {
                    return Err(SelectError::TooMany);
                }
                for r in rows {
                    let parent = r.state.parent_id.as_deref();
                    let s = &r.state;
                    if s.is_folder {
                        out.zip.add_folder(parent, &r.item_id, &s.name, s.modified_at);
                        continue;
                    }
                    match EntryContent::of(&FileRef::of(&r)) {
                        Ok(content) => {
                            out.zip.add_file(parent, &s.name, content, s.modified_at);
                        }
                        Err(_) => out.missing += 1,
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Writes `entries` of in-memory content into a byte vector (tests, small archives).
pub async fn zip_to_vec(entries: Vec<(String, Bytes)>) -> Result<Vec<u8>, ZipError> {
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(CHANNEL_DEPTH);
    let producer = tokio::spawn(async move {
        let mut w = ZipWriter::new(tx);
        for (name, data) in entries {
            let n = data.len() as u64;
            w.add(&name, None, n, futures::stream::iter([Ok(data)])).await?;
        }
        w.finish().await
    });
    let mut out = Vec::new();
    while let Some(piece) = rx.recv().await {
        out.extend_from_slice(&piece.map_err(|e| ZipError::Content(e.to_string()))?);
    }
    producer.await.map_err(|e| ZipError::Content(e.to_string()))??;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(n: usize) -> EntryContent {
        EntryContent::Inline(Bytes::from(vec![b'x'; n]))
    }

    #[test]
    fn hostile_names_are_sanitised() {
        let mut p = ZipPlan::new();
        let names = ["../../etc/passwd", "/abs/path", "a\\b", "nul\0byte", "..", ".", "", "C:\\Windows"];
        for n in names {
            p.add_file(None, n, blob(1), None);
        }
        let dir = p.add_folder(None, "f1", "..", None);
        p.add_file(Some("f1"), "../x", blob(1), None);
        assert_eq!(p.len(), names.len() + 2);
        let mut seen = std::collections::HashSet::new();
        for e in p.entries() {
            let n = e.name.trim_end_matches('/');
            assert!(!n.starts_with('/'), "{n}");
            assert!(!n.contains('\\') && !n.contains('\0'), "{n}");
            assert!(n.split('/').all(|c| !c.is_empty() && c != "." && c != ".."), "{n}");
            assert!(seen.insert(e.name.to_lowercase()), "duplicate {n}");
        }
        assert!(!dir.contains(".."));
    }

    #[test]
    fn duplicates_get_suffixes() {
        let mut p = ZipPlan::new();
        p.add_folder(None, "d", "Docs", None);
        let a = p.add_file(Some("d"), "a.txt", blob(1), None);
        let b = p.add_file(Some("d"), "A.txt", blob(1), None);
        let c = p.add_file(Some("d"), "a.txt", blob(1), None);
        assert_eq!((a.as_str(), b.as_str(), c.as_str()), ("Docs/a.txt", "Docs/A (2).txt", "Docs/a (3).txt"));
        // Same folder name twice under different keys: distinct paths.
        let d2 = p.add_folder(None, "d2", "docs", None);
        assert_eq!(d2, "docs (2)");
        // Unknown parent: the root, never lost.
        assert_eq!(p.add_file(Some("nope"), "z", blob(1), None), "z");
        assert_eq!(p.len(), 6);
    }

    #[test]
    fn dos_times() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 10).unwrap();
        assert_eq!(dos_time(Some(t)), ((7 << 11) | (8 << 5) | 5, ((44 << 9) | (5 << 5) | 6)));
        assert_eq!(dos_time(Some(Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap())), (0, 33));
    }

    #[tokio::test]
    async fn size_mismatch_is_an_error() {
        let (tx, mut rx) = mpsc::channel(CHANNEL_DEPTH);
        let h = tokio::spawn(async move {
            let mut w = ZipWriter::new(tx);
            w.add("a", None, 5, futures::stream::iter([Ok(Bytes::from_static(b"abc"))])).await
        });
        while rx.recv().await.is_some() {}
        assert!(matches!(h.await.unwrap(), Err(ZipError::Content(_))));
    }
}
