//! End-to-end training, the baseline: ordinary backpropagation through the whole network, one optimizer,
//! the loss on the network's own (last) head only. Auxiliary heads exist but are not trained, so only
//! the last module is reported.

use std::time::Instant;

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::session::Session;
use super::optim::LrSchedule;
use super::running::{RunningStats, logs_at, read};
use super::step::{EpochStats, StepStats, step_stats};
use crate::model::Network;
use crate::error::Result;
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

pub fn run(s: &mut Session) -> Result<()> {
    let k_total = s.modules();
    let last = k_total - 1;
    let epochs = s.config.train.epochs;
    let schedule = s.schedule(epochs);
    let mut optims = vec![super::optim::build_optimizer(&s.config.optim)];
    let mut steps = [0usize];
    s.resume_into(&mut optims, &mut steps)?;
    for e in 0..epochs {
        if s.skip_unit() {
            continue;
        }
        let start = Instant::now();
        let (stats, lr) = e2e_epoch(s, &mut optims[0], &schedule, &mut steps[0], format!("e2e epoch {}", e + 1))?;
        let acc = s.evaluate(last..k_total)[last];
        s.record_epoch(1, last, e + 1, &stats, lr, acc, start.elapsed().as_secs_f64())?;
        s.end_unit(&optims, &steps, false)?;
    }
    s.record_final(last..k_total)
}

/// One pass over the training data by backpropagation; `step` is the LR schedule's clock. Reads the
/// statistics back only at logging points, as `Session::local_epoch` does.
pub fn e2e_epoch(s: &mut Session, optim: &mut ModuleOptimizer, schedule: &LrSchedule, step: &mut usize, label: String) -> Result<(EpochStats, f64)> {
    let meter = crate::alloc::PhaseMeter::start();
    let smoothing = s.config.train.label_smoothing;
    let (n_steps, log_every) = (s.steps_per_epoch(), s.config.output.log_every);
    let mut running = [RunningStats::default()];
    let mut lr = schedule.lr(*step);
    let bar = s.progress(label);
    let mut failure = None;
    let batches = s.next_train_epoch();
    for (i, batch) in batches.take(n_steps).enumerate() {
        lr = schedule.lr(*step);
        let x = Tensor::<4>::from_data(TensorData::new(batch.images, batch.shape), &s.device);
        let y = Tensor::<1, Int>::from_data(TensorData::new(batch.labels, [batch.shape[0]]), &s.device);
        let network = std::mem::replace(&mut s.network, Network { modules: Vec::new() });
        let (network, st) = e2e_step(network, optim, x, &y, smoothing, lr);
        s.network = network;
        *step += 1;
        running[0].add(st, i + 1);
        bar.inc(1);
        if logs_at(i + 1, log_every, n_steps) {
            let reading = read(&running, None);
            if let Some(e) = s.non_finite(&reading, s.modules() - 1) {
                failure = Some(e);
                break;
            }
            bar.set_message(format!("loss {:.3} acc {:5.1}%", reading.stats[0].loss(), 100.0 * reading.stats[0].accuracy()));
        }
    }
    let reading = read(&running, None);
    bar.finish_and_clear();
    s.phase_memory = meter.finish();
    match failure.or_else(|| s.non_finite(&reading, s.modules() - 1)) {
        Some(e) => Err(e),
        None => Ok((reading.stats[0], lr)),
    }
}
