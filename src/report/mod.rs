//! Metrics files and summary tables.

pub mod metrics;
pub mod summary;

pub use metrics::{MetricsWriter, Record};
pub use summary::{ModuleSummary, RunSummary, side_by_side};
