//! The streaming checkpoint: Spark's layout and file formats, written crash-safely.
//!
//! ```text
//! <checkpoint>/metadata        {"id":"<query uuid>"}                 StreamMetadata
//! <checkpoint>/offsets/<N>     v1 / batch metadata / offset per source   OffsetSeqLog
//! <checkpoint>/commits/<N>     v1 / {"nextBatchWatermarkMs":..}          CommitLog
//! <checkpoint>/sources/<i>/    source-private logs
//! ```
//!
//! Every file is written through [`write_atomic`] (temp file + fsync + rename + directory
//! fsync), so a crash leaves the old file or the new one, never half of one. The formats are
//! Spark's own, so a Spark user can read (and Spark itself can resume from) these files.

mod atomic;
mod commit_log;
mod metadata;
mod metadata_log;
mod offset_log;

pub use atomic::{PreparedFile, create_atomic, prepare_atomic, write_atomic};
pub use commit_log::{CommitLog, CommitMetadata};
pub use metadata::StreamMetadata;
pub use metadata_log::{MetadataLog, PreparedEntry};
pub use offset_log::{OffsetSeq, OffsetSeqLog, OffsetSeqMetadata};

use crate::{EngineError, Result};

/// The log format version this engine writes and reads (`v1`, as Spark 3 and 4).
pub const LOG_VERSION: u32 = 1;

/// Splits `text` at its first line and checks that line is a version we can read
/// (Spark's `HDFSMetadataLog.validateVersion`), returning the rest.
pub(crate) fn check_version<'a>(text: &'a str, what: &str) -> Result<&'a str> {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let first = first.trim();
    let version = first
        .strip_prefix('v')
        .and_then(|v| v.parse::<u32>().ok())
        .ok_or_else(|| {
            EngineError::execution(
                "STREAMING_CHECKPOINT_CORRUPT",
                format!(
                    "Log file of {what} was corrupted: it should start with a version line like `v1`, found `{first}`"
                ),
            )
        })?;
    if version > LOG_VERSION {
        return Err(EngineError::execution(
            "UNSUPPORTED_LOG_VERSION",
            format!(
                "UnsupportedLogVersion: maximum supported log version is v{LOG_VERSION}, but encountered v{version}. The log file was produced by a newer version of Spark and cannot be read by this version. Please upgrade."
            ),
        ));
    }
    Ok(rest)
}
