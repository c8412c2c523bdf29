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
//!
//! The function library is engine-core's, re-exported as [`functions`]; the DSL builds calls
//! by Spark's names:
//!
//! ```
//! use engine_sql::prelude::*;
//! use engine_sql::functions::dsl::{from_json, to_json};
//! let spark = Session::builder().build().unwrap();
//! let df = spark.sql(r#"SELECT '{"a": 1, "b": [1, 2]}' AS value"#).unwrap();
//! let parsed = df.select(vec![from_json(col("value"), "a INT, b ARRAY<INT>").alias("j")]).unwrap();
//! let back = parsed.select(vec![to_json(col("j"))]).unwrap();
//! let rows = back.collect().unwrap();
//! assert_eq!(rows[0].num_rows(), 1);
//! ```

// The layers of this crate, bottom to top; each imports only those before it (and
// engine-core). The session sits low so that every layer can hold one; the entry points that
// make DataFrames, streams or run SQL are defined in the layer of what they make.
pub mod catalog;
pub mod queries;

pub mod session;

pub mod datasource;

pub mod sql;

pub mod dataframe;
pub mod schema_builder;

pub mod command;

pub mod streaming;

// The engine proper lives in engine-core; its modules are re-exported here so programs
// written against `engine_sql::...` paths keep working and need one dependency.
pub use engine_core::{
    analyzer, conf, expr, format, functions, logical, optimizer, physical, scalar, schema, types,
};

/// The names most programs need: `use engine_sql::prelude::*;`.
pub mod prelude {
    pub use crate::dataframe::DataFrame;
    pub use crate::session::Session;
    pub use crate::streaming::{OutputMode, StreamingQuery, Trigger};
    pub use engine_core::expr::{
        Expr, SortExpr, avg, call, col, collect_list, count, count_distinct, first, last, lit, max,
        min, sum, when,
    };
    pub use engine_core::functions::dsl::*;
    pub use engine_core::{EngineError, Result};
}
