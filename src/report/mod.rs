//! Metrics files and summary tables of one run; reports over many runs (grouped by setting, mean ± 95 %
//! CI over seeds, paired differences).

pub mod aggregate;
pub mod metrics;
pub mod plot;
pub mod stats;
pub mod summary;
pub mod write;

pub use metrics::{MetricsWriter, Record};
pub use summary::{ModuleSummary, RunSummary, side_by_side};
