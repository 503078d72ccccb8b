//! A training run in three parts a reader can take one at a time: what it was built from (the config, the
//! plan, the split and the data: `build`), what changes with every step ([`Trainer`]), and what it leaves
//! behind ([`RunRecord`]: metrics, checkpoints, time).

mod record;
mod trainer;

use std::ops::Range;
use std::time::Instant;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::data::{Loader, Normalize};
use crate::error::Result;
use crate::local_loss::LocalLossKind;
use crate::model::{ArchPlan, LocalModule, Network, Split};
use crate::report::MetricsWriter;
use crate::train::checkpoint;
use crate::train::eval::evaluate;
use crate::train::optim::LrSchedule;
use crate::transport::LossSpec;

pub use record::RunRecord;
pub use trainer::Trainer;

/// A run: its config, architecture, data, the training state and the record.
pub struct Session {
    pub config: Config,
    pub plan: ArchPlan,
    pub split: Split,
    pub loaders: Loaders,
    pub trainer: Trainer,
    pub record: RunRecord,
}

/// The run's data: the training loader (shuffled, augmented), the held-out validation split
/// (`data.val_fraction`) and the test set.
pub struct Loaders {
    pub train: Loader,
    pub val: Option<Loader>,
    pub test: Loader,
}

impl Session {
    pub fn modules(&self) -> usize {
        self.split.len()
    }

    /// Steps in one pass over the training data (`train.max_steps_per_epoch` caps it).
    pub fn steps_per_epoch(&self) -> usize {
        let n = self.loaders.train.num_batches();
        match self.config.train.max_steps_per_epoch {
            0 => n,
            m => m.min(n),
        }
    }

    /// How the local steps compute their loss: the CE's label smoothing and the transport cost's exponent.
    pub fn loss_spec(&self) -> LossSpec {
        LossSpec { smoothing: self.config.train.label_smoothing, p: self.config.method.p }
    }

    /// The normalisation the batch loop undoes for a local loss that compares with the input images
    /// (InfoPro); `None` when the loss needs only the labels.
    pub fn image_targets(&self) -> Option<Normalize> {
        (self.config.method.local_loss == LocalLossKind::Infopro).then(|| self.loaders.train.norm().clone())
    }

    /// The LR schedule of an optimizer that trains for `epochs` passes.
    pub fn schedule(&self, epochs: usize) -> LrSchedule {
        LrSchedule::new(&self.config.lr_schedule, self.config.optim.lr, self.steps_per_epoch(), epochs)
    }

    pub(crate) fn progress(&self, label: &str) -> ProgressBar {
        if !self.config.output.progress || label.is_empty() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(self.steps_per_epoch() as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>18} [{bar:30}] {pos}/{len} {per_sec:>9} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        bar
    }
}

impl Session {
    /// Test accuracy of the heads of the modules in `which` (inference copies of the current weights); their
    /// validation accuracy too, where there is a validation split, kept for their next records.
    pub fn evaluate(&mut self, which: Range<usize>) -> Vec<Option<f64>> {
        let modules: Vec<LocalModule> = self.trainer.network.modules[..which.end].iter().map(|m| m.valid()).collect();
        let want: Vec<bool> = (0..which.end).map(|k| which.contains(&k)).collect();
        let device = &self.trainer.infer_device;
        if let Some(val) = &self.loaders.val {
            for (k, a) in evaluate(&modules, &want, val, device).into_iter().enumerate() {
                if a.is_some() {
                    self.record.last_val[k] = a;
                }
            }
        }
        evaluate(&modules, &want, &self.loaders.test, device)
    }

    /// Evaluates the heads of `which` once training is over and writes their `final` records.
    pub fn record_final(&mut self, which: Range<usize>) -> Result<()> {
        let start = Instant::now();
        let accs = self.evaluate(which.clone());
        self.record.write_final(&self.config, which, &accs, start.elapsed().as_secs_f64())
    }

    /// Continues from a checkpoint: its network, metrics, τ state and position.
    pub fn restore(&mut self, state: checkpoint::State, network: Network, optims: Vec<ModuleOptimizer>, metrics: MetricsWriter) {
        self.trainer.network = network;
        self.trainer.weights = state.weights;
        self.trainer.data_epochs = state.data_epochs;
        let r = &mut self.record;
        r.metrics = metrics;
        r.last_records = state.last_records;
        r.resumed_units = state.units_done;
        r.resumed_optims = Some((optims, state.steps));
        r.seconds_before = state.seconds;
        r.started = Instant::now();
    }
}
