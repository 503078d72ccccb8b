//! Subcommands of the `trgl` binary beyond train/eval/info/demo.

pub mod bench;
pub mod data;
