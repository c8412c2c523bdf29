//! Temporary views of a session: name -> analyzed logical plan.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use engine_core::{EngineError, Result};

use engine_core::analyzer::CatalogProvider;
use engine_core::logical::LogicalPlan;

/// The session's temporary views (case-insensitive names, as in Spark).
#[derive(Debug, Default)]
pub struct Catalog {
    views: RwLock<HashMap<String, Arc<LogicalPlan>>>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `plan` as `name`, replacing an existing view when `replace` is true.
    pub fn register_view(&self, name: &str, plan: Arc<LogicalPlan>, replace: bool) -> Result<()> {
        let mut views = self
            .views
            .write()
            .map_err(|_| EngineError::Internal("catalog lock poisoned".into()))?;
        let key = name.to_lowercase();
        if !replace && views.contains_key(&key) {
            return Err(EngineError::analysis(
                "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS",
                format!(
                    "Cannot create the temporary view `{name}` because it already exists. Choose a different name, drop or replace the existing view, or add the IF NOT EXISTS clause to tolerate pre-existing views. SQLSTATE: 42P07"
                ),
            ));
        }
        views.insert(key, plan);
        Ok(())
    }

    /// The view called `name`.
    pub fn view(&self, name: &str) -> Option<Arc<LogicalPlan>> {
        self.views
            .read()
            .ok()
            .and_then(|v| v.get(&name.to_lowercase()).cloned())
    }

    /// Drops the view; returns whether it existed.
    pub fn drop_view(&self, name: &str) -> bool {
        self.views
            .write()
            .map(|mut v| v.remove(&name.to_lowercase()).is_some())
            .unwrap_or(false)
    }

    /// All view names, sorted.
    pub fn view_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .views
            .read()
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Spark's `TABLE_OR_VIEW_NOT_FOUND` error for `name`.
    pub fn not_found(&self, name: &[String]) -> EngineError {
        let quoted = engine_core::schema::quote_parts(name);
        EngineError::analysis(
            "TABLE_OR_VIEW_NOT_FOUND",
            format!(
                "The table or view {quoted} cannot be found. Verify the spelling and correctness of the schema and catalog.\nIf you did not qualify the name with a schema, verify the current_schema() output, or qualify the name with the correct schema and catalog.\nTo tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE IF EXISTS. SQLSTATE: 42P01"
            ),
        )
    }
}

/// The analyzer finds the views a query names here.
impl CatalogProvider for Catalog {
    fn relation(&self, name: &[String]) -> Result<Arc<LogicalPlan>> {
        self.view(&name.join("."))
            .ok_or_else(|| self.not_found(name))
    }
}
