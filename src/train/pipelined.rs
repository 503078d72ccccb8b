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

use indicatif::ProgressBar;

use super::batch_loop::{Feed, Stepper, batch_loop, show};
use super::pass::{Optimizers, Pass};
use super::optim::LrSchedule;
use super::schedule::Schedule;
use super::session::Session;
use super::running::Reading;
use super::serial::LocalSteps;
use super::step::EpochStats;
use crate::data::{Batch, Normalize};
use crate::device::parse_devices;
use crate::error::Result;
use crate::local_loss::Targets;
use crate::model::LocalModule;
use crate::transport::{LossSpec, TransportWeights};

/// Parallel training's schedule, each pass pipelined.
pub fn schedule(s: &Session) -> Schedule {
    super::parallel::epochs(s, Pass::Pipelined)
}

/// Worker w's modules: W contiguous groups of K modules, sizes differing by at most one.
pub fn worker_groups(modules: usize, workers: usize) -> Vec<Range<usize>> {
    let w = workers.clamp(1, modules.max(1));
    (0..w).map(|i| i * modules / w..(i + 1) * modules / w).collect()
}

/// A batch on its way down the pipeline: features (detached, off the graph), labels, batch index.
type Item = Option<(Tensor<4>, Targets, usize)>;

/// What the last worker reports as it goes: the batch it finished and, at a logging point, the last
/// module's running statistics.
type Report = (usize, Option<EpochStats>);

/// What a worker hands back at the end of the pass.
struct Outcome {
    modules: Vec<LocalModule>,
    weights: TransportWeights,
    reading: Reading,
    lrs: Vec<f64>,
}

struct Worker<'a> {
    modules: Vec<LocalModule>,
    range: Range<usize>,
    optims: &'a mut [ModuleOptimizer],
    steps: &'a mut [usize],
    weights: TransportWeights,
    device: Device,
}

impl Worker<'_> {
    /// Trains its modules on every batch that arrives. Like the serial executor (the same `LocalSteps`),
    /// it reads its statistics back only at logging points, where a non-finite loss stops the whole
    /// pipeline.
    #[allow(clippy::too_many_arguments)]
    fn work(
        self,
        schedules: &[LrSchedule],
        loss: LossSpec,
        log: (usize, usize),
        input: Receiver<Item>,
        next: Option<SyncSender<Item>>,
        reports: Option<Sender<Report>>,
        stop: &AtomicBool,
    ) -> Outcome {
        let autodiff = self.device.clone().autodiff();
        let mut local = LocalSteps::new(self.modules, self.range, self.weights, &self.device, loss, log);
        while let Ok(Some((x, y, i))) = input.recv() {
            let x = x.to_device(&self.device).autodiff();
            let y = y.to_device(&autodiff);
            let (features, reading) = local.step(x, &y, i, self.optims, self.steps, schedules);
            let logged = reading.and_then(|r| {
                if r.non_finite.is_some() {
                    stop.store(true, Ordering::Relaxed);
                }
                r.stats.last().copied()
            });
            if let Some(r) = &reports {
                let _ = r.send((i, logged));
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
        let (reading, modules, weights, lrs) = local.finish();
        Outcome { modules, weights, reading, lrs }
    }
}

/// The loop's side of the pipeline: it feeds each batch to the first worker and passes on what the last
/// one reports.
struct PipelineFeed<'a> {
    feed: SyncSender<Item>,
    reports: &'a Receiver<Report>,
    stop: &'a AtomicBool,
    device: Device,
    images: Option<Normalize>,
}

impl Stepper for PipelineFeed<'_> {
    fn devices(&self) -> (Device, Device) {
        (self.device.clone(), self.device.clone())
    }

    fn images(&self) -> Option<&Normalize> {
        self.images.as_ref()
    }

    fn step(&mut self, x: Tensor<4>, y: Targets, i: usize) -> Option<Vec<Option<EpochStats>>> {
        if self.stop.load(Ordering::Relaxed) || self.feed.send(Some((x, y, i))).is_err() {
            return None;
        }
        Some(self.reports.try_iter().map(|(_, logged)| logged).collect())
    }
}

/// One pipelined pass over `feed`'s batches, through the one batch loop.
pub(crate) fn pipelined_pass<I: Iterator<Item = Batch>>(s: &mut Session, optims: &mut Optimizers, feed: Feed<'_, I>, bar: &ProgressBar) -> Result<Vec<(EpochStats, f64)>> {
    let k_total = s.modules();
    let groups = worker_groups(k_total, s.config.train.pipeline_workers);
    let devices = parse_devices(&s.config.device)?;
    let device_of = |w: usize| devices[w % devices.len()].clone();
    let loss = s.loss_spec();
    let queue = s.config.train.pipeline_queue;
    let images = s.image_targets();
    let main_device = s.trainer.device.clone();
    let mut modules = std::mem::take(&mut s.trainer.network.modules);
    let mut workers = Vec::with_capacity(groups.len());
    let Optimizers { optims: all_optims, schedules, steps } = optims;
    let (mut optims_rest, mut steps_rest) = (all_optims.as_mut_slice(), steps.as_mut_slice());
    for (w, range) in groups.iter().enumerate() {
        let (o, orest) = std::mem::take(&mut optims_rest).split_at_mut(range.len());
        let (st, srest) = std::mem::take(&mut steps_rest).split_at_mut(range.len());
        (optims_rest, steps_rest) = (orest, srest);
        let device = device_of(w);
        let autodiff = device.clone().autodiff();
        let group: Vec<LocalModule> = modules.drain(..range.len()).map(|m| m.fork(&autodiff)).collect();
        workers.push(Worker { modules: group, range: range.clone(), optims: o, steps: st, weights: s.trainer.weights.clone(), device });
    }
    let schedules: &[LrSchedule] = schedules;
    let stop = AtomicBool::new(false);
    let Feed { batches, log, times } = feed;
    let outcomes = std::thread::scope(|scope| {
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
        let last = workers.len() - 1;
        let mut report_tx = Some(report_tx);
        let handles: Vec<_> = workers
            .into_iter()
            .zip(receivers)
            .zip(nexts)
            .enumerate()
            .map(|(w, ((worker, rx), next))| {
                let (reports, stop) = (if w == last { report_tx.take() } else { None }, &stop);
                scope.spawn(move || worker.work(schedules, loss, log, rx, next, reports, stop))
            })
            .collect();
        let mut stepper = PipelineFeed { feed, reports: &report_rx, stop: &stop, device: device_of(0), images: images.clone() };
        batch_loop(batches, None, &mut stepper, bar, times);
        let _ = stepper.feed.send(None);
        let outcomes: Vec<Outcome> = handles.into_iter().map(|h| h.join().expect("a pipeline worker panicked")).collect();
        for (_, logged) in report_rx.iter() {
            show(bar, logged);
        }
        outcomes
    });
    let mut stats = Vec::with_capacity(k_total);
    let mut failure = None;
    for (range, outcome) in groups.iter().zip(outcomes) {
        for k in range.clone() {
            s.trainer.weights.adopt(&outcome.weights, k);
        }
        failure = failure.or_else(|| s.trainer.non_finite(&outcome.reading, range.start));
        stats.extend(outcome.reading.stats.into_iter().zip(outcome.lrs));
        s.trainer.network.modules.extend(outcome.modules.into_iter().map(|m| m.fork(&main_device)));
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(stats),
    }
}
