//! The checkpoint files of a store: one format for both providers, so a checkpoint written by
//! one restores with the other.
//!
//! - [`format`]: `<v>.delta` / `<v>.snapshot`, blocks with checksums and an end marker.
//! - [`atomic`]: streamed files that appear whole or not at all.
//! - [`listing`]: which versions a directory holds, which files load a version.
//! - [`merge`]: a version's state as one sorted stream.

pub mod atomic;
pub mod format;
pub mod listing;
pub mod merge;

pub use format::{FileKind, FileReader, FileWriter, Record, Trailer, UNKNOWN_ROWS};
pub use listing::{LoadPlan, StoreFiles, file_path};
pub use merge::{StateStream, read_delta};
