//! End-to-end training, the baseline: ordinary backpropagation through the whole network, one optimizer,
//! the loss on the network's own (last) head only. Auxiliary heads exist but are not trained, so only
//! the last module is reported.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::batch_loop::Stepper;
use super::pass::{Optimizers, Pass};
use super::running::{RunningStats, logs_at, read};
use super::schedule::{Schedule, Unit};
use super::session::{Session, Trainer};
use super::step::{EpochStats, StepStats, step_stats};
use crate::error::Result;
use crate::model::Network;
use crate::local_loss::Targets;
use crate::transport::{LocalLoss, cross_entropy_smoothed};

/// One step of ordinary backpropagation through the whole network, on the last head's loss.
pub fn e2e_step(network: Network, optim: &mut ModuleOptimizer, x: Tensor<4>, y: &Tensor<1, Int>, smoothing: f64, lr: f64) -> (Network, StepStats) {
    let (logits, _) = network.forward(x);
    let ce = cross_entropy_smoothed(logits.clone(), y.clone(), smoothing);
    let loss = LocalLoss { total: ce.clone(), kinetic: ce.zeros_like(), ce };
    let stats = step_stats(&loss, &logits, y);
    let grads = GradientsParams::from_grads(loss.total.backward(), &network);
    (optim.step(lr, network, grads), stats)
}

/// `train.epochs` passes of backpropagation, each recorded as the last module's.
pub fn schedule(s: &Session) -> Schedule {
    let epochs = s.config.train.epochs;
    let units = (1..=epochs).map(|e| Unit { pass: Pass::EndToEnd, lap: 1, epoch: e, label: format!("e2e epoch {e}"), boundary: false }).collect();
    Schedule { optimizers: Optimizers::whole_network(s, epochs), units, reported: s.modules() - 1..s.modules() }
}

/// The end-to-end pass's steps: the whole network, taken out of the trainer until `finish`.
pub struct EndToEndStepper<'a> {
    network: Network,
    optims: &'a mut Optimizers,
    running: [RunningStats; 1],
    lr: f64,
    smoothing: f64,
    log: (usize, usize),
    device: Device,
    last: usize,
}

impl<'a> EndToEndStepper<'a> {
    pub fn start(trainer: &mut Trainer, optims: &'a mut Optimizers, smoothing: f64, log: (usize, usize)) -> Self {
        let last = trainer.network.modules.len() - 1;
        let network = std::mem::replace(&mut trainer.network, Network { modules: Vec::new() });
        let lr = optims.lr(0);
        EndToEndStepper { network, optims, running: [RunningStats::default()], lr, smoothing, log, device: trainer.device.clone(), last }
    }

    pub fn finish(self, trainer: &mut Trainer) -> Result<Vec<(EpochStats, f64)>> {
        trainer.network = self.network;
        let reading = read(&self.running, None);
        // A pass stopped on a non-finite loss reads it again here: the running statistics keep its step.
        match trainer.non_finite(&reading, self.last) {
            Some(e) => Err(e),
            None => Ok(vec![(reading.stats[0], self.lr)]),
        }
    }
}

impl Stepper for EndToEndStepper<'_> {
    fn devices(&self) -> (Device, Device) {
        (self.device.clone(), self.device.clone())
    }

    fn step(&mut self, x: Tensor<4>, y: Targets, i: usize) -> Option<Vec<Option<EpochStats>>> {
        self.lr = self.optims.lr(0);
        let network = std::mem::replace(&mut self.network, Network { modules: Vec::new() });
        let (network, st) = e2e_step(network, &mut self.optims.optims[0], x, &y.labels, self.smoothing, self.lr);
        self.network = network;
        self.optims.steps[0] += 1;
        self.running[0].add(st, i + 1);
        let (n_steps, every) = self.log;
        if !logs_at(i + 1, every, n_steps) {
            return Some(vec![None]);
        }
        let reading = read(&self.running, None);
        if reading.non_finite.is_some() {
            return None;
        }
        Some(vec![reading.stats.first().copied()])
    }
}
