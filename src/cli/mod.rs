//! Subcommands of the `trgl` binary beyond train/eval/info/demo.

pub mod bench;
pub mod data;
pub mod sweep;
pub mod report;
