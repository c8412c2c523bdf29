//! Format names to formats: the built-in streaming formats first, then whatever connector
//! crates registered in [`FormatRegistry::global`] (e.g. `kafka`).

use std::sync::Arc;

use engine_core::connector::{Format, FormatRegistry};
use engine_core::{EngineError, Result};

/// The built-in streaming formats, in the order they are searched.
///
/// Connectors defined in this crate add one line here (the file/rate helper adds `rate`,
/// `json`, `csv`, `parquet`, `text`).
pub fn builtins() -> Vec<Arc<dyn Format>> {
    let mut all: Vec<Arc<dyn Format>> = vec![
        Arc::new(super::sources::rate::RateFormat),
        Arc::new(super::sources::rate_micro_batch::RateMicroBatchFormat),
        Arc::new(crate::datasource::noop::NoopFormat),
    ];
    all.extend(super::file_format::FileStreamFormat::all());
    all
}

/// The format called `name` (any case): a built-in one, or one from the global registry.
///
/// ```
/// let e = engine_sql::streaming::formats::lookup("no-such-format").err().unwrap();
/// assert!(e.to_string().contains("DATA_SOURCE_NOT_FOUND"));
/// ```
pub fn lookup(name: &str) -> Result<Arc<dyn Format>> {
    let lower = name.to_ascii_lowercase();
    if let Some(f) = builtins()
        .into_iter()
        .find(|f| f.short_name().eq_ignore_ascii_case(&lower))
    {
        return Ok(f);
    }
    FormatRegistry::global()
        .get(&lower)
        .ok_or_else(|| not_found(name))
}

/// Every format name [`lookup`] knows, sorted.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = builtins()
        .iter()
        .map(|f| f.short_name().to_ascii_lowercase())
        .chain(FormatRegistry::global().names())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Spark's error for an unknown data source, listing the names this engine has.
fn not_found(name: &str) -> EngineError {
    EngineError::analysis(
        "DATA_SOURCE_NOT_FOUND",
        format!(
            "Failed to find the data source: {name}. Supported streaming formats are: {}. SQLSTATE: 42K02",
            names().join(", ")
        ),
    )
}
