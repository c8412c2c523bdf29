//! One module per `sstream` subcommand.

pub mod checkpoint;
pub mod demo;
pub mod gen_data;
pub mod sql;
