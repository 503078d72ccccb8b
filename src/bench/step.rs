//! Train-step throughput: the median time of N timed steps after warm-up, on one fixed batch (so the data
//! loader is not measured), for the step of each training mode — the steps training takes, through the
//! same batch loop (`train::driver`).

use std::time::Instant;

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::data::Batch;
use crate::error::{Error, Result};
use crate::train::batch_loop::Feed;
use crate::train::driver::{first_batch, run_pass, train_pass};
use crate::train::pass::{Optimizers, Pass};
use crate::train::session::Session;

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

/// Runs `warmup` then `steps` steps of `kind` on the session's first training batch, through the one batch
/// loop; every step is a logging point (one read of its statistics), which also waits for an asynchronous
/// device to finish it.
pub fn time_steps(session: &mut Session, kind: StepKind, warmup: usize, steps: usize) -> Result<StepTiming> {
    crate::threads::on_pool(|| time_steps_here(session, kind, warmup, steps))
}

fn time_steps_here(session: &mut Session, kind: StepKind, warmup: usize, steps: usize) -> Result<StepTiming> {
    let mut runner = StepRunner::new(session, kind)?;
    let first = runner.steps(session, warmup)?.first().copied();
    let compiled_before = compilations_so_far();
    let seconds = runner.steps(session, steps)?;
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

/// The pass of one training mode, repeated on one fixed batch with its own optimizers. The frozen
/// prefix of a sequential step is computed, never cached.
pub struct StepRunner {
    pass: Pass,
    pub batch: usize,
    source: Batch,
    optims: Optimizers,
}

impl StepRunner {
    pub fn new(session: &mut Session, kind: StepKind) -> Result<StepRunner> {
        let k_total = session.modules();
        let (pass, optims) = match kind {
            StepKind::E2e => (Pass::EndToEnd, Optimizers::whole_network(session, 1)),
            StepKind::Parallel => (Pass::Local(0..k_total), Optimizers::per_module(session, |_| 1)),
            StepKind::Sequential(k) if k < k_total => (Pass::Local(k..k + 1), Optimizers::per_module(session, |_| 1)),
            StepKind::Sequential(k) => return Err(Error::config("split.modules", format!("module {} does not exist: the split has {k_total}", k + 1))),
        };
        let source = first_batch(session);
        Ok(StepRunner { pass, batch: source.shape[0], source, optims })
    }

    /// `n` steps through the one batch loop, each read back; the seconds of each.
    pub fn steps(&mut self, session: &mut Session, n: usize) -> Result<Vec<f64>> {
        let mut times = Vec::with_capacity(n);
        let feed = Feed { batches: std::iter::repeat_n(self.source.clone(), n), log: (usize::MAX, 1), times: Some(&mut times) };
        run_pass(session, &self.pass, false, &mut self.optims, feed, &ProgressBar::hidden())?;
        Ok(times)
    }
}

/// Throughput of whole passes of `steps` batches, serial parallel mode against the pipelined mode: unlike
/// [`time_steps`], this includes the loader (on its own threads) and, for the pipeline, its fill and drain.
/// One untimed pass of each first warms up.
pub fn time_epochs(session: &mut Session, pipelined: bool, steps: usize) -> Result<StepTiming> {
    let k_total = session.modules();
    session.config.train.max_steps_per_epoch = steps;
    let mut optims = Optimizers::per_module(session, |_| 1);
    let pass = if pipelined { Pass::Pipelined } else { Pass::Local(0..k_total) };
    let mut seconds = Vec::new();
    for _ in 0..2 {
        let start = Instant::now();
        if pipelined {
            train_pass(session, &pass, &mut optims, "")?;
        } else {
            crate::threads::on_pool(|| train_pass(session, &pass, &mut optims, ""))?;
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
