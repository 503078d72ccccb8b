//! What every training mode shares: the split network, the data, the transport weights, the metrics, and
//! the epoch loop over a frozen prefix and a set of modules each taking its local step.

mod epoch;
mod record;
mod resume;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use crate::alloc::PhaseMemory;
use crate::config::Config;
use crate::data::{Loader, LoaderSpec, Normalize, Splits};
use crate::device::parse_device;
use crate::error::{Error, Result};
use crate::model::{ArchPlan, Init, Network, Split};
use crate::report::{MetricsWriter, Record};
use crate::train::build::{plan_from_config, split_from_config};
use crate::train::optim::{LrSchedule, build_optimizer};
use crate::train::prefix_cache::PrefixCache;
use crate::transport::TransportWeights;

pub struct Session {
    pub config: Config,
    pub plan: ArchPlan,
    pub split: Split,
    /// The training device (autodiff); `infer_device` is the same hardware without autodiff.
    pub device: Device,
    pub infer_device: Device,
    pub train: Loader,
    pub test: Loader,
    /// The validation split held out from the training set (`data.val_fraction`).
    pub val: Option<Loader>,
    pub network: Network,
    pub weights: TransportWeights,
    pub metrics: MetricsWriter,
    /// Passes over the training data so far: each gets its own shuffle and augmentation.
    data_epochs: u64,
    /// The last `train` record of each module, the base of its `final` record.
    last_records: Vec<Option<Record>>,
    /// Each module's validation accuracy from the last evaluation, until its record takes it.
    last_val: Vec<Option<f64>>,
    /// The frozen prefix's output over the training set, when `train.cache_prefix` is on.
    pub prefix_cache: Option<PrefixCache>,
    /// Where checkpoints go (the run directory), when there is one.
    pub run_dir: Option<std::path::PathBuf>,
    /// Units of the run walked so far, and how many of them a resumed checkpoint had done.
    cursor: usize,
    resumed_units: usize,
    /// A resumed checkpoint's optimizers and step counts, until the mode asks for them.
    resumed_optims: Option<(Vec<ModuleOptimizer>, Vec<usize>)>,
    /// Host memory of the last training phase (an epoch's steps, without its evaluation).
    pub phase_memory: PhaseMemory,
    /// When this process began the run, and the seconds earlier processes had spent on it (a resumed run).
    started: Instant,
    seconds_before: f64,
}

impl Session {
    /// Builds the network on the configured device and the loaders over `data`; metrics go to `metrics`.
    pub fn new(config: &Config, data: &Splits, metrics: Option<&Path>) -> Result<Session> {
        config.validate()?;
        data.check()?;
        let d = &config.data;
        let subset = crate::data::SubsetSpec { per_class: d.train_per_class, fraction: d.train_fraction, val_fraction: d.val_fraction };
        let (train_set, val_set) = crate::data::stratified(&data.train.clone().truncate(d.train_limit), &subset, config.seed)?;
        let test_set = data.test.clone().truncate(config.data.test_limit);
        if train_set.height != train_set.width {
            return Err(Error::config("data.dataset", format!("images of {}×{}: the ResNets here take square images", train_set.height, train_set.width)));
        }
        if train_set.len() < config.data.batch_size {
            return Err(Error::config("data.batch_size", format!("{} is larger than the {} training images", config.data.batch_size, train_set.len())));
        }
        let plan = plan_from_config(config, train_set.channels, train_set.height, train_set.classes.len())?;
        let split = split_from_config(config, &plan)?;
        let base = parse_device(&config.device)?;
        let init = Init { scheme: config.model.init, gain: config.model.init_gain };
        let device = base.clone().autodiff();
        let network = {
            // The backend's RNG is process-wide: hold it from seeding to the last draw, so that sessions
            // built concurrently (tests, sweeps) still get exactly their seed's weights.
            static INIT_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
            let _guard = INIT_RNG.lock().unwrap_or_else(|e| e.into_inner());
            base.seed(config.seed);
            Network::new(&plan, &split, &config.head, &init, &device).materialize()
        };
        let (mean, std) = train_set.channel_stats();
        let norm = Normalize { mean, std };
        let train = Loader::new(
            Arc::new(train_set),
            LoaderSpec { batch_size: d.batch_size, workers: d.workers, prefetch: d.prefetch, shuffle: true, drop_last: true, augment: Some(d.augment) },
            norm.clone(),
            config.seed,
        );
        let eval_spec = LoaderSpec { batch_size: d.test_batch_size, workers: d.workers, prefetch: d.prefetch, shuffle: false, drop_last: false, augment: None };
        let val = val_set.map(|v| Loader::new(Arc::new(v), eval_spec.clone(), norm.clone(), config.seed));
        let test = Loader::new(Arc::new(test_set), eval_spec, norm, config.seed);
        let k = split.len();
        Ok(Session {
            weights: TransportWeights::new(config.method, k),
            config: config.clone(),
            plan,
            split,
            infer_device: base,
            device,
            train,
            test,
            val,
            network,
            metrics: MetricsWriter::create(metrics)?,
            data_epochs: 0,
            last_records: vec![None; k],
            last_val: vec![None; k],
            phase_memory: PhaseMemory::default(),
            prefix_cache: None,
            run_dir: None,
            cursor: 0,
            resumed_units: 0,
            resumed_optims: None,
            started: Instant::now(),
            seconds_before: 0.0,
        })
    }

    pub fn modules(&self) -> usize {
        self.split.len()
    }

    pub fn steps_per_epoch(&self) -> usize {
        let n = self.train.num_batches();
        match self.config.train.max_steps_per_epoch {
            0 => n,
            m => m.min(n),
        }
    }

    pub fn optimizers(&self) -> Vec<ModuleOptimizer> {
        (0..self.modules()).map(|_| build_optimizer(&self.config.optim)).collect()
    }

    pub fn schedule(&self, epochs: usize) -> LrSchedule {
        LrSchedule::new(&self.config.lr_schedule, self.config.optim.lr, self.steps_per_epoch(), epochs)
    }

    pub(crate) fn progress(&self, label: String) -> ProgressBar {
        if !self.config.output.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(self.steps_per_epoch() as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>18} [{bar:30}] {pos}/{len} {per_sec:>9} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label);
        bar
    }

    /// Passes over the training data begun so far.
    pub fn data_epochs(&self) -> usize {
        self.data_epochs as usize
    }

    /// The batches of the next pass over the training data.
    pub fn next_train_epoch(&mut self) -> crate::data::loader::EpochBatches {
        self.data_epochs += 1;
        self.train.epoch(self.data_epochs - 1)
    }

}
