//! `engine-core`: what every crate of the sstream engine shares.
//!
//! - [`error`]: the typed [`EngineError`] and [`Result`].
//! - [`pool`]: the worker pool that runs one task per partition (`local[N]`).

pub mod error;
pub mod pool;

pub use error::{EngineError, Result};
