//! `engine-core`: what every crate of the sstream engine shares.
//!
//! - [`error`]: the typed [`EngineError`] and [`Result`].
//! - [`pool`]: the worker pool that runs one task per partition (`local[N]`).
//! - [`options`]: case-insensitive source/sink options with Spark's parsing rules.
//! - [`connector`]: the `Source`/`Sink`/`Format` traits connector crates implement.
//! - [`checkpoint`]: Spark's streaming checkpoint logs, written atomically.
//! - [`progress`]: streaming progress reports and listeners, Spark's JSON.
//! - [`interval`]: Spark interval strings as durations.

pub mod checkpoint;
pub mod connector;
pub mod error;
pub mod interval;
pub mod options;
pub mod pool;
pub mod progress;

pub use error::{EngineError, Result};
