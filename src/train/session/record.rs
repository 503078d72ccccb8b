//! What a run leaves behind: its metrics (a record per module per epoch, then a `final` one), its
//! checkpoints (which units of the schedule are done, see `train::checkpoint`) and the wall-clock time
//! spent on it over every process that worked on it.

use std::ops::Range;
use std::path::PathBuf;
use std::time::Instant;

use burn::optim::ModuleOptimizer;

use super::trainer::Trainer;
use crate::config::Config;
use crate::error::{Error, Result};

use crate::report::{MetricsWriter, Record};
use crate::train::checkpoint;
use crate::train::step::EpochStats;

pub struct RunRecord {
    pub metrics: MetricsWriter,
    /// Where checkpoints go (the run directory), when there is one.
    pub(crate) run_dir: Option<PathBuf>,
    /// The last `train` record of each module, the base of its `final` record.
    pub(super) last_records: Vec<Option<Record>>,
    /// Each module's validation accuracy from the last evaluation, until its record takes it.
    pub(super) last_val: Vec<Option<f64>>,
    /// Units of the schedule walked so far, and how many of them a resumed checkpoint had done.
    cursor: usize,
    pub(super) resumed_units: usize,
    /// A resumed checkpoint's optimizers and step counts, until the schedule asks for them.
    pub(super) resumed_optims: Option<(Vec<ModuleOptimizer>, Vec<usize>)>,
    /// When this process began the run, and the seconds earlier processes had spent on it (a resumed run).
    pub(super) started: Instant,
    pub(super) seconds_before: f64,
}

impl RunRecord {
    pub fn new(metrics: MetricsWriter, modules: usize) -> RunRecord {
        RunRecord {
            metrics,
            run_dir: None,
            last_records: vec![None; modules],
            last_val: vec![None; modules],
            cursor: 0,
            resumed_units: 0,
            resumed_optims: None,
            started: Instant::now(),
            seconds_before: 0.0,
        }
    }

    /// Wall-clock seconds spent on the run: this process's, and those of earlier processes up to the
    /// checkpoint it resumed from (the work a killed process did after its last checkpoint is done again,
    /// and counted once, here).
    pub fn seconds(&self) -> f64 {
        self.seconds_before + self.started.elapsed().as_secs_f64()
    }

    /// The schedule's optimizers and step counters, replaced by a resumed checkpoint's when there is one.
    pub(crate) fn resume_into(&mut self, optims: &mut Vec<ModuleOptimizer>, steps: &mut [usize]) -> Result<()> {
        if let Some((o, st)) = self.resumed_optims.take() {
            if o.len() != optims.len() || st.len() != steps.len() {
                return Err(Error::config("train.mode", "the checkpoint's optimizers do not match this training mode"));
            }
            *optims = o;
            steps.copy_from_slice(&st);
        }
        Ok(())
    }

    /// Whether the next unit was done before the checkpoint this run resumed from (then it is skipped).
    pub(crate) fn skip_unit(&mut self) -> bool {
        if self.cursor < self.resumed_units {
            self.cursor += 1;
            true
        } else {
            false
        }
    }

    /// Marks a unit done, and checkpoints when it is time (`boundary`: the end of a module's training).
    pub(crate) fn end_unit(&mut self, config: &Config, trainer: &Trainer, optims: &[ModuleOptimizer], steps: &[usize], boundary: bool) -> Result<()> {
        self.cursor += 1;
        let every = config.output.checkpoint_every;
        let Some(dir) = self.run_dir.clone() else { return Ok(()) };
        if every == 0 || !(boundary || self.cursor % every == 0) {
            return Ok(());
        }
        let state = checkpoint::State {
            fingerprint: checkpoint::fingerprint(config),
            units_done: self.cursor,
            data_epochs: trainer.data_epochs,
            steps: steps.to_vec(),
            optimizers: optims.len(),
            weights: trainer.weights.clone(),
            last_records: self.last_records.clone(),
            metrics_records: self.metrics.records.len(),
            config: Some(config.to_toml()),
            seconds: self.seconds(),
        };
        checkpoint::save(&dir, &trainer.network, optims, &state)
    }

    /// Module k's record of one training pass.
    pub(crate) fn write_epoch(&mut self, config: &Config, trainer: &Trainer, at: (usize, usize, usize), stats: &EpochStats, lr: f64, test_acc: Option<f64>, seconds: f64) -> Result<()> {
        let (lap, k, epoch) = at;
        let tau = trainer.weights.tau(k);
        let timed = config.output.timings;
        let record = Record {
            mode: config.train.mode.name().into(),
            phase: "train".into(),
            lap,
            module: k + 1,
            epoch,
            lr,
            train_loss: stats.loss(),
            ce: stats.ce(),
            kinetic_energy: stats.kinetic(),
            tau: tau.is_finite().then_some(tau),
            train_acc: stats.accuracy(),
            test_acc,
            val_acc: self.last_val[k].take(),
            steps: stats.steps,
            seconds: timed.then_some(seconds),
            // Measurements, like the seconds: off with `output.timings`, so that metrics files can compare byte for byte.
            peak_alloc_bytes: trainer.phase_memory.peak_alloc_bytes.filter(|_| timed),
            peak_rss_bytes: trainer.phase_memory.peak_rss_bytes.filter(|_| timed),
            events: Vec::new(),
        };
        self.last_records[k] = Some(record.clone());
        self.metrics.write(record)
    }

    /// The `final` records of `which`, at test accuracies `accs` measured in `seconds`.
    pub(super) fn write_final(&mut self, config: &Config, which: Range<usize>, accs: &[Option<f64>], seconds: f64) -> Result<()> {
        for k in which {
            if let Some(mut r) = self.last_records[k].clone() {
                r.phase = "final".into();
                r.test_acc = accs[k];
                r.val_acc = self.last_val[k].take();
                r.seconds = config.output.timings.then_some(seconds);
                self.metrics.write(r)?;
            }
        }
        Ok(())
    }
}
