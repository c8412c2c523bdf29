//! The parts of the `sstream` command line that examples and tests reuse: pipeline files and
//! the deterministic data generators. The binary (`src/main.rs`) only parses arguments.

pub mod generate;
pub mod inspect;
pub mod pipeline;
