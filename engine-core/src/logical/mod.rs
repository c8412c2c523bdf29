//! Logical plans: what a query computes, independent of how.
//!
//! A plan is plain data. It is built unresolved (by the DataFrame API or the SQL front end),
//! resolved by the [`crate::analyzer`], rewritten by the [`crate::optimizer`] and turned
//! into an executable plan by the [`crate::physical::planner`].

mod dedupe;
mod display;
mod extension;
mod generate;
mod plan;
mod sessions;
mod streaming;
mod table;

pub use dedupe::*;
pub use extension::*;
pub use generate::*;
pub use plan::*;
pub use sessions::*;
pub use streaming::*;
pub use table::*;
