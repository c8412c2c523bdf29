//! The engine's one error type.
//!
//! Errors that Spark raises with an error class (`[UNRESOLVED_COLUMN.WITH_SUGGESTION] ...`)
//! keep that class, so users can search for the same text they know from Spark.

use arrow::error::ArrowError;

/// Every fallible function of the engine returns this error.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The query is invalid: unknown column, wrong types, unsupported shape.
    /// Spark's `AnalysisException`; `class` is Spark's error class.
    #[error("[{class}] {message}")]
    Analysis {
        /// Spark's error class, e.g. `UNRESOLVED_COLUMN.WITH_SUGGESTION`.
        class: String,
        /// The human-readable message, already including SQLSTATE where Spark has one.
        message: String,
    },
    /// The query failed while running (bad cast input, division by zero in ANSI mode, ...).
    #[error("[{class}] {message}")]
    Execution {
        /// Spark's error class, e.g. `CAST_INVALID_INPUT`.
        class: String,
        /// The human-readable message.
        message: String,
    },
    /// SQL text could not be parsed.
    #[error("[PARSE_SYNTAX_ERROR] {0}")]
    Parse(String),
    /// A reader, writer or session option is missing or invalid.
    #[error("invalid option `{option}`: {message}")]
    InvalidOption {
        /// The option's name as the user wrote it.
        option: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An I/O operation failed; `context` says on what (usually a path).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. `reading /data/x.csv`.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An Arrow kernel failed.
    #[error("arrow: {0}")]
    Arrow(#[from] ArrowError),
    /// A library outside Arrow failed (parquet, sqlparser, ...); `context` says where.
    #[error("{context}: {source}")]
    External {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A feature that Spark has but this engine does not (yet).
    #[error("not supported: {0}")]
    Unsupported(String),
    /// A broken invariant inside the engine: always a bug.
    #[error("internal error: {0} (this is a bug, please report it)")]
    Internal(String),
}

/// `Result` with [`EngineError`] as the default error.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    /// An analysis error with a Spark error class.
    pub fn analysis(class: impl Into<String>, message: impl Into<String>) -> Self {
        EngineError::Analysis {
            class: class.into(),
            message: message.into(),
        }
    }

    /// A runtime error with a Spark error class.
    pub fn execution(class: impl Into<String>, message: impl Into<String>) -> Self {
        EngineError::Execution {
            class: class.into(),
            message: message.into(),
        }
    }

    /// An invalid or missing option.
    pub fn invalid_option(option: impl Into<String>, message: impl Into<String>) -> Self {
        EngineError::InvalidOption {
            option: option.into(),
            message: message.into(),
        }
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        EngineError::Io {
            context: context.into(),
            source,
        }
    }

    /// A foreign library's error with what was being done.
    pub fn external(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        EngineError::External {
            context: context.into(),
            source: source.into(),
        }
    }

    /// Spark's error class of this error, if it has one.
    pub fn error_class(&self) -> Option<&str> {
        match self {
            EngineError::Analysis { class, .. } | EngineError::Execution { class, .. } => {
                Some(class)
            }
            EngineError::Parse(_) => Some("PARSE_SYNTAX_ERROR"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_error_shows_class_first() {
        let e = EngineError::analysis("UNRESOLVED_COLUMN.WITH_SUGGESTION", "name `x` ...");
        assert_eq!(
            e.to_string(),
            "[UNRESOLVED_COLUMN.WITH_SUGGESTION] name `x` ..."
        );
        assert_eq!(e.error_class(), Some("UNRESOLVED_COLUMN.WITH_SUGGESTION"));
    }

    #[test]
    fn io_error_keeps_context() {
        let e = EngineError::io(
            "reading /nope",
            std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        );
        assert_eq!(e.to_string(), "reading /nope: gone");
    }
}
