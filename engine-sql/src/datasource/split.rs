//! Splitting line-oriented files (text, JSON lines) into byte ranges read by separate
//! tasks. A line belongs to the range that holds its first byte, so every line is read
//! exactly once (Hadoop's `LineRecordReader` rule).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use engine_core::{EngineError, Result};

use super::listing::FileEntry;
use super::table::FileSplit;

/// `[start, end)` ranges of at most `target` bytes covering `file`, encoded as
/// `Some(vec![start, end])`; the whole file when it is small.
///
/// As many ranges as Spark cuts (`ceil(size / target)`), but of equal size: Spark's last
/// split takes the remainder, so a file a little over the target ran as one full task and
/// one small one, and the stage waited on the full one while a core idled.
pub fn line_splits(file: &FileEntry, target: u64) -> Vec<FileSplit> {
    let size = file.size;
    if size <= target || target == 0 {
        return vec![FileSplit::whole(file)];
    }
    let n = size.div_ceil(target);
    let step = size.div_ceil(n);
    let mut out = Vec::with_capacity(n as usize);
    let mut start = 0;
    while start < size {
        let end = (start + step).min(size);
        out.push(FileSplit {
            part: Some(vec![start as usize, end as usize]),
            bytes: end - start,
        });
        start = end;
    }
    out
}

/// The bytes of the lines that start in `range` (`None`: the whole file).
///
/// The start of the first line is found with a small read, then the lines are read once
/// into the returned buffer, so a split costs one copy of its bytes, not two.
pub fn read_lines(path: &Path, range: Option<&[usize]>) -> Result<Vec<u8>> {
    let err = |e| EngineError::io(format!("reading {}", path.display()), e);
    let Some(&[start, end]) = range else {
        return std::fs::read(path).map_err(err);
    };
    let mut f = File::open(path).map_err(err)?;
    // A line starts at `start` if the byte before it is a newline; otherwise the first
    // line starting in the range is the one after the next newline.
    let first = if start == 0 {
        0
    } else {
        let mut pos = start - 1;
        f.seek(SeekFrom::Start(pos as u64)).map_err(err)?;
        let mut chunk = [0u8; 8192];
        loop {
            if pos >= end {
                return Ok(Vec::new());
            }
            let k = f.read(&mut chunk).map_err(err)?;
            if k == 0 {
                return Ok(Vec::new());
            }
            if let Some(p) = memchr::memchr(b'\n', &chunk[..k]) {
                break pos + p + 1;
            }
            pos += k;
        }
    };
    if first >= end {
        return Ok(Vec::new());
    }
    f.seek(SeekFrom::Start(first as u64)).map_err(err)?;
    // Read into spare capacity: zeroing a whole split's buffer first is work the read
    // throws away.
    let want = end - first;
    let mut buf = Vec::with_capacity(want);
    let n = (&mut f)
        .take(want as u64)
        .read_to_end(&mut buf)
        .map_err(err)?;
    // Finish the last line, which may run past `end`.
    if n == want && buf.last() != Some(&b'\n') {
        let mut chunk = [0u8; 8192];
        loop {
            let k = f.read(&mut chunk).map_err(err)?;
            if k == 0 {
                break;
            }
            if let Some(p) = memchr::memchr(b'\n', &chunk[..k]) {
                buf.extend_from_slice(&chunk[..=p]);
                break;
            }
            buf.extend_from_slice(&chunk[..k]);
        }
    }
    Ok(buf)
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

    #[test]
    fn splits_are_as_many_as_sparks_and_of_equal_size() {
        let file = FileEntry {
            path: "x".into(),
            size: 13_451_212,
            partition_values: vec![],
        };
        let sizes: Vec<u64> = line_splits(&file, 8_823_702)
            .iter()
            .map(|s| s.bytes)
            .collect();
        assert_eq!(sizes, vec![6_725_606, 6_725_606]);
        let sizes: Vec<u64> = line_splits(&file, 4_000_000)
            .iter()
            .map(|s| s.bytes)
            .collect();
        assert_eq!(sizes, vec![3_362_803; 4]);
        assert!(line_splits(&file, 13_451_212)[0].part.is_none());
    }

    proptest::proptest! {
        #[test]
        fn splits_partition_any_text(
            text in "[ab\n]{0,300}",
            target in 1u64..64,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("x.txt");
            std::fs::write(&p, &text).unwrap();
            let file = FileEntry {
                path: p.clone(),
                size: text.len() as u64,
                partition_values: vec![],
            };
            let mut all = Vec::new();
            for s in line_splits(&file, target) {
                all.extend(read_lines(&p, s.part.as_deref()).unwrap());
            }
            proptest::prop_assert_eq!(String::from_utf8(all).unwrap(), text);
        }
    }
}
