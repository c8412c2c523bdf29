//! Which formats `format(..)` accepts, batch and streaming: the file formats of this
//! module, the built-in `noop`, and the connectors registered in engine-core's
//! [`FormatRegistry`] (such as `kafka`).

use std::sync::Arc;

use engine_core::EngineError;
use engine_core::connector::{Format, FormatRegistry};

use super::noop::NoopFormat;

/// The formats `format(..)` accepts.
pub const SUPPORTED_FORMATS: &[&str] = &["csv", "json", "parquet", "text"];

/// A connector format (not a file format): the built-in `noop`, or one a connector crate
/// registered (`kafka`). `None` for the file formats.
pub fn registered(format: &str) -> Option<Arc<dyn Format>> {
    if SUPPORTED_FORMATS.contains(&format) {
        return None;
    }
    if format.eq_ignore_ascii_case("noop") {
        return Some(Arc::new(NoopFormat));
    }
    FormatRegistry::global().get(format)
}

/// Spark's error for an unknown format, listing the ones this engine has (built-in and
/// registered).
pub fn unknown_format(format: &str) -> EngineError {
    let mut names: Vec<String> = SUPPORTED_FORMATS.iter().map(|s| s.to_string()).collect();
    names.push("noop".into());
    names.extend(FormatRegistry::global().names());
    names.sort();
    let hint = if format == "kafka" {
        " The kafka format lives in the engine-kafka crate: call engine_kafka::register() first."
    } else {
        ""
    };
    EngineError::analysis(
        "DATA_SOURCE_NOT_FOUND",
        format!(
            "Failed to find the data source: {format}. Supported formats are: {}.{hint} SQLSTATE: 42K02",
            names.join(", ")
        ),
    )
}
