//! One module per `sstream` subcommand.

pub mod checkpoint;
pub mod consume;
pub mod demo;
pub mod gen_data;
pub mod produce;
pub mod run;
pub mod sql;
