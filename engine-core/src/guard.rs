//! A panic that still happens inside a task (a bug: no input may panic the engine) fails the
//! query with an error naming where it happened, instead of taking down the process or
//! failing with an opaque message.
//!
//! Operators are guarded by the physical planner (`physical::plan::guard`), so the error
//! names the operator; readers and `from_json` guard each record, so it also names the
//! record (file and line, or Kafka topic, partition and offset) when that is known; the
//! worker pool guards every task, on one worker as on several.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{EngineError, Result};

/// Runs `f`; a panic becomes `Err` with the panic's message.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    // The state `f` may have left half-updated is dropped with the failed task.
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string())
    })
}

/// The error for a panic in `what` (an operator, a reader, a function), at `record` when
/// known.
pub fn panicked(what: &str, record: Option<&str>, message: &str) -> EngineError {
    let at = record.map(|r| format!(" at {r}")).unwrap_or_default();
    EngineError::Internal(format!("{what} panicked{at}: {message}"))
}

/// Runs `f`, turning a panic into [`panicked`]'s error.
pub fn guarded<T>(what: &str, record: Option<&str>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_panic(f).unwrap_or_else(|m| Err(panicked(what, record, &m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_naming_where() {
        let r: Result<u8> = guarded("Project", Some("file a.json, line 3"), || {
            let v: Vec<u8> = Vec::new();
            let i = v.len() + 2;
            Ok(v[i])
        });
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("Project panicked at file a.json, line 3: index out of bounds"),
            "{e}"
        );
        assert_eq!(guarded("x", None, || Ok(5)).unwrap(), 5);
    }
}
