//! Built-in streaming sources. Each implements [`engine_core::connector::Source`] and is
//! created by a [`engine_core::connector::Format`] listed in [`super::formats`].

pub mod file;
pub mod memory;
pub mod rate;
pub mod rate_micro_batch;
