//! Runs gathered from run and sweep directories, grouped by their setting (every config field but the
//! seed and `output.*`), each module's figures over seeds as mean ± 95 % CI, and paired per-seed
//! differences between two values of one field (TRGL − VanGL by default).

mod build;
mod load;
mod records;
mod report;

pub use build::{SettingGroup, build, flat_value, group_by_setting, select_on_val};
pub use load::{LoadedRun, load_runs};
pub use records::run_epochs;
pub use report::{Comparison, CurvePoint, Group, ModuleDifference, ModuleStats, Report, Selection};
