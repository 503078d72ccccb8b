//! What every training mode shares: the split network, the data, the transport weights, the metrics, and
//! the epoch loop over a frozen prefix and a set of modules each taking its local step.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use super::eval::evaluate;
use super::optim::{LrSchedule, build_optimizer};
use super::prefix_cache::PrefixCache;
use super::running::{Reading, RunningStats, logs_at, read};
use super::step::{EpochStats, chain_steps};
use crate::alloc::{PhaseMemory, PhaseMeter};
use crate::config::Config;
use crate::data::{Loader, LoaderSpec, Normalize, Splits};
use crate::device::parse_device;
use crate::error::{Error, Result};
use crate::model::{ArchPlan, Init, LocalModule, Network, Split, SplitMethod, split_at_cuts, split_balanced, split_even};
use crate::model::split::{infopro_cuts, infopro_balanced_cuts};
use crate::report::{MetricsWriter, Record};
use crate::transport::TransportWeights;

/// The architecture plan a config describes, for data of the given shape.
pub fn plan_from_config(config: &Config, in_channels: usize, image_size: usize, classes: usize) -> Result<ArchPlan> {
    crate::model::registry::plan_for(&config.model, in_channels, image_size, classes)
}

/// The split a config asks for.
pub fn split_from_config(config: &Config, plan: &ArchPlan) -> Result<Split> {
    let k = config.split.modules;
    let depth = || plan.name.trim_start_matches("resnet").parse::<usize>().unwrap_or(0);
    match config.split.method {
        SplitMethod::Even => split_even(plan, k),
        SplitMethod::Cuts => split_at_cuts(plan, &config.split.cuts),
        SplitMethod::Balanced => split_balanced(plan, k, &config.head),
        SplitMethod::Infopro => {
            let cuts = infopro_cuts(depth(), k).ok_or_else(|| {
                Error::config("split.method", format!("InfoPro's tables cover resnet32 and resnet110 with K = 2, 3, 4, 8, 16, not {} with K = {k}", plan.name))
            })?;
            split_at_cuts(plan, &cuts)
        }
    }
}

/// The plan, split and network (freshly initialised, not seeded) that `config` describes for images of
/// `in_channels`×`image_size`² and `classes` classes, on the config's device without autodiff: what
/// inspection, export and prediction start from.
pub fn network_from_config(config: &Config, in_channels: usize, image_size: usize, classes: usize) -> Result<(ArchPlan, Split, Network)> {
    let plan = plan_from_config(config, in_channels, image_size, classes)?;
    let split = split_from_config(config, &plan)?;
    let device = parse_device(&config.device)?;
    let init = Init { scheme: config.model.init, gain: config.model.init_gain };
    let network = Network::new(&plan, &split, &config.head, &init, &device);
    Ok((plan, split, network))
}

/// InfoPro*'s memory-balanced cut table, where one exists.
pub fn infopro_balanced(plan: &ArchPlan, k: usize) -> Option<Vec<[usize; 2]>> {
    infopro_balanced_cuts(plan.name.trim_start_matches("resnet").parse().ok()?, k)
}

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

    /// One pass over the training data: each batch runs through the frozen modules `..active.start` in
    /// inference mode, then through `active`, each module taking a local step on its detached input.
    /// `steps[k]` counts module k's updates (its LR schedule's clock).
    pub fn local_epoch(
        &mut self,
        active: Range<usize>,
        optims: &mut [ModuleOptimizer],
        schedules: &[LrSchedule],
        steps: &mut [usize],
        label: String,
    ) -> Result<Vec<(EpochStats, f64)>> {
        let meter = PhaseMeter::start();
        let cached = self.config.train.cache_prefix && active.start > 0;
        if self.prefix_cache.as_ref().is_some_and(|c| c.upto > active.start) {
            // A module inside the cached prefix is about to change.
            self.prefix_cache = None;
        }
        if cached {
            self.update_prefix_cache(active.start);
        }
        let prefix: Vec<LocalModule> =
            if cached { Vec::new() } else { self.network.modules[..active.start].iter().map(|m| m.valid()).collect() };
        let mut training = self.network.take_modules(active.clone());
        let bar = self.progress(label);
        let smoothing = self.config.train.label_smoothing;
        let (n_steps, log_every) = (self.steps_per_epoch(), self.config.output.log_every);
        let mut running = vec![RunningStats::default(); active.len()];
        let mut weights = self.weights.to_device(active.clone(), &self.infer_device);
        let mut last_lrs = vec![0.0; active.len()];
        let batches = self.next_train_epoch();
        let mut failure = None;
        // Nothing in this loop reads from the device but `running::read` at logging points: on an
        // asynchronous device the host queues batch t+1's upload while the device still runs batch t.
        for (i, batch) in batches.take(n_steps).enumerate() {
            let mut x = match &self.prefix_cache {
                Some(cache) if cached => cache.gather(&batch.ids, &self.infer_device),
                _ => Tensor::<4>::from_data(TensorData::new(batch.images, batch.shape), &self.infer_device),
            };
            for m in &prefix {
                x = m.features(x);
            }
            let y = Tensor::<1, Int>::from_data(TensorData::new(batch.labels, [batch.shape[0]]), &self.device);
            let lrs: Vec<f64> = active.clone().map(|k| schedules[k].lr(steps[k])).collect();
            let energy: Vec<_> = active.clone().map(|k| weights.weight(k)).collect();
            let (updated, _, step_stats) = chain_steps(training, &mut optims[active.clone()], x.autodiff(), &y, &energy, smoothing, &lrs);
            training = updated;
            for (j, (k, s)) in active.clone().zip(step_stats).enumerate() {
                steps[k] += 1;
                weights.observe(k, s.ce());
                running[j].add(s, i + 1);
            }
            last_lrs = lrs;
            bar.inc(1);
            if logs_at(i + 1, log_every, n_steps) {
                let reading = read(&running, weights.state());
                weights.store(&reading.extra, &mut self.weights);
                if let Some(e) = self.non_finite(&reading, active.start) {
                    failure = Some(e);
                    break;
                }
                let last = reading.stats.last().expect("a module trains");
                bar.set_message(format!("loss {:.3} acc {:5.1}%", last.loss(), 100.0 * last.accuracy()));
            }
        }
        let reading = read(&running, weights.state());
        weights.store(&reading.extra, &mut self.weights);
        failure = failure.or_else(|| self.non_finite(&reading, active.start));
        bar.finish_and_clear();
        self.network.restore_modules(active.start, training);
        drop(prefix);
        self.phase_memory = meter.finish();
        match failure {
            Some(e) => Err(e),
            None => Ok(reading.stats.into_iter().zip(last_lrs).collect()),
        }
    }

    /// The error of a reading that found a non-finite loss; `first` is the module of the reading's index 0.
    pub(crate) fn non_finite(&self, reading: &Reading, first: usize) -> Option<Error> {
        reading.non_finite.map(|(j, step, value)| Error::NonFinite { module: first + j + 1, epoch: self.data_epochs as usize, step, value })
    }

    /// Brings the prefix cache to the output of the first `upto` modules (inference copies).
    fn update_prefix_cache(&mut self, upto: usize) {
        if self.prefix_cache.is_none() {
            let spec = LoaderSpec { shuffle: false, drop_last: false, augment: None, batch_size: self.config.data.test_batch_size, ..self.train.spec().clone() };
            let first = self.network.modules[0].valid();
            self.prefix_cache = Some(PrefixCache::build(&first, &self.train.with_spec(spec), &self.infer_device));
        }
        let cache = self.prefix_cache.as_mut().expect("built above");
        while cache.upto < upto {
            let module = self.network.modules[cache.upto].valid();
            cache.extend(&module, self.config.data.test_batch_size, &self.infer_device);
        }
    }

    /// Continues from a checkpoint: its network, metrics, τ state and position.
    pub fn restore(&mut self, state: super::checkpoint::State, network: Network, optims: Vec<ModuleOptimizer>, metrics: MetricsWriter) {
        self.network = network;
        self.metrics = metrics;
        self.weights = state.weights;
        self.data_epochs = state.data_epochs;
        self.last_records = state.last_records;
        self.resumed_units = state.units_done;
        self.resumed_optims = Some((optims, state.steps));
        self.seconds_before = state.seconds;
        self.started = Instant::now();
    }

    /// Wall-clock seconds spent on the run: this process's, and those of earlier processes up to the
    /// checkpoint it resumed from (the work a killed process did after its last checkpoint is done again,
    /// and counted once, here).
    pub fn seconds(&self) -> f64 {
        self.seconds_before + self.started.elapsed().as_secs_f64()
    }

    /// The mode's optimizers and step counters, replaced by a resumed checkpoint's when there is one.
    pub fn resume_into(&mut self, optims: &mut Vec<ModuleOptimizer>, steps: &mut [usize]) -> Result<()> {
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
    pub fn skip_unit(&mut self) -> bool {
        if self.cursor < self.resumed_units {
            self.cursor += 1;
            true
        } else {
            false
        }
    }

    /// Marks a unit done, and checkpoints when it is time (`boundary`: the end of a module's training).
    pub fn end_unit(&mut self, optims: &[ModuleOptimizer], steps: &[usize], boundary: bool) -> Result<()> {
        self.cursor += 1;
        let every = self.config.output.checkpoint_every;
        let Some(dir) = self.run_dir.clone() else { return Ok(()) };
        if every == 0 || !(boundary || self.cursor % every == 0) {
            return Ok(());
        }
        let state = super::checkpoint::State {
            fingerprint: super::checkpoint::fingerprint(&self.config),
            units_done: self.cursor,
            data_epochs: self.data_epochs,
            steps: steps.to_vec(),
            optimizers: optims.len(),
            weights: self.weights.clone(),
            last_records: self.last_records.clone(),
            metrics_records: self.metrics.records.len(),
            config: Some(self.config.to_toml()),
            seconds: self.seconds(),
        };
        super::checkpoint::save(&dir, &self.network, optims, &state)
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

    /// Test accuracy of the heads of the modules in `which` (inference copies of the current weights); their
    /// validation accuracy too, where there is a validation split, kept for their next records.
    pub fn evaluate(&mut self, which: Range<usize>) -> Vec<Option<f64>> {
        let modules: Vec<LocalModule> = self.network.modules[..which.end].iter().map(|m| m.valid()).collect();
        let want: Vec<bool> = (0..which.end).map(|k| which.contains(&k)).collect();
        if let Some(val) = &self.val {
            for (k, a) in evaluate(&modules, &want, val, &self.infer_device).into_iter().enumerate() {
                if a.is_some() {
                    self.last_val[k] = a;
                }
            }
        }
        evaluate(&modules, &want, &self.test, &self.infer_device)
    }

    /// Writes module k's record of one training epoch.
    #[allow(clippy::too_many_arguments)]
    pub fn record_epoch(&mut self, lap: usize, k: usize, epoch: usize, stats: &EpochStats, lr: f64, test_acc: Option<f64>, seconds: f64) -> Result<()> {
        let tau = self.weights.tau(k);
        let record = Record {
            mode: self.config.train.mode.name().into(),
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
            seconds: self.config.output.timings.then_some(seconds),
            // Measurements, like the seconds: off with `output.timings`, so that metrics files can compare byte for byte.
            peak_alloc_bytes: self.phase_memory.peak_alloc_bytes.filter(|_| self.config.output.timings),
            peak_rss_bytes: self.phase_memory.peak_rss_bytes.filter(|_| self.config.output.timings),
            events: Vec::new(),
        };
        self.last_records[k] = Some(record.clone());
        self.metrics.write(record)
    }

    /// Evaluates the heads of `which` once training is over and writes their `final` records.
    pub fn record_final(&mut self, which: Range<usize>) -> Result<()> {
        let start = Instant::now();
        let accs = self.evaluate(which.clone());
        let seconds = start.elapsed().as_secs_f64();
        for k in which {
            if let Some(mut r) = self.last_records[k].clone() {
                r.phase = "final".into();
                r.test_acc = accs[k];
                r.val_acc = self.last_val[k].take();
                r.seconds = self.config.output.timings.then_some(seconds);
                self.metrics.write(r)?;
            }
        }
        Ok(())
    }
}
