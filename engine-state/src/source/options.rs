//! The State Data Source's options, checked as Spark's `StateSourceOptions` checks them.

use std::fmt;
use std::path::{Path, PathBuf};

use engine_core::checkpoint::CommitLog;
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use crate::id::DEFAULT_STORE_NAME;

/// Which state a read returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadMode {
    /// The whole state after `batch_id`.
    Snapshot {
        /// The batch whose resulting state is read.
        batch_id: u64,
    },
    /// The changes of the batches `start..=end` (`readChangeFeed`).
    ChangeFeed {
        /// `changeStartBatchId`.
        start: u64,
        /// `changeEndBatchId` (default the last committed batch).
        end: u64,
    },
}

/// A parsed, checked set of options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSourceOptions {
    /// The checkpoint location (`path`, what `load(..)` was given).
    pub checkpoint: PathBuf,
    /// `operatorId` (default 0).
    pub operator_id: u64,
    /// `storeName` (default `default`).
    pub store_name: String,
    /// What to read.
    pub mode: ReadMode,
}

impl fmt::Display for StateSourceOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "StateSourceOptions(checkpointLocation={}, operatorId={}, storeName={}",
            self.checkpoint.display(),
            self.operator_id,
            self.store_name
        )?;
        match &self.mode {
            ReadMode::Snapshot { batch_id } => write!(f, ", batchId={batch_id})"),
            ReadMode::ChangeFeed { start, end } => {
                write!(f, ", changeStartBatchId={start}, changeEndBatchId={end})")
            }
        }
    }
}

pub(crate) fn required(option: &str) -> EngineError {
    EngineError::analysis(
        "STDS_REQUIRED_OPTION_UNSPECIFIED",
        format!("'{option}' must be specified. SQLSTATE: 42601"),
    )
}

fn invalid(option: &str, sub: &str, message: &str) -> EngineError {
    EngineError::analysis(
        format!("STDS_INVALID_OPTION_VALUE.{sub}"),
        format!("Invalid value for source option '{option}': {message} SQLSTATE: 42616"),
    )
}

fn conflict(a: &str, b: &str) -> EngineError {
    EngineError::analysis(
        "STDS_CONFLICT_OPTIONS",
        format!(
            "The options [{a}, {b}] cannot be specified together. Please specify the one. SQLSTATE: 42613"
        ),
    )
}

/// A non-negative integer option.
fn id_option(o: &Options, name: &str) -> Result<Option<u64>> {
    let Some(v) = o.get(name) else {
        return Ok(None);
    };
    match v.trim().parse::<i64>() {
        Ok(n) if n < 0 => Err(invalid(name, "IS_NEGATIVE", "cannot be negative.")),
        Ok(n) => Ok(Some(n as u64)),
        Err(_) => Err(invalid(
            name,
            "WITH_MESSAGE",
            &format!("`{v}` is not an integer."),
        )),
    }
}

/// The checkpoint's last committed batch.
pub(crate) fn last_committed(checkpoint: &Path) -> Result<u64> {
    match CommitLog::new(checkpoint.join("commits")).latest()? {
        Some((id, _)) => Ok(id),
        None => Err(EngineError::analysis(
            "STDS_COMMITTED_BATCH_UNAVAILABLE",
            format!(
                "No committed batch found, checkpoint location: {}. Ensure that the query has run and committed any microbatch before stopping. SQLSTATE: KD006",
                checkpoint.display()
            ),
        )),
    }
}

impl StateSourceOptions {
    /// Parses and checks `o` (the default batch is the checkpoint's last committed one).
    pub fn parse(o: &Options) -> Result<StateSourceOptions> {
        let checkpoint = PathBuf::from(o.get("path").ok_or_else(|| required("path"))?);
        let operator_id = id_option(o, "operatorId")?.unwrap_or(0);
        let store_name = o
            .get("storeName")
            .map_or(DEFAULT_STORE_NAME, str::trim)
            .to_string();
        if store_name.is_empty() {
            return Err(invalid("storeName", "IS_EMPTY", "cannot be empty."));
        }
        if let Some(side) = o.get("joinSide")
            && side.trim() != "none"
        {
            return Err(EngineError::Unsupported(format!(
                "reading one side of a stream-stream join's state (joinSide={side}); read its stores by storeName"
            )));
        }
        for unsupported in [
            "snapshotStartBatchId",
            "snapshotPartitionId",
            "stateVarName",
        ] {
            if o.get(unsupported).is_some() {
                return Err(EngineError::Unsupported(format!(
                    "the state source option {unsupported}"
                )));
            }
        }
        let batch_id = id_option(o, "batchId")?;
        let start = id_option(o, "changeStartBatchId")?;
        let end = id_option(o, "changeEndBatchId")?;
        let mode = if o.bool("readChangeFeed", false)? {
            if batch_id.is_some() {
                return Err(conflict("batchId", "readChangeFeed"));
            }
            let start = start.ok_or_else(|| required("changeStartBatchId"))?;
            let end = match end {
                Some(e) => e,
                None => last_committed(&checkpoint)?,
            };
            if end < start {
                return Err(invalid(
                    "changeEndBatchId",
                    "WITH_MESSAGE",
                    &format!(
                        "changeEndBatchId cannot be smaller than changeStartBatchId. Please check the input to changeEndBatchId, or if you are using its default value, make sure that changeStartBatchId is less than {end}."
                    ),
                ));
            }
            ReadMode::ChangeFeed { start, end }
        } else {
            for (name, v) in [("changeStartBatchId", start), ("changeEndBatchId", end)] {
                if v.is_some() {
                    return Err(invalid(
                        name,
                        "WITH_MESSAGE",
                        "Only specify this option when readChangeFeed is set to true.",
                    ));
                }
            }
            let batch_id = match batch_id {
                Some(b) => b,
                None => last_committed(&checkpoint)?,
            };
            ReadMode::Snapshot { batch_id }
        };
        Ok(StateSourceOptions {
            checkpoint,
            operator_id,
            store_name,
            mode,
        })
    }

    /// `<checkpoint>/state`.
    pub fn state_root(&self) -> PathBuf {
        self.checkpoint.join("state")
    }
}
