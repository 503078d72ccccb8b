//! The serial executor of a local pass: on each batch the frozen modules before the active range run in
//! inference mode, then each active module takes its local step on its detached input, in order, on this
//! thread. Sequential, multi-lap and parallel passes all run here.

use std::ops::Range;

use burn::module::Module;
use burn::prelude::*;

use crate::error::Result;
use crate::model::LocalModule;
use crate::train::batch_loop::Stepper;
use crate::train::pass::Optimizers;
use crate::train::running::{RunningStats, logs_at, read};
use crate::train::session::Trainer;
use crate::train::step::{EpochStats, chain_steps};
use crate::transport::{DeviceWeights, LossSpec, TransportWeights};

pub struct LocalStepper<'a> {
    active: Range<usize>,
    /// Inference copies of the frozen modules; empty when their output comes from the prefix cache.
    prefix: Vec<LocalModule>,
    training: Vec<LocalModule>,
    optims: &'a mut Optimizers,
    /// The host τ/Uzawa state, brought up to date at each read and handed back at the end.
    host_weights: TransportWeights,
    weights: DeviceWeights,
    running: Vec<RunningStats>,
    last_lrs: Vec<f64>,
    loss: LossSpec,
    log: (usize, usize),
    devices: (Device, Device),
}

impl<'a> LocalStepper<'a> {
    /// Takes the active modules out of the trainer's network until [`finish`](Self::finish).
    pub fn start(trainer: &mut Trainer, active: Range<usize>, cached: bool, optims: &'a mut Optimizers, loss: LossSpec, log: (usize, usize)) -> Self {
        let prefix = if cached { Vec::new() } else { trainer.network.modules[..active.start].iter().map(|m| m.valid()).collect() };
        LocalStepper {
            prefix,
            training: trainer.network.take_modules(active.clone()),
            optims,
            host_weights: trainer.weights.clone(),
            weights: trainer.weights.to_device(active.clone(), &trainer.infer_device),
            running: vec![RunningStats::default(); active.len()],
            last_lrs: vec![0.0; active.len()],
            loss,
            log,
            devices: (trainer.infer_device.clone(), trainer.device.clone()),
            active,
        }
    }

    /// Puts the modules and the τ state back; each module's statistics and last learning rate, or the
    /// non-finite loss that stopped the pass.
    pub fn finish(mut self, trainer: &mut Trainer) -> Result<Vec<(EpochStats, f64)>> {
        // A pass stopped on a non-finite loss reads it again here: the running statistics keep its step.
        let reading = read(&self.running, self.weights.state());
        self.weights.store(&reading.extra, &mut self.host_weights);
        trainer.weights = self.host_weights;
        trainer.network.restore_modules(self.active.start, self.training);
        match trainer.non_finite(&reading, self.active.start) {
            Some(e) => Err(e),
            None => Ok(reading.stats.into_iter().zip(self.last_lrs).collect()),
        }
    }
}

impl Stepper for LocalStepper<'_> {
    fn devices(&self) -> (Device, Device) {
        self.devices.clone()
    }

    fn step(&mut self, mut x: Tensor<4>, y: Tensor<1, Int>, i: usize) -> Option<Vec<Option<EpochStats>>> {
        for m in &self.prefix {
            x = m.features(x);
        }
        let active = self.active.clone();
        let lrs: Vec<f64> = active.clone().map(|k| self.optims.lr(k)).collect();
        let energy: Vec<_> = active.clone().map(|k| self.weights.weight(k)).collect();
        let training = std::mem::take(&mut self.training);
        let (updated, _, stats) = chain_steps(training, &mut self.optims.optims[active.clone()], x.autodiff(), &y, &energy, self.loss, &lrs);
        self.training = updated;
        for (j, (k, s)) in active.zip(stats).enumerate() {
            self.optims.steps[k] += 1;
            self.weights.observe(k, s.ce());
            self.running[j].add(s, i + 1);
        }
        self.last_lrs = lrs;
        let (n_steps, every) = self.log;
        if !logs_at(i + 1, every, n_steps) {
            return Some(vec![None]);
        }
        let reading = read(&self.running, self.weights.state());
        self.weights.store(&reading.extra, &mut self.host_weights);
        if reading.non_finite.is_some() {
            return None;
        }
        Some(vec![reading.stats.last().copied()])
    }
}
