//! Runs gathered from run and sweep directories, grouped by their setting (every config field but the
//! seed and `output.*`), each module's figures over seeds as mean ± 95 % CI, and paired per-seed
//! differences between two values of one field (TRGL − VanGL by default).

mod build;
mod load;
mod records;
mod report;

pub use build::{build, flat_value, select_on_val};
pub(crate) use build::is_setting;
pub use load::{LoadedRun, load_runs};
pub use records::run_epochs;
pub use report::{Comparison, CurvePoint, Group, ModuleDifference, ModuleStats, Report, Selection};
