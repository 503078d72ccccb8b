//! Pipelined parallel training: the modules are split into W contiguous groups, each trained by its own
//! worker thread (on its own device when `device` lists several), connected by bounded queues that carry
//! each batch's detached features and labels forward. While worker w+1 trains on batch t−1, worker w trains
//! on batch t: backward locking is gone.
//!
//! Semantics. Module k sees the batches in order, and its input for batch t is module k−1's output for
//! batch t computed before module k−1's update on batch t — exactly what the serial parallel mode feeds
//! it. No worker ever waits on a gradient, so pipelining changes when each step runs, not what it computes:
//! the weights after an epoch are those of `parallel` (bit for bit with one worker; with several, up to
//! the order of float sums when workers share the CPU's thread pool). Queues hold at most
//! `train.pipeline_queue` batches between two workers, so memory stays bounded. Evaluation runs after each
//! epoch once every worker has finished it, as in `parallel`.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use super::optim::LrSchedule;
use super::parallel::run_epochs;
use super::session::Session;
use super::step::{EpochStats, StepStats, chain_steps};
use crate::bench::alloc::PhaseMeter;
use crate::device::parse_devices;
use crate::error::{Error, Result};
use crate::model::LocalModule;
use crate::transport::TransportWeights;

pub fn run(s: &mut Session) -> Result<()> {
    run_epochs(s, pipelined_epoch)
}

/// Worker w's modules: W contiguous groups of K modules, sizes differing by at most one.
pub fn worker_groups(modules: usize, workers: usize) -> Vec<Range<usize>> {
    let w = workers.clamp(1, modules.max(1));
    (0..w).map(|i| i * modules / w..(i + 1) * modules / w).collect()
}

/// A batch on its way down the pipeline: features (detached, off the graph), labels, batch index.
type Item = Option<(Tensor<4>, Tensor<1, Int>, usize)>;

/// What a worker reports for each module and batch: (batch, module, stats, lr).
type Report = (usize, usize, StepStats, f64);

struct Worker<'a> {
    modules: Vec<LocalModule>,
    range: Range<usize>,
    optims: &'a mut [ModuleOptimizer],
    steps: &'a mut [usize],
    weights: TransportWeights,
    device: Device,
}

impl Worker<'_> {
    fn work(
        mut self,
        schedules: &[LrSchedule],
        smoothing: f64,
        input: Receiver<Item>,
        next: Option<SyncSender<Item>>,
        reports: Sender<Report>,
        stop: &AtomicBool,
    ) -> (Vec<LocalModule>, TransportWeights) {
        let autodiff = self.device.clone().autodiff();
        while let Ok(Some((x, y, i))) = input.recv() {
            let x = x.to_device(&self.device).autodiff();
            let y = y.to_device(&autodiff);
            let lrs: Vec<f64> = self.range.clone().zip(self.steps.iter()).map(|(k, &n)| schedules[k].lr(n)).collect();
            let weights: Vec<f64> = self.range.clone().map(|k| self.weights.weight(k)).collect();
            let (modules, features, stats) = chain_steps(std::mem::take(&mut self.modules), self.optims, x, &y, &weights, smoothing, &lrs);
            self.modules = modules;
            for (j, (k, s)) in self.range.clone().zip(stats).enumerate() {
                self.steps[j] += 1;
                self.weights.observe(k, s.ce as f64);
                if !s.loss.is_finite() {
                    stop.store(true, Ordering::Relaxed);
                }
                let _ = reports.send((i, k, s, lrs[j]));
            }
            if let Some(next) = &next {
                if next.send(Some((features.without_autodiff(), y.without_autodiff(), i))).is_err() {
                    break;
                }
            }
        }
        if let Some(next) = &next {
            let _ = next.send(None);
        }
        (self.modules, self.weights)
    }
}

/// One pipelined pass over the training data.
pub fn pipelined_epoch(s: &mut Session, optims: &mut [ModuleOptimizer], schedules: &[LrSchedule], steps: &mut [usize], label: String) -> Result<Vec<(EpochStats, f64)>> {
    let meter = PhaseMeter::start();
    let k_total = s.modules();
    let groups = worker_groups(k_total, s.config.train.pipeline_workers);
    let devices = parse_devices(&s.config.device)?;
    let device_of = |w: usize| devices[w % devices.len()].clone();
    let smoothing = s.config.train.label_smoothing;
    let queue = s.config.train.pipeline_queue;
    let main_device = s.device.clone();
    let n_steps = s.steps_per_epoch();
    let bar = s.progress(label);
    let mut modules = std::mem::take(&mut s.network.modules);
    let mut workers = Vec::with_capacity(groups.len());
    let (mut optims_rest, mut steps_rest) = (optims, steps);
    for (w, range) in groups.iter().enumerate() {
        let (o, orest) = std::mem::take(&mut optims_rest).split_at_mut(range.len());
        let (st, srest) = std::mem::take(&mut steps_rest).split_at_mut(range.len());
        (optims_rest, steps_rest) = (orest, srest);
        let device = device_of(w);
        let autodiff = device.clone().autodiff();
        let group: Vec<LocalModule> = modules.drain(..range.len()).map(|m| m.fork(&autodiff)).collect();
        workers.push(Worker { modules: group, range: range.clone(), optims: o, steps: st, weights: s.weights.clone(), device });
    }
    let stop = AtomicBool::new(false);
    let mut stats = vec![(EpochStats::default(), 0.0); k_total];
    let mut failure = None;
    let batches = s.next_train_epoch();
    let first_device = device_of(0);
    let results = std::thread::scope(|scope| {
        let (report_tx, report_rx) = channel::<Report>();
        let mut senders = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..workers.len() {
            let (tx, rx) = sync_channel::<Item>(queue);
            senders.push(tx);
            receivers.push(rx);
        }
        let feed = senders.remove(0);
        let mut nexts: Vec<Option<SyncSender<Item>>> = senders.into_iter().map(Some).collect();
        nexts.push(None);
        let handles: Vec<_> = workers
            .into_iter()
            .zip(receivers)
            .zip(nexts)
            .map(|((worker, rx), next)| {
                let (reports, stop) = (report_tx.clone(), &stop);
                scope.spawn(move || worker.work(schedules, smoothing, rx, next, reports, stop))
            })
            .collect();
        drop(report_tx);
        let mut absorb = |r: Report| {
            let (i, k, st, lr) = r;
            if !st.loss.is_finite() && failure.is_none() {
                failure = Some(Error::NonFinite { module: k + 1, epoch: 0, step: i + 1, value: st.loss });
            }
            stats[k].0.add(&st);
            stats[k].1 = lr;
            if k + 1 == k_total {
                let (s, _) = &stats[k];
                bar.set_message(format!("loss {:.3} acc {:5.1}%", s.loss(), 100.0 * s.accuracy()));
                bar.inc(1);
            }
        };
        for (i, batch) in batches.take(n_steps).enumerate() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let x = Tensor::<4>::from_data(TensorData::new(batch.images, batch.shape), &first_device);
            let y = Tensor::<1, Int>::from_data(TensorData::new(batch.labels, [batch.shape[0]]), &first_device);
            if feed.send(Some((x, y, i))).is_err() {
                break;
            }
            while let Ok(r) = report_rx.try_recv() {
                absorb(r);
            }
        }
        let _ = feed.send(None);
        let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("a pipeline worker panicked")).collect();
        for r in report_rx.iter() {
            absorb(r);
        }
        results
    });
    bar.finish_and_clear();
    for (range, (group, weights)) in groups.iter().zip(results) {
        for k in range.clone() {
            s.weights.adopt(&weights, k);
        }
        s.network.modules.extend(group.into_iter().map(|m| m.fork(&main_device)));
    }
    s.phase_memory = meter.finish();
    match failure {
        Some(Error::NonFinite { module, step, value, .. }) => Err(Error::NonFinite { module, epoch: s.data_epochs(), step, value }),
        Some(e) => Err(e),
        None => Ok(stats),
    }
}
