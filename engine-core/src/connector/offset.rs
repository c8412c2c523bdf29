//! Source offsets and the limits on how far one micro-batch may read.

use std::fmt;

/// A position in a source, as the JSON text Spark writes to `offsets/N` (Kafka:
/// `{"orders":{"0":42,"1":17}}`; the file source: `{"logOffset":3}`).
///
/// The runtime never looks inside: it logs the text, hands it back to the source that made
/// it and compares offsets only for equality, so a source must render the same position as
/// the same text (sorted keys, no spaces).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Offset(String);

impl Offset {
    /// An offset from its JSON text.
    pub fn new(json: impl Into<String>) -> Self {
        Offset(json.into())
    }

    /// The JSON text, as logged in the checkpoint.
    pub fn json(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Offset({})", self.0)
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How much one micro-batch may read (Spark's `ReadLimit`), from options such as
/// `maxOffsetsPerTrigger`, `maxFilesPerTrigger` or `maxBytesPerTrigger`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadLimit {
    /// Everything available now.
    AllAvailable,
    /// At most this many rows (records, Kafka offsets).
    MaxRows(u64),
    /// At most this many files.
    MaxFiles(u64),
    /// At most about this many bytes (at least one file is always taken).
    MaxBytes(u64),
    /// Wait until at least `min` rows are available, unless `max_trigger_delay_ms` has passed
    /// since the last batch (Spark's `minOffsetsPerTrigger` + `maxTriggerDelay`).
    MinRows {
        /// The minimum number of new rows worth a batch.
        min: u64,
        /// After this long without a batch, run one with whatever is there.
        max_trigger_delay_ms: u64,
    },
    /// Every limit applies at once.
    Composite(Vec<ReadLimit>),
}
