//! collection functions.

use std::sync::Arc;

use super::ScalarFunction;

/// Every collection function with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    vec![]
}
