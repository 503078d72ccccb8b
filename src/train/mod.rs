//! Training modes, all built on one local step (`step::local_step`) and one batch loop
//! (`batch_loop::batch_loop`); a mode is only a schedule of passes (`schedule`): which modules train on which
//! epochs, and how (serially or pipelined).

pub mod batch_loop;
pub mod build;
pub mod checkpoint;
pub mod config;
pub mod driver;
pub mod end_to_end;
pub mod eval;
pub mod multilap;
pub mod optim;
pub mod pass;
pub mod parallel;
pub mod pipelined;
pub mod prefix_cache;
pub mod run_dir;
pub mod running;
pub mod schedule;
pub mod sequential;
pub mod serial;
pub mod session;
pub mod step;

use std::path::{Path, PathBuf};

pub use config::Mode;
pub use optim::{LrSchedule, LrScheduleKind, OptimKind, build_optimizer};
pub use driver::{run_schedule, train_pass};
pub use pass::{Optimizers, Pass};
pub use schedule::{Schedule, Unit};
pub use session::Session;
pub use step::{EpochStats, StepStats, local_step};
pub use running::RunningStats;

use crate::config::Config;
use crate::data::Splits;
use crate::error::{Error, Result};
use crate::export::{PREPROCESS_FILE, Preprocess};
use crate::report::RunSummary;
use crate::threads::on_pool;

/// The trained network's weights in a run directory (burnpack).
pub const WEIGHTS_FILE: &str = "weights.bpk";

/// A finished run: its summary, and where its files are.
pub struct RunOutcome {
    pub summary: RunSummary,
    pub session: Session,
    pub dir: Option<PathBuf>,
}

/// Trains as `config` says on `data`. With `dir`, writes there the resolved config (`config.toml`), the
/// metrics (`metrics.jsonl`), the trained weights (`weights.bpk`) and the summary (`summary.json`).
pub fn run(config: &Config, data: &Splits, dir: Option<&Path>, label: &str) -> Result<RunOutcome> {
    run_or_resume(config, data, dir, label, false)
}

/// Continues the run in `dir` from its checkpoint (see [`checkpoint`]): units done before it are not
/// trained again, and the result is that of the uninterrupted run.
pub fn resume(config: &Config, data: &Splits, dir: &Path, label: &str) -> Result<RunOutcome> {
    run_or_resume(config, data, Some(dir), label, true)
}

fn run_or_resume(config: &Config, data: &Splits, dir: Option<&Path>, label: &str, resume: bool) -> Result<RunOutcome> {
    if resume {
        let d = dir.expect("resume has a run directory");
        if d.join("summary.json").is_file() {
            // Resuming would write its last records and weights again: a finished run is left as it is.
            return Err(Error::data(d, "holds a finished run (summary.json): there is nothing to resume"));
        }
        let found = checkpoint::find(d)?;
        let mut session = Session::new(config, data, None)?;
        let network = std::mem::replace(&mut session.trainer.network, crate::model::Network { modules: Vec::new() });
        let loaded = checkpoint::load(&found, config, network)?;
        let mut metrics = crate::report::MetricsWriter::resume(&d.join("metrics.jsonl"), loaded.state.metrics_records)?;
        // `load` refused any change that matters; what is left (output and loader settings) goes on record.
        metrics.pending_events = loaded.events;
        session.restore(loaded.state, loaded.network, loaded.optims, metrics);
        session.record.run_dir = Some(d.to_path_buf());
        return finish(session, config, dir, label);
    }
    let metrics_path = match dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
            let c = d.join("config.toml");
            std::fs::write(&c, config.to_toml()).map_err(|e| Error::io(&c, e))?;
            Some(d.join("metrics.jsonl"))
        }
        None => None,
    };
    let mut session = Session::new(config, data, metrics_path.as_deref())?;
    session.record.run_dir = dir.map(Path::to_path_buf);
    finish(session, config, dir, label)
}

/// Trains the session's mode to the end and writes the weights and the summary.
fn finish(mut session: Session, config: &Config, dir: Option<&Path>, label: &str) -> Result<RunOutcome> {
    let schedule = match config.train.mode {
        Mode::E2e => end_to_end::schedule(&session),
        Mode::Sequential => sequential::schedule(&session),
        Mode::Multilap => multilap::schedule(&session),
        Mode::Parallel => parallel::schedule(&session),
        Mode::Pipelined => pipelined::schedule(&session),
    };
    match config.train.mode {
        // Its stages are threads of their own that block on one another (see `on_pool`).
        Mode::Pipelined => run_schedule(&mut session, schedule)?,
        _ => on_pool(|| run_schedule(&mut session, schedule))?,
    }
    let blocks = session.split.blocks_per_module();
    let summary = RunSummary::from_records(label, config.train.mode.name(), &blocks, &session.record.metrics.records, session.record.seconds());
    if let Some(d) = dir {
        let w = d.join(WEIGHTS_FILE);
        // `valid()` folds in BatchNorm's lazily applied running-statistics updates before saving.
        burn::module::Module::save_file(burn::module::Module::valid(&session.trainer.network), &w).map_err(|e| Error::Weights { path: w.clone(), message: e.to_string() })?;
        Preprocess::of(session.loaders.train.set()).save(d)?;
        crate::integrity::record(d, &[WEIGHTS_FILE, PREPROCESS_FILE])?;
        let p = d.join("summary.json");
        std::fs::write(&p, serde_json::to_string_pretty(&summary).expect("summary serialises")).map_err(|e| Error::io(&p, e))?;
    }
    Ok(RunOutcome { summary, session, dir: dir.map(Path::to_path_buf) })
}
