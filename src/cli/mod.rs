//! The subcommands of the `trgl` binary, one file each: its arguments and what it runs.

pub mod analyze;
pub mod bench;
pub mod data;
pub mod demo;
pub mod devices;
pub mod eval;
pub mod export;
pub mod info;
pub mod predict;
pub mod report;
pub mod sweep;
pub mod train;
