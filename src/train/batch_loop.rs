//! The one batch loop. Every pass over training batches — each mode's epochs, the pipelined executor,
//! `trgl bench step` — goes through [`batch_loop`]: batch → tensors (or the frozen prefix's cached output),
//! the pass's steps (by a [`Stepper`]: the serial executor, end-to-end backpropagation, the pipeline's
//! feed), progress, and the stop on a non-finite loss.

use std::time::Instant;

use burn::prelude::*;
use indicatif::ProgressBar;

use crate::data::{Batch, Normalize};
use crate::local_loss::Targets;
use crate::train::prefix_cache::PrefixCache;
use crate::train::step::EpochStats;

/// What a pass does with each batch: its steps. It reads from the device only at logging points.
pub trait Stepper {
    /// Where the loop puts a batch's images and its labels.
    fn devices(&self) -> (Device, Device);

    /// The normalisation to undo when the local loss compares with the input images (InfoPro); `None`
    /// when it needs only the labels.
    fn images(&self) -> Option<&Normalize> {
        None
    }

    /// Takes batch `i`'s steps. Returns the batches finished since the last call (one each in a serial
    /// pass), each with the last module's running statistics where it was a logging point; `None` when
    /// the pass must stop (a non-finite loss: the running statistics keep its first step, so the
    /// stepper's final read names it).
    fn step(&mut self, x: Tensor<4>, y: Targets, i: usize) -> Option<Vec<Option<EpochStats>>>;
}

/// The one batch loop: each batch becomes tensors on the stepper's devices — the images, or with `cache`
/// the frozen prefix's output for those images — and goes to `stepper`. With `times`, each step's wall
/// time is pushed there (a stepper that reads at every step makes that the step's whole time).
pub fn batch_loop(batches: impl Iterator<Item = Batch>, cache: Option<&PrefixCache>, stepper: &mut impl Stepper, bar: &ProgressBar, mut times: Option<&mut Vec<f64>>) {
    let (x_device, y_device) = stepper.devices();
    // Nothing here reads from the device: on an asynchronous device the host queues batch t+1's upload
    // while the device still runs batch t.
    for (i, batch) in batches.enumerate() {
        let [_, c, h, w] = batch.shape;
        let images = stepper.images().map(|norm| Tensor::<4>::from_data(TensorData::new(norm.restore(&batch.images, [c, h, w]), batch.shape), &y_device));
        let x = match cache {
            Some(c) => c.gather(&batch.ids, &x_device),
            None => Tensor::<4>::from_data(TensorData::new(batch.images, batch.shape), &x_device),
        };
        let labels = Tensor::<1, Int>::from_data(TensorData::new(batch.labels, [batch.shape[0]]), &y_device);
        let y = Targets { labels, images };
        let start = Instant::now();
        let finished = stepper.step(x, y, i);
        if let Some(t) = times.as_deref_mut() {
            t.push(start.elapsed().as_secs_f64());
        }
        let Some(finished) = finished else { break };
        for logged in finished {
            show(bar, logged);
        }
    }
}

/// One finished batch on the progress bar, with the last module's running statistics where it was a
/// logging point.
pub fn show(bar: &ProgressBar, logged: Option<EpochStats>) {
    if let Some(s) = logged {
        bar.set_message(format!("loss {:.3} acc {:5.1}%", s.loss(), 100.0 * s.accuracy()));
    }
    bar.inc(1);
}

/// Where a pass's batches come from and how often it reads its statistics back.
pub struct Feed<'a, I> {
    pub batches: I,
    /// Steps in the pass and `output.log_every` (a logging point every that many steps, and at the end).
    pub log: (usize, usize),
    pub times: Option<&'a mut Vec<f64>>,
}

