//! Splitting line-oriented files (text, JSON lines) into byte ranges read by separate
//! tasks. A line belongs to the range that holds its first byte, so every line is read
//! exactly once (Hadoop's `LineRecordReader` rule).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use engine_core::{EngineError, Result};

use super::listing::FileEntry;
use super::table::FileSplit;

/// `[start, end)` ranges of about `target` bytes covering `file`, encoded as
/// `Some(vec![start, end])`; the whole file when it is small.
pub fn line_splits(file: &FileEntry, target: u64) -> Vec<FileSplit> {
    let size = file.size;
    if size <= target || target == 0 {
        return vec![FileSplit::whole(file)];
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < size {
        let end = (start + target).min(size);
        out.push(FileSplit {
            part: Some(vec![start as usize, end as usize]),
            bytes: end - start,
        });
        start = end;
    }
    out
}

/// The bytes of the lines that start in `range` (`None`: the whole file).
pub fn read_lines(path: &Path, range: Option<&[usize]>) -> Result<Vec<u8>> {
    let err = |e| EngineError::io(format!("reading {}", path.display()), e);
    let Some(&[start, end]) = range else {
        return std::fs::read(path).map_err(err);
    };
    let mut f = File::open(path).map_err(err)?;
    // Start one byte early: if that byte is a newline, a line starts exactly at `start`.
    let from = start.saturating_sub(1);
    f.seek(SeekFrom::Start(from as u64)).map_err(err)?;
    let mut buf = vec![0u8; end - from];
    let n = read_full(&mut f, &mut buf).map_err(err)?;
    buf.truncate(n);
    // Finish the last line, which may run past `end`.
    if n == end - from && buf.last() != Some(&b'\n') {
        let mut chunk = [0u8; 8192];
        loop {
            let k = f.read(&mut chunk).map_err(err)?;
            if k == 0 {
                break;
            }
            if let Some(p) = chunk[..k].iter().position(|b| *b == b'\n') {
                buf.extend_from_slice(&chunk[..=p]);
                break;
            }
            buf.extend_from_slice(&chunk[..k]);
        }
    }
    let first = if start == 0 {
        0
    } else {
        match buf.iter().position(|b| *b == b'\n') {
            Some(p) => p + 1,
            None => buf.len(),
        }
    };
    // No line starts in the range when the first newline is already past it.
    if start > 0 && first >= end - from {
        return Ok(Vec::new());
    }
    buf.drain(..first);
    Ok(buf)
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let k = f.read(&mut buf[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_read_once_for_any_split_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        let text = "alpha\nb\n\nccccccccc\nd\nlast-no-newline";
        std::fs::write(&p, text).unwrap();
        let file = FileEntry {
            path: p.clone(),
            size: text.len() as u64,
            partition_values: vec![],
        };
        for target in 1..=(text.len() as u64 + 1) {
            let mut all = Vec::new();
            for s in line_splits(&file, target) {
                all.extend(read_lines(&p, s.part.as_deref()).unwrap());
            }
            assert_eq!(String::from_utf8(all).unwrap(), text, "target {target}");
        }
    }
}
