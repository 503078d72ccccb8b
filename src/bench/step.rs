//! Train-step throughput: the median time of N timed steps after warm-up, on one fixed batch (so the data
//! loader is not measured), for the step of each training mode.

use std::time::Instant;

use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::LocalModule;
use crate::readback;
use crate::train::end_to_end::e2e_step;
use crate::train::session::Session;
use crate::train::step::{StepStats, chain_steps};

/// What one timed step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepKind {
    /// Backpropagation through the whole network, one optimizer.
    E2e,
    /// Every module takes its local step on the batch (parallel mode's step).
    Parallel,
    /// Module k (from 0) takes its local step on the output of the frozen modules before it (sequential
    /// and multi-lap mode's step while module k trains).
    Sequential(usize),
}

impl StepKind {
    pub fn name(self) -> String {
        match self {
            StepKind::E2e => "e2e".into(),
            StepKind::Parallel => "parallel".into(),
            StepKind::Sequential(k) => format!("sequential module {}", k + 1),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepTiming {
    pub kind: String,
    pub batch: usize,
    /// Seconds of each timed step.
    pub seconds: Vec<f64>,
    pub median_seconds: f64,
    pub images_per_second: f64,
    /// The first warm-up step (on a GPU: kernel compilation and autotuning, unless cached on disk).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_step_seconds: Option<f64>,
    /// GPU kernels compiled during the timed steps (after warm-up), where compilations are counted
    /// (`bench::compilations`, GPU builds).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub compiled_in_timed_steps: Option<u64>,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 }
}

/// Runs `warmup` then `steps` steps of `kind` on the session's first training batch; every step reads its
/// losses back to the host (one read), which also waits for an asynchronous device to finish it.
pub fn time_steps(session: &mut Session, kind: StepKind, warmup: usize, steps: usize) -> Result<StepTiming> {
    crate::threads::on_pool(|| time_steps_here(session, kind, warmup, steps))
}

fn time_steps_here(session: &mut Session, kind: StepKind, warmup: usize, steps: usize) -> Result<StepTiming> {
    let mut runner = StepRunner::new(session, kind)?;
    let mut seconds = Vec::with_capacity(steps);
    let mut first = None;
    let mut compiled_before = None;
    for i in 0..warmup + steps {
        if i == warmup {
            compiled_before = compilations_so_far();
        }
        let start = Instant::now();
        runner.step(session, i)?;
        if i == 0 && warmup > 0 {
            first = Some(start.elapsed().as_secs_f64());
        }
        if i >= warmup {
            seconds.push(start.elapsed().as_secs_f64());
        }
    }
    let compiled_in_timed_steps = compiled_before.zip(compilations_so_far()).map(|(a, b)| b - a);
    let (n, med) = (runner.batch, median(&seconds));
    Ok(StepTiming { kind: kind.name(), batch: n, median_seconds: med, images_per_second: n as f64 / med, seconds, first_step_seconds: first, compiled_in_timed_steps })
}

/// Kernel compilations so far, where they are counted (a GPU build that turned the count on).
fn compilations_so_far() -> Option<u64> {
    #[cfg(any(feature = "vulkan", feature = "wgpu"))]
    if crate::bench::compilations::counting() {
        return Some(crate::bench::compilations::compilations());
    }
    None
}

/// The step of one training mode, repeated on one fixed batch with its own optimizers.
pub struct StepRunner {
    kind: StepKind,
    pub batch: usize,
    x: Tensor<4>,
    y: Tensor<1, Int>,
    optims: Vec<burn::optim::ModuleOptimizer>,
    e2e_optim: burn::optim::ModuleOptimizer,
}

impl StepRunner {
    pub fn new(session: &mut Session, kind: StepKind) -> Result<StepRunner> {
        let k_total = session.modules();
        if let StepKind::Sequential(k) = kind {
            if k >= k_total {
                return Err(Error::config("split.modules", format!("module {} does not exist: the split has {k_total}", k + 1)));
            }
        }
        let batch = session.next_train_epoch().next().expect("the loader has a batch");
        let n = batch.shape[0];
        let x = Tensor::<4>::from_data(TensorData::new(batch.images, batch.shape), &session.infer_device);
        let y = Tensor::<1, Int>::from_data(TensorData::new(batch.labels, [n]), &session.device);
        Ok(StepRunner {
            kind,
            batch: n,
            x,
            y,
            optims: session.optimizers(),
            e2e_optim: crate::train::build_optimizer(&session.config.optim),
        })
    }

    /// One step (`i` counts them, for the error message), ending with its one read of the losses: it waits
    /// for an asynchronous device to finish the step.
    pub fn step(&mut self, session: &mut Session, i: usize) -> Result<()> {
        let smoothing = session.config.train.label_smoothing;
        let lr = session.config.optim.lr;
        let stats: Vec<StepStats> = match self.kind {
            StepKind::E2e => {
                let network = std::mem::replace(&mut session.network, crate::model::Network { modules: Vec::new() });
                let (network, s) = e2e_step(network, &mut self.e2e_optim, self.x.clone().autodiff(), &self.y, smoothing, lr);
                session.network = network;
                vec![s]
            }
            StepKind::Parallel | StepKind::Sequential(_) => {
                let active = match self.kind {
                    StepKind::Sequential(k) => k..k + 1,
                    _ => 0..session.modules(),
                };
                let prefix: Vec<LocalModule> = session.network.modules[..active.start].iter().map(|m| m.valid()).collect();
                let mut x = self.x.clone();
                for m in &prefix {
                    x = m.features(x);
                }
                let training = session.network.take_modules(active.clone());
                let device_weights = session.weights.to_device(active.clone(), &session.infer_device);
                let weights: Vec<_> = active.clone().map(|k| device_weights.weight(k)).collect();
                let lrs = vec![lr; active.len()];
                let (updated, _, s) = chain_steps(training, &mut self.optims[active.clone()], x.autodiff(), &self.y, &weights, smoothing, &lrs);
                session.network.restore_modules(active.start, updated);
                s
            }
        };
        let losses = readback::read_f32(Tensor::cat(stats.into_iter().map(|s| s.values.slice(0..1)).collect(), 0));
        if let Some(&bad) = losses.iter().find(|l| !l.is_finite()) {
            return Err(Error::NonFinite { module: 0, epoch: 0, step: i + 1, value: bad });
        }
        Ok(())
    }
}

/// Throughput of whole passes of `steps` batches, serial parallel mode against the pipelined mode: unlike
/// [`time_steps`], this includes the loader (on its own threads) and, for the pipeline, its fill and drain.
/// One untimed pass of each first warms up.
pub fn time_epochs(session: &mut Session, pipelined: bool, steps: usize) -> Result<StepTiming> {
    let k_total = session.modules();
    session.config.train.max_steps_per_epoch = steps;
    let schedules: Vec<_> = (0..k_total).map(|_| session.schedule(1)).collect();
    let mut optims = session.optimizers();
    let mut counts = vec![0usize; k_total];
    let mut seconds = Vec::new();
    for _ in 0..2 {
        let start = Instant::now();
        if pipelined {
            crate::train::pipelined::pipelined_epoch(session, &mut optims, &schedules, &mut counts, String::new())?;
        } else {
            crate::threads::on_pool(|| session.local_epoch(0..k_total, &mut optims, &schedules, &mut counts, String::new()))?;
        }
        seconds.push(start.elapsed().as_secs_f64());
    }
    let batch = session.config.data.batch_size;
    let per_step = seconds[1] / steps as f64;
    let kind = if pipelined { format!("pipelined ({} workers)", session.config.train.pipeline_workers.min(k_total)) } else { "parallel (serial)".into() };
    Ok(StepTiming {
        kind,
        batch,
        seconds: vec![seconds[1]],
        median_seconds: per_step,
        images_per_second: batch as f64 / per_step,
        first_step_seconds: Some(seconds[0]),
        compiled_in_timed_steps: None,
    })
}
