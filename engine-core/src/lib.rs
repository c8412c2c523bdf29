//! `engine-core`: what every crate of the sstream engine shares.
//!
//! - [`error`]: the typed [`EngineError`] and [`Result`].
//! - [`pool`]: the worker pool that runs one task per partition (`local[N]`).
//! - [`options`]: case-insensitive source/sink options with Spark's parsing rules.
//! - [`connector`]: the `Source`/`Sink`/`Format` traits connector crates implement.

pub mod connector;
pub mod error;
pub mod options;
pub mod pool;

pub use error::{EngineError, Result};
