//! `engine-state`: the state stores of stateful streaming operators (aggregations, windows,
//! sessions, deduplication, stream-stream joins), checkpointed with every micro-batch.
//!
//! - [`store`]: the [`StateStore`] / [`ReadStateStore`] / [`StateStoreProvider`] traits and
//!   their contract (Spark's version numbering: version `v` is the state after batch `v - 1`).
//! - [`memory`]: the in-memory provider (Spark's `HDFSBackedStateStoreProvider`, the default).
//! - [`disk`]: the on-disk provider, an embedded LSM with bounded memory
//!   (`RocksDBStateStoreProvider`'s role).
//! - [`coordinator`]: [`StateStores`], the providers of a query run and the maintenance
//!   thread.
//! - [`files`]: the checkpoint files both providers write (`<v>.delta`, `<v>.snapshot`);
//!   [`maintenance`]: snapshots and retention.
//! - [`rows`]: Arrow columns to key/value rows (Arrow's row format) and back.
//! - [`schema`], [`metadata`]: the schema and operator metadata checked on restart.
//! - [`source`]: the State Data Source, `format("statestore")` and `format("state-metadata")`
//!   ([`register`]).
//! - [`inspect`]: what a checkpoint's state holds, for `sstream checkpoint inspect`.
//! - [`conf`]: [`StateStoreConf`], Spark's settings and defaults.

mod changes;
pub mod conf;
pub mod coordinator;
pub mod disk;
mod errors;
pub mod files;
pub mod id;
pub mod inspect;
mod key;
pub mod maintenance;
pub mod memory;
pub mod metadata;
mod pins;
pub mod rows;
pub mod schema;
pub mod source;
pub mod store;
mod table;

pub use conf::{ProviderKind, StateStoreConf};
pub use coordinator::StateStores;
pub use id::StateStoreId;
pub use source::register;
pub use store::{
    KvIter, ReadStateStore, StateStore, StateStoreMetrics, StateStoreProvider, VisitPair,
};
