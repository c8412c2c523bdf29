//! Spark's error classes for state stores, with the file, version and provider they concern.

use std::path::Path;

use engine_core::EngineError;

/// Spark reports every state loading failure as `CANNOT_LOAD_STATE_STORE.<sub>`.
pub(crate) fn load_error(sub: &str, message: impl std::fmt::Display) -> EngineError {
    EngineError::execution(
        format!("CANNOT_LOAD_STATE_STORE.{sub}"),
        format!("An error occurred during loading state. {message} SQLSTATE: 58030"),
    )
}

/// A checkpoint file that is truncated or damaged: never silently wrong state.
pub(crate) fn corrupt_file(path: &Path, version: u64, what: impl std::fmt::Display) -> EngineError {
    load_error(
        "UNCATEGORIZED",
        format!(
            "Error reading state file {} of version {version}: {what}",
            path.display()
        ),
    )
}

/// An I/O failure while reading a state file, naming the file and version.
pub(crate) fn read_io(path: &Path, version: u64, e: std::io::Error) -> EngineError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        return corrupt_file(path, version, "the file is truncated");
    }
    load_error(
        "UNCATEGORIZED",
        format!(
            "Error reading state file {} of version {version}: {e}",
            path.display()
        ),
    )
}

/// Spark's `CANNOT_WRITE_STATE_STORE.CANNOT_COMMIT`, with the cause.
pub(crate) fn commit_error(provider: &str, cause: impl std::fmt::Display) -> EngineError {
    EngineError::execution(
        "CANNOT_WRITE_STATE_STORE.CANNOT_COMMIT",
        format!(
            "Error writing state store files for provider {provider}. Cannot perform commit during state checkpoint. SQLSTATE: 58030 ({cause})"
        ),
    )
}

/// A misuse of a store (a put after commit, a version mismatch): always a bug in the caller.
pub(crate) fn out_of_order(message: impl std::fmt::Display) -> EngineError {
    EngineError::execution(
        "STATE_STORE_OPERATION_OUT_OF_ORDER",
        format!(
            "Streaming stateful operator attempted to access state store out of order. This is a bug, please retry. error_msg={message} SQLSTATE: XXKST"
        ),
    )
}
