//! Local steps on a stream of batches. [`LocalSteps`] holds what the active modules need while they train
//! (their τ state on the device, running statistics, last learning rates) and takes one batch's steps;
//! the serial executor ([`LocalStepper`]: sequential, multi-lap and parallel passes, on this thread, after
//! the frozen prefix) and each pipeline worker (`pipelined`) drive it.

use std::ops::Range;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use crate::data::Normalize;
use crate::error::Result;
use crate::local_loss::Targets;
use crate::model::LocalModule;
use crate::train::batch_loop::Stepper;
use crate::train::optim::LrSchedule;
use crate::train::pass::Optimizers;
use crate::train::running::{Reading, RunningStats, logs_at, read};
use crate::train::session::Trainer;
use crate::train::step::{EpochStats, chain_steps};
use crate::transport::{DeviceWeights, LossSpec, TransportWeights};

/// Modules `range` while they train: each takes its local step on every batch; statistics stay on the
/// device until a logging point, where one read brings them (and Uzawa's λ) back.
pub struct LocalSteps {
    range: Range<usize>,
    modules: Vec<LocalModule>,
    /// The host τ/Uzawa state, brought up to date at each read.
    host_weights: TransportWeights,
    weights: DeviceWeights,
    running: Vec<RunningStats>,
    last_lrs: Vec<f64>,
    loss: LossSpec,
    /// Steps in the pass and `output.log_every`.
    log: (usize, usize),
}

impl LocalSteps {
    /// `modules` are modules `range` (on an autodiff device); `device` holds their τ state (no autodiff).
    pub fn new(modules: Vec<LocalModule>, range: Range<usize>, host_weights: TransportWeights, device: &Device, loss: LossSpec, log: (usize, usize)) -> Self {
        LocalSteps {
            weights: host_weights.to_device(range.clone(), device),
            running: vec![RunningStats::default(); range.len()],
            last_lrs: vec![0.0; range.len()],
            modules,
            host_weights,
            loss,
            log,
            range,
        }
    }

    /// Batch `i`'s steps: module `range.start + j` updates with `optims[j]`, its clock `steps[j]` and
    /// `schedules[range.start + j]`. Returns the last module's (detached) features, and at a logging point
    /// the reading.
    pub fn step(&mut self, x: Tensor<4>, y: &Targets, i: usize, optims: &mut [ModuleOptimizer], steps: &mut [usize], schedules: &[LrSchedule]) -> (Tensor<4>, Option<Reading>) {
        let lrs: Vec<f64> = self.range.clone().zip(steps.iter()).map(|(k, &n)| schedules[k].lr(n)).collect();
        let energy: Vec<_> = self.range.clone().map(|k| self.weights.weight(k)).collect();
        let (modules, features, stats) = chain_steps(std::mem::take(&mut self.modules), optims, x, y, &energy, self.loss, &lrs);
        self.modules = modules;
        for (j, (k, s)) in self.range.clone().zip(stats).enumerate() {
            steps[j] += 1;
            self.weights.observe(k, s.ce());
            self.running[j].add(s, i + 1);
        }
        self.last_lrs = lrs;
        let (n_steps, every) = self.log;
        (features, logs_at(i + 1, every, n_steps).then(|| self.read()))
    }

    fn read(&mut self) -> Reading {
        let reading = read(&self.running, self.weights.state());
        self.weights.store(&reading.extra, &mut self.host_weights);
        reading
    }

    /// The pass's end: its final reading (a non-finite loss found earlier is in it again: the running
    /// statistics keep its step), the modules, the τ state and each module's last learning rate.
    pub fn finish(mut self) -> (Reading, Vec<LocalModule>, TransportWeights, Vec<f64>) {
        let reading = self.read();
        (reading, self.modules, self.host_weights, self.last_lrs)
    }
}

/// The serial executor of a local pass: on each batch the frozen modules before the active range run in
/// inference mode, then each active module takes its local step on its detached input, in order.
pub struct LocalStepper<'a> {
    steps: LocalSteps,
    /// Inference copies of the frozen modules; empty when their output comes from the prefix cache.
    prefix: Vec<LocalModule>,
    optims: &'a mut Optimizers,
    devices: (Device, Device),
    /// The normalisation to undo for a local loss that compares with the images.
    images: Option<Normalize>,
}

impl<'a> LocalStepper<'a> {
    /// Takes the active modules out of the trainer's network until [`finish`](Self::finish).
    pub fn start(trainer: &mut Trainer, active: Range<usize>, cached: bool, optims: &'a mut Optimizers, loss: LossSpec, log: (usize, usize), images: Option<Normalize>) -> Self {
        let prefix = if cached { Vec::new() } else { trainer.network.modules[..active.start].iter().map(|m| m.valid()).collect() };
        let modules = trainer.network.take_modules(active.clone());
        LocalStepper {
            steps: LocalSteps::new(modules, active, trainer.weights.clone(), &trainer.infer_device, loss, log),
            prefix,
            optims,
            devices: (trainer.infer_device.clone(), trainer.device.clone()),
            images,
        }
    }

    /// Puts the modules and the τ state back; each module's statistics and last learning rate, or the
    /// non-finite loss that stopped the pass.
    pub fn finish(self, trainer: &mut Trainer) -> Result<Vec<(EpochStats, f64)>> {
        let start = self.steps.range.start;
        let (reading, modules, weights, lrs) = self.steps.finish();
        trainer.weights = weights;
        trainer.network.restore_modules(start, modules);
        match trainer.non_finite(&reading, start) {
            Some(e) => Err(e),
            None => Ok(reading.stats.into_iter().zip(lrs).collect()),
        }
    }
}

impl Stepper for LocalStepper<'_> {
    fn devices(&self) -> (Device, Device) {
        self.devices.clone()
    }

    fn images(&self) -> Option<&Normalize> {
        self.images.as_ref()
    }

    fn step(&mut self, mut x: Tensor<4>, y: Targets, i: usize) -> Option<Vec<Option<EpochStats>>> {
        for m in &self.prefix {
            x = m.features(x);
        }
        let active = self.steps.range.clone();
        let o = &mut *self.optims;
        let (_, reading) = self.steps.step(x.autodiff(), &y, i, &mut o.optims[active.clone()], &mut o.steps[active], &o.schedules);
        match reading {
            None => Some(vec![None]),
            Some(r) if r.non_finite.is_some() => None,
            Some(r) => Some(vec![r.stats.last().copied()]),
        }
    }
}
