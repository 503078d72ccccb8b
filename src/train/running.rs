//! Step statistics summed on the device between two logging points, and read back in one transfer for
//! all modules at once (with whatever else the loop keeps there, such as Uzawa's λ). The training loops
//! read only here, every `output.log_every` steps and at the end of an epoch; a non-finite loss is found
//! at the next read, and named by the first step that produced it.

use burn::prelude::*;

use super::step::{EpochStats, StepStats};
use crate::readback;

/// One module's step statistics since the start of an epoch, on the device.
#[derive(Clone, Debug, Default)]
pub struct RunningStats {
    /// Σ `[loss, ce, kinetic, correct]`.
    sums: Option<Tensor<1>>,
    /// The first step (counted from 1) whose loss was not finite, +∞ while there is none.
    first_bad: Option<Tensor<1>>,
    steps: usize,
    count: usize,
}

impl RunningStats {
    /// Adds the statistics of step `step` (counted from 1 in the epoch), with device operations only.
    pub fn add(&mut self, s: StepStats, step: usize) {
        let loss = s.values.clone().slice(0..1);
        // x − x is NaN exactly where x is NaN or ±∞.
        let finite = (loss.clone() - loss.clone()).is_nan().bool_not();
        let candidate = loss.full_like(step as f32).mask_fill(finite, f32::INFINITY);
        self.first_bad = Some(match self.first_bad.take() {
            Some(b) => b.min_pair(candidate),
            None => candidate,
        });
        self.sums = Some(match self.sums.take() {
            Some(t) => t + s.values,
            None => s.values,
        });
        self.steps += 1;
        self.count += s.count;
    }

    pub fn steps(&self) -> usize {
        self.steps
    }
}

/// What one read of several modules' running statistics found.
#[derive(Clone, Debug, Default)]
pub struct Reading {
    /// Per module, in the order given.
    pub stats: Vec<EpochStats>,
    /// The first module (index in the order given) whose loss went non-finite: the step, and its loss sum.
    pub non_finite: Option<(usize, usize, f32)>,
    /// The values of `extra`.
    pub extra: Vec<f32>,
}

/// Reads `running` and `extra` in one device→host transfer (none at all when there is nothing to read).
pub fn read(running: &[RunningStats], extra: Option<Tensor<1>>) -> Reading {
    let mut parts = Vec::new();
    for r in running {
        if let (Some(s), Some(b)) = (&r.sums, &r.first_bad) {
            parts.push(s.clone());
            parts.push(b.clone());
        }
    }
    let extra_len = extra.as_ref().map_or(0, |e| e.dims()[0]);
    parts.extend(extra);
    let values = if parts.is_empty() { Vec::new() } else { readback::read_f32(Tensor::cat(parts, 0)) };
    let mut v = values.as_slice();
    let mut reading = Reading::default();
    for (j, r) in running.iter().enumerate() {
        if r.sums.is_none() {
            reading.stats.push(EpochStats::default());
            continue;
        }
        let (head, rest) = v.split_at(5);
        v = rest;
        reading.stats.push(EpochStats {
            loss_sum: head[0] as f64,
            ce_sum: head[1] as f64,
            kinetic_sum: head[2] as f64,
            correct: head[3].round() as usize,
            count: r.count,
            steps: r.steps,
        });
        if head[4].is_finite() && reading.non_finite.is_none() {
            reading.non_finite = Some((j, head[4] as usize, head[0]));
        }
    }
    debug_assert_eq!(v.len(), extra_len);
    reading.extra = v.to_vec();
    reading
}

/// Whether step `step` (counted from 1) of `total` is a logging point before the epoch's last step (which
/// is read anyway): every `every` steps, never when `every` is 0.
pub fn logs_at(step: usize, every: usize, total: usize) -> bool {
    every > 0 && step % every == 0 && step < total
}
