//! `engine-sql`: DataFrames and SQL on Apache Arrow, planned lazily, executed vectorized.
//!
//! The path of a query:
//!
//! 1. [`dataframe`] or [`sql`] builds an unresolved [`logical::LogicalPlan`];
//! 2. the [`analyzer`] resolves names, functions and types (Spark's error messages);
//! 3. the [`optimizer`] rewrites it with small, separately tested rules;
//! 4. the [`physical::planner`] compiles it into [`physical::plan::ExecutionPlan`]s whose
//!    narrow operators run fused per partition on the worker pool.
//!
//! ```
//! use engine_sql::prelude::*;
//! let spark = Session::builder().app_name("doc").master("local[2]").build().unwrap();
//! let df = spark.sql("SELECT 1 + 1 AS two").unwrap();
//! assert_eq!(df.count().unwrap(), 1);
//! ```

pub mod analyzer;
pub mod catalog;
pub mod conf;
pub mod dataframe;
pub mod datasource;
pub mod expr;
pub mod format;
pub mod functions;
pub mod logical;
pub mod optimizer;
pub mod physical;
pub mod scalar;
pub mod schema;
pub mod schema_builder;
pub mod session;
pub mod sql;
pub mod streaming;
pub mod types;

/// The names most programs need: `use engine_sql::prelude::*;`.
pub mod prelude {
    pub use crate::dataframe::DataFrame;
    pub use crate::expr::{
        Expr, SortExpr, avg, call, col, collect_list, count, count_distinct, first, last, lit, max,
        min, sum, when,
    };
    pub use crate::functions::dsl::*;
    pub use crate::session::Session;
    pub use crate::streaming::{OutputMode, StreamingQuery, Trigger};
    pub use engine_core::{EngineError, Result};
}
