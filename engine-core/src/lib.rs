//! `engine-core`: the sstream engine proper, below the user-facing API.
//!
//! The modules form layers; each imports only the ones listed before it:
//!
//! 1. [`error`], [`guard`], [`interval`], [`options`], [`known_options`], [`pool`], [`connector`],
//!    [`checkpoint`], [`progress`]: what every crate shares (the typed [`EngineError`],
//!    panics turned into errors that say where, Spark's interval text, case-insensitive
//!    options, the worker pool, the `Source`/`Sink`/`Format` traits and the format
//!    registry, the streaming checkpoint logs, progress reports).
//! 2. [`types`], [`format`], [`datetime_text`], [`scalar`], [`schema`]: Spark's types on
//!    Arrow, the text forms of values, the one parser of Spark's date and timestamp text,
//!    typed scalars, plan schemas with Spark's name resolution.
//! 3. [`expr`]: the logical expression tree, the type-coercion rules, and the traits every
//!    function implements ([`expr::function`]).
//! 4. [`logical`]: logical plans and the planner's view of a table ([`logical::TableSource`]).
//! 5. [`functions`]: the function library (scalar, aggregate, the JSON decoder) and its
//!    registry.
//! 6. [`conf`]: Spark-named configuration with Spark 4 defaults.
//! 7. [`analyzer`]: resolves names, functions and types; asks a
//!    [`analyzer::CatalogProvider`] for relations instead of knowing the session.
//! 8. [`physical`]: compiled expressions, batch operators, the physical planner.
//! 9. [`optimizer`]: rewrite rules over logical plans (constant folding evaluates through
//!    [`physical`]).
//!
//! With the `fuzzing` feature (dev-dependencies only), `testing` holds the fuzz-target
//! runner the crates above share.
//!
//! ```
//! use engine_core::expr::{col, lit};
//! let e = col("qty").gt(lit(1i32));
//! assert_eq!(e.to_string(), "(qty > 1)");
//! ```

pub mod checkpoint;
pub mod connector;
pub mod error;
pub mod guard;
pub mod interval;
pub mod known_options;
pub mod options;
pub mod pool;
pub mod progress;

pub mod datetime_text;
pub mod format;
pub mod scalar;
pub mod schema;
pub mod types;

pub mod expr;
pub mod logical;

pub mod functions;

pub mod conf;

pub mod analyzer;
pub mod physical;

pub mod optimizer;

#[cfg(feature = "fuzzing")]
pub mod testing;

pub use error::{EngineError, Result};
