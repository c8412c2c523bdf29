//! The one file format of both providers: `<v>.delta` and `<v>.snapshot`.
//!
//! ```text
//! header   "SSTATE" | format 1 (u8) | kind (u8: 0 delta, 1 snapshot) | codec (u8: 1 lz4) | 0 (u8)
//!          | version (u64 LE)
//! block*   raw length (u32 LE, > 0) | stored length (u32 LE) | crc32 of stored (u32 LE) | stored
//! end      0 (u32) | 16 (u32) | crc32 of the next 16 bytes | records (u64 LE) | rows (u64 LE)
//! ```
//!
//! A block's raw bytes are records: `1 | key length (u32) | key | value length (u32) | value`
//! for a put, `2 | key length | key` for a remove, keys strictly ascending across the file.
//! `rows` is the number of keys in the state after this version, so tools can show it without
//! loading the state. Files are written in blocks (a 10M-key snapshot never sits in memory
//! whole), to a temp name, fsynced and renamed. A reader checks every block's checksum, the key
//! order, the end marker and that nothing follows it: a truncated or damaged file is an error
//! naming the file and version, never a shorter state.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use engine_core::{EngineError, Result};

use super::atomic::TempFile;
use crate::conf::Codec;
use crate::errors::{corrupt_file, read_io};

const MAGIC: &[u8; 6] = b"SSTATE";
const FORMAT_VERSION: u8 = 1;
const HEADER_LEN: usize = 18;
const CODEC_LZ4: u8 = 1;
const TAG_PUT: u8 = 1;
const TAG_REMOVE: u8 = 2;
/// Raw bytes per block: small enough that a reader merging a hundred deltas stays small,
/// large enough to compress well.
const BLOCK_BYTES: usize = 64 * 1024;
/// The largest raw block a reader accepts (a writer makes bigger ones only for one huge
/// record); guards allocations against damaged lengths.
const MAX_BLOCK_BYTES: usize = 1 << 30;

/// Delta (the changes of one version) or snapshot (the whole state at a version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `<v>.delta`.
    Delta,
    /// `<v>.snapshot`.
    Snapshot,
}

impl FileKind {
    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Delta => "delta",
            FileKind::Snapshot => "snapshot",
        }
    }

    fn byte(self) -> u8 {
        match self {
            FileKind::Delta => 0,
            FileKind::Snapshot => 1,
        }
    }
}

/// One record: a put (`Some` value) or a remove (`None`).
pub type Record = (Vec<u8>, Option<Vec<u8>>);

/// Writes one state file block by block; [`FileWriter::finish`] makes it visible atomically.
/// Dropping an unfinished writer leaves nothing behind.
pub struct FileWriter {
    out: BufWriter<TempFile>,
    raw: Vec<u8>,
    stored: Vec<u8>,
    records: u64,
    last_key: Option<Vec<u8>>,
    path: PathBuf,
    version: u64,
}

impl FileWriter {
    /// Starts `path` (`<dir>/<version>.<kind>`), creating the directory if needed.
    pub fn create(path: &Path, kind: FileKind, version: u64, codec: Codec) -> Result<FileWriter> {
        let tmp = TempFile::create(path)?;
        let mut out = BufWriter::with_capacity(256 * 1024, tmp);
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(FORMAT_VERSION);
        header.push(kind.byte());
        header.push(match codec {
            Codec::Lz4 => CODEC_LZ4,
        });
        header.push(0);
        header.extend_from_slice(&version.to_le_bytes());
        out.write_all(&header)
            .map_err(|e| EngineError::io(format!("writing {}", path.display()), e))?;
        Ok(FileWriter {
            out,
            raw: Vec::with_capacity(BLOCK_BYTES + 1024),
            stored: Vec::new(),
            records: 0,
            last_key: None,
            path: path.to_path_buf(),
            version,
        })
    }

    /// Appends a put; keys must come in strictly ascending order.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.record(TAG_PUT, key, Some(value))
    }

    /// Appends a remove; keys must come in strictly ascending order.
    pub fn remove(&mut self, key: &[u8]) -> Result<()> {
        self.record(TAG_REMOVE, key, None)
    }

    fn record(&mut self, tag: u8, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        if self.last_key.as_deref().is_some_and(|last| last >= key) {
            return Err(EngineError::Internal(format!(
                "state file {}: keys written out of order",
                self.path.display()
            )));
        }
        self.raw.push(tag);
        self.raw
            .extend_from_slice(&len_u32(key.len(), &self.path)?.to_le_bytes());
        self.raw.extend_from_slice(key);
        if let Some(v) = value {
            self.raw
                .extend_from_slice(&len_u32(v.len(), &self.path)?.to_le_bytes());
            self.raw.extend_from_slice(v);
        }
        match &mut self.last_key {
            Some(last) => {
                last.clear();
                last.extend_from_slice(key);
            }
            None => self.last_key = Some(key.to_vec()),
        }
        self.records += 1;
        if self.raw.len() >= BLOCK_BYTES {
            self.flush_block()?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> Result<()> {
        if self.raw.is_empty() {
            return Ok(());
        }
        self.stored
            .resize(lz4_flex::block::get_maximum_output_size(self.raw.len()), 0);
        let n = lz4_flex::block::compress_into(&self.raw, &mut self.stored).map_err(|e| {
            EngineError::external(format!("compressing {}", self.path.display()), e)
        })?;
        self.stored.truncate(n);
        let raw_len = len_u32(self.raw.len(), &self.path)?;
        let stored_len = len_u32(n, &self.path)?;
        let crc = crc32fast::hash(&self.stored);
        let mut head = [0u8; 12];
        head[..4].copy_from_slice(&raw_len.to_le_bytes());
        head[4..8].copy_from_slice(&stored_len.to_le_bytes());
        head[8..].copy_from_slice(&crc.to_le_bytes());
        self.write(&head)?;
        let stored = std::mem::take(&mut self.stored);
        let r = self.write(&stored);
        self.stored = stored;
        r?;
        self.raw.clear();
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| EngineError::io(format!("writing {}", self.path.display()), e))
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Writes the end marker with `rows` (keys in the state after this version), fsyncs and
    /// renames the file into place (replacing an older file of the same name, as a re-run of
    /// the same batch writes the same content). Returns the file's size in bytes.
    pub fn finish(mut self, rows: u64) -> Result<u64> {
        self.flush_block()?;
        let mut trailer = [0u8; 16];
        trailer[..8].copy_from_slice(&self.records.to_le_bytes());
        trailer[8..].copy_from_slice(&rows.to_le_bytes());
        let mut head = [0u8; 12];
        head[4..8].copy_from_slice(&16u32.to_le_bytes());
        head[8..].copy_from_slice(&crc32fast::hash(&trailer).to_le_bytes());
        self.write(&head)?;
        self.write(&trailer)?;
        let path = self.path.clone();
        let version = self.version;
        let tmp = self
            .out
            .into_inner()
            .map_err(|e| EngineError::io(format!("writing {}", path.display()), e.into_error()))?;
        let bytes = tmp.commit().map_err(|e| {
            EngineError::io(format!("writing {} (version {version})", path.display()), e)
        })?;
        Ok(bytes)
    }
}

fn len_u32(n: usize, path: &Path) -> Result<u32> {
    u32::try_from(n).map_err(|_| {
        EngineError::Unsupported(format!(
            "a state key or value of {n} bytes in {} (at most 4 GiB)",
            path.display()
        ))
    })
}

/// What a file's end marker says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// Records in the file.
    pub records: u64,
    /// Keys in the state after this version ([`UNKNOWN_ROWS`] when the writer did not count
    /// them).
    pub rows: u64,
}

/// The row count of a version whose writer did not count its keys (the disk provider with
/// `spark.sql.streaming.stateStore.rocksdb.trackTotalNumberOfRows=false`).
pub const UNKNOWN_ROWS: u64 = u64::MAX;

/// Reads one state file record by record, checking everything on the way.
pub struct FileReader {
    input: BufReader<File>,
    path: PathBuf,
    version: u64,
    kind: FileKind,
    raw: Vec<u8>,
    stored: Vec<u8>,
    pos: usize,
    records: u64,
    last_key: Option<Vec<u8>>,
    trailer: Option<Trailer>,
}

impl FileReader {
    /// Opens `path`, which must be a `kind` file of `version`. A missing file is an
    /// `std::io::ErrorKind::NotFound` I/O error; callers turn it into Spark's message.
    pub fn open(path: &Path, kind: FileKind, version: u64) -> Result<FileReader> {
        let file = File::open(path)
            .map_err(|e| EngineError::io(format!("opening {}", path.display()), e))?;
        let mut input = BufReader::with_capacity(64 * 1024, file);
        let mut header = [0u8; HEADER_LEN];
        input
            .read_exact(&mut header)
            .map_err(|e| read_io(path, version, e))?;
        let bad = |what: String| corrupt_file(path, version, what);
        if &header[..6] != MAGIC {
            return Err(bad("not a state file (bad magic bytes)".into()));
        }
        if header[6] != FORMAT_VERSION {
            return Err(bad(format!(
                "format version {} is not supported (this engine reads {FORMAT_VERSION})",
                header[6]
            )));
        }
        if header[7] != kind.byte() {
            return Err(bad(format!("not a {} file", kind.extension())));
        }
        if header[9] != 0 {
            return Err(bad("the header is damaged".into()));
        }
        if header[8] != CODEC_LZ4 {
            return Err(bad(format!("unknown compression codec {}", header[8])));
        }
        let mut v = [0u8; 8];
        v.copy_from_slice(&header[10..18]);
        let in_file = u64::from_le_bytes(v);
        if in_file != version {
            return Err(bad(format!("the file holds version {in_file}")));
        }
        Ok(FileReader {
            input,
            path: path.to_path_buf(),
            version,
            kind,
            raw: Vec::new(),
            stored: Vec::new(),
            pos: 0,
            records: 0,
            last_key: None,
            trailer: None,
        })
    }

    /// Only the end marker of `path` (a seek, not a read of the file), for tools that show
    /// row counts; the blocks are not checked.
    pub fn read_trailer(path: &Path, kind: FileKind, version: u64) -> Result<Trailer> {
        use std::io::{Seek, SeekFrom};
        let mut r = FileReader::open(path, kind, version)?;
        let len = r
            .input
            .get_ref()
            .metadata()
            .map_err(|e| read_io(path, version, e))?
            .len();
        let end = (HEADER_LEN + 28) as u64;
        if len < end {
            return Err(corrupt_file(path, version, "the file is truncated"));
        }
        r.input
            .seek(SeekFrom::Start(len - 28))
            .map_err(|e| read_io(path, version, e))?;
        let mut head = [0u8; 12];
        r.read_exact_or_truncated(&mut head)?;
        let field = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        if field(0) != 0 {
            return Err(corrupt_file(path, version, "the file is truncated"));
        }
        r.read_end_marker(field(4) as usize, field(8))
    }

    /// The file's kind.
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// The next record, or `None` after the end marker (checked).
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        loop {
            if self.pos < self.raw.len() {
                return self.parse_record().map(Some);
            }
            if self.trailer.is_some() || !self.read_block()? {
                return Ok(None);
            }
        }
    }

    /// Reads the rest of the file and returns its end marker.
    pub fn finish(mut self) -> Result<Trailer> {
        while self.next_record()?.is_some() {}
        self.trailer
            .ok_or_else(|| corrupt_file(&self.path, self.version, "the file is truncated"))
    }

    fn corrupt(&self, what: impl std::fmt::Display) -> EngineError {
        corrupt_file(&self.path, self.version, what)
    }

    /// Loads the next block into `raw`; false after the end marker.
    fn read_block(&mut self) -> Result<bool> {
        let mut head = [0u8; 12];
        self.read_exact_or_truncated(&mut head)?;
        let field = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let (raw_len, stored_len, crc) = (field(0) as usize, field(4) as usize, field(8));
        if raw_len == 0 {
            return self.finish_blocks(stored_len, crc).map(|()| false);
        }
        if raw_len > MAX_BLOCK_BYTES || stored_len > MAX_BLOCK_BYTES {
            return Err(self.corrupt("a block length is out of range"));
        }
        self.stored.resize(stored_len, 0);
        let mut stored = std::mem::take(&mut self.stored);
        let r = self.read_exact_or_truncated(&mut stored);
        self.stored = stored;
        r?;
        if crc32fast::hash(&self.stored) != crc {
            return Err(self.corrupt("a block's checksum does not match"));
        }
        self.raw.resize(raw_len, 0);
        let n = lz4_flex::block::decompress_into(&self.stored, &mut self.raw)
            .map_err(|e| self.corrupt(format_args!("a block does not decompress: {e}")))?;
        if n != raw_len {
            return Err(self.corrupt("a block decompresses to the wrong length"));
        }
        self.pos = 0;
        Ok(true)
    }

    /// Reads and checks the end marker's 16 bytes.
    fn read_end_marker(&mut self, len: usize, crc: u32) -> Result<Trailer> {
        if len != 16 {
            return Err(self.corrupt("the end marker is damaged"));
        }
        let mut t = [0u8; 16];
        self.read_exact_or_truncated(&mut t)?;
        if crc32fast::hash(&t) != crc {
            return Err(self.corrupt("the end marker's checksum does not match"));
        }
        let mut n = [0u8; 8];
        n.copy_from_slice(&t[..8]);
        let records = u64::from_le_bytes(n);
        n.copy_from_slice(&t[8..]);
        Ok(Trailer {
            records,
            rows: u64::from_le_bytes(n),
        })
    }

    fn finish_blocks(&mut self, len: usize, crc: u32) -> Result<()> {
        let trailer = self.read_end_marker(len, crc)?;
        if trailer.records != self.records {
            return Err(self.corrupt(format_args!(
                "the end marker counts {} records, the file has {}",
                trailer.records, self.records
            )));
        }
        let mut extra = [0u8; 1];
        match self.input.read(&mut extra) {
            Ok(0) => {}
            Ok(_) => return Err(self.corrupt("bytes follow the end marker")),
            Err(e) => return Err(read_io(&self.path, self.version, e)),
        }
        self.raw.clear();
        self.pos = 0;
        self.trailer = Some(trailer);
        Ok(())
    }

    fn read_exact_or_truncated(&mut self, buf: &mut [u8]) -> Result<()> {
        self.input
            .read_exact(buf)
            .map_err(|e| read_io(&self.path, self.version, e))
    }

    fn parse_record(&mut self) -> Result<Record> {
        let tag = self.take(1)?[0];
        let key = self.take_sized()?;
        let value = match tag {
            TAG_PUT => Some(self.take_sized()?),
            TAG_REMOVE if self.kind == FileKind::Delta => None,
            _ => return Err(self.corrupt(format_args!("unknown record tag {tag}"))),
        };
        if self.last_key.as_ref().is_some_and(|last| *last >= key) {
            return Err(self.corrupt("keys are out of order"));
        }
        self.last_key = Some(key.clone());
        self.records += 1;
        Ok((key, value))
    }

    fn take_sized(&mut self) -> Result<Vec<u8>> {
        let b = self.take(4)?;
        let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        Ok(self.take(n)?.to_vec())
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.raw.len())
            .ok_or_else(|| self.corrupt("a record runs past the end of its block"))?;
        let s = &self.raw[self.pos..end];
        self.pos = end;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, n: u32) -> PathBuf {
        let p = dir.join("3.delta");
        let mut w = FileWriter::create(&p, FileKind::Delta, 3, Codec::Lz4).unwrap();
        for i in 0..n {
            let k = format!("key{i:08}");
            if i % 7 == 0 {
                w.remove(k.as_bytes()).unwrap();
            } else {
                w.put(k.as_bytes(), format!("value{i}").as_bytes()).unwrap();
            }
        }
        w.finish(42).unwrap();
        p
    }

    fn read_all(p: &Path) -> Result<(Vec<Record>, Trailer)> {
        let mut r = FileReader::open(p, FileKind::Delta, 3)?;
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push(rec);
        }
        Ok((out, r.finish()?))
    }

    #[test]
    fn round_trips_across_blocks() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), 20_000);
        let (recs, t) = read_all(&p).unwrap();
        assert_eq!(recs.len(), 20_000);
        assert_eq!(
            t,
            Trailer {
                records: 20_000,
                rows: 42
            }
        );
        assert_eq!(FileReader::read_trailer(&p, FileKind::Delta, 3).unwrap(), t);
        assert_eq!(recs[0], (b"key00000000".to_vec(), None));
        assert_eq!(recs[1], (b"key00000001".to_vec(), Some(b"value1".to_vec())));
        // Only the file itself is left: no temp files.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_an_error_naming_file_and_version() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), 300);
        let good = std::fs::read(&p).unwrap();
        let broken = d.path().join("broken");
        // Every length near the ends (header, end marker), every fifth one in between.
        let lens = (0..good.len()).filter(|l| *l < 40 || *l + 40 > good.len() || l % 5 == 0);
        for len in lens {
            std::fs::write(&broken, &good[..len]).unwrap();
            let e = FileReader::open(&broken, FileKind::Delta, 3)
                .and_then(|mut r| {
                    while r.next_record()?.is_some() {}
                    r.finish()
                })
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("broken") && e.contains("version 3"),
                "{len}: {e}"
            );
        }
        for i in (0..good.len()).step_by(7) {
            let mut bad = good.clone();
            bad[i] ^= 0x5a;
            std::fs::write(&broken, &bad).unwrap();
            let r = FileReader::open(&broken, FileKind::Delta, 3).and_then(|mut r| {
                while r.next_record()?.is_some() {}
                r.finish()
            });
            // The trailer's row count is data, not structure: the checksum covers it.
            assert!(r.is_err(), "flipping byte {i} went unnoticed");
        }
    }

    #[test]
    fn a_file_of_another_version_or_kind_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), 3);
        let e = FileReader::open(&p, FileKind::Delta, 4)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("holds version 3"), "{e}");
        let e = FileReader::open(&p, FileKind::Snapshot, 3)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not a snapshot file"), "{e}");
    }

    #[test]
    fn keys_out_of_order_are_refused_when_writing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("1.delta");
        let mut w = FileWriter::create(&p, FileKind::Delta, 1, Codec::Lz4).unwrap();
        w.put(b"b", b"1").unwrap();
        assert!(w.put(b"a", b"1").is_err());
        drop(w);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }
}
