//! Deterministic sample data for the demo, the examples and the benchmarks: the same seed
//! gives the same bytes on every machine, so runs are comparable.

pub mod events;
pub mod orders;
mod rng;

pub use events::{EVENT_SCHEMA, EventOptions, event_lines, write_event_files};
pub use orders::{write_orders_csv, write_orders_parquet};
