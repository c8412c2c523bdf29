//! Built-in streaming sinks. Each implements [`engine_core::connector::Sink`] and is
//! created by a [`engine_core::connector::Format`] listed in [`super::formats`].

pub mod file;
