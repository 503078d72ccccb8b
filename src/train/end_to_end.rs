//! End-to-end training, the baseline: ordinary backpropagation through the whole network, one optimizer,
//! the loss on the network's own (last) head only. Auxiliary heads exist but are not trained, so only
//! the last module is reported.

use std::time::Instant;

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::session::Session;
use super::step::{EpochStats, StepStats, read_stats};
use crate::model::Network;
use crate::error::{Error, Result};
use crate::transport::{LocalLoss, cross_entropy_smoothed};

/// One step of ordinary backpropagation through the whole network, on the last head's loss.
pub fn e2e_step(network: Network, optim: &mut ModuleOptimizer, x: Tensor<4>, y: &Tensor<1, Int>, smoothing: f64, lr: f64) -> (Network, StepStats) {
    let (logits, _) = network.forward(x);
    let ce = cross_entropy_smoothed(logits.clone(), y.clone(), smoothing);
    let loss = LocalLoss { total: ce.clone(), kinetic: ce.zeros_like(), ce };
    let stats = read_stats(&loss, &logits, y);
    let grads = GradientsParams::from_grads(loss.total.backward(), &network);
    (optim.step(lr, network, grads), stats)
}

pub fn run(s: &mut Session) -> Result<()> {
    let k_total = s.modules();
    let last = k_total - 1;
    let epochs = s.config.train.epochs;
    let schedule = s.schedule(epochs);
    let mut optims = vec![super::optim::build_optimizer(&s.config.optim)];
    let smoothing = s.config.train.label_smoothing;
    let mut steps = [0usize];
    s.resume_into(&mut optims, &mut steps)?;
    let [mut step] = steps;
    for e in 0..epochs {
        if s.skip_unit() {
            continue;
        }
        let start = Instant::now();
        let mut stats = EpochStats::default();
        let meter = crate::bench::alloc::PhaseMeter::start();
        let mut lr = schedule.lr(step);
        let bar = s.progress(format!("e2e epoch {}", e + 1));
        let batches = s.next_train_epoch();
        for (i, batch) in batches.take(s.steps_per_epoch()).enumerate() {
            lr = schedule.lr(step);
            let x = Tensor::<4>::from_data(TensorData::new(batch.images, batch.shape), &s.device);
            let y = Tensor::<1, Int>::from_data(TensorData::new(batch.labels, [batch.shape[0]]), &s.device);
            let network = std::mem::replace(&mut s.network, Network { modules: Vec::new() });
            let (network, st) = e2e_step(network, &mut optims[0], x, &y, smoothing, lr);
            s.network = network;
            if !st.loss.is_finite() {
                return Err(Error::NonFinite { module: k_total, epoch: e + 1, step: i + 1, value: st.loss });
            }
            step += 1;
            stats.add(&st);
            bar.set_message(format!("loss {:.3} acc {:5.1}%", stats.loss(), 100.0 * stats.accuracy()));
            bar.inc(1);
        }
        bar.finish_and_clear();
        s.phase_memory = meter.finish();
        let acc = s.evaluate(last..k_total)[last];
        s.record_epoch(1, last, e + 1, &stats, lr, acc, start.elapsed().as_secs_f64())?;
        s.end_unit(&optims, &[step], false)?;
    }
    s.record_final(last..k_total)
}
