//! Reader and writer options: engine-core's case-insensitive [`Options`], shared with every
//! connector crate.

pub use engine_core::options::{Options, ParseMode, malformed_record_error};
