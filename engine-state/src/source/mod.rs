//! The State Data Source: `spark.read.format("statestore").load(checkpoint)` and
//! `format("state-metadata")`, registered in engine-core's [`FormatRegistry`] by
//! [`register`], as engine-kafka registers `kafka`.
//!
//! Options of `statestore` (Spark's): `batchId` (the state after that batch; default the last
//! committed one), `operatorId` (0), `storeName` (`default`), `readChangeFeed` with
//! `changeStartBatchId` / `changeEndBatchId`. Not supported: `joinSide`,
//! `snapshotStartBatchId`, `snapshotPartitionId`, `stateVarName`.

mod metadata;
mod options;
mod state;

use std::sync::Arc;

use engine_core::connector::FormatRegistry;

pub use metadata::StateMetadataFormat;
pub use options::{ReadMode, StateSourceOptions};
pub use state::StateStoreFormat;

/// Adds `statestore` and `state-metadata` to [`FormatRegistry::global`]; idempotent. Call
/// once at start-up (the session or the CLI) so `format("statestore")` resolves.
pub fn register() {
    FormatRegistry::global().register(Arc::new(StateStoreFormat));
    FormatRegistry::global().register(Arc::new(StateMetadataFormat));
}
