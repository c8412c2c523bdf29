//! Handles of running streaming queries ([`StreamingQuery`]) and the session's registry of
//! them with its listeners ([`StreamingQueryManager`]): Spark's `StreamingQuery` and
//! `StreamingQueryManager`.
//!
//! Kept apart from [`crate::streaming`] (which starts queries) because the session owns the
//! registry: the session sits below the streaming runtime and the handles below the
//! session.

pub mod manager;
pub mod query;

pub use manager::StreamingQueryManager;
pub use query::{StreamingQuery, StreamingQueryException};
