//! conditional functions.

use std::sync::Arc;

use super::ScalarFunction;

/// Every conditional function with its names.
pub fn functions() -> Vec<(&'static str, Arc<dyn ScalarFunction>)> {
    vec![]
}
