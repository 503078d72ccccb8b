//! The `[train]` and `[output]` sections of a config: the training mode and its schedule, and what a run
//! writes where.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::checks::positive;
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    E2e,
    Sequential,
    Multilap,
    Parallel,
    Pipelined,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::E2e => "e2e",
            Mode::Sequential => "sequential",
            Mode::Multilap => "multilap",
            Mode::Parallel => "parallel",
            Mode::Pipelined => "pipelined",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub mode: Mode,
    /// Epochs of `e2e` and `parallel`.
    pub epochs: usize,
    /// `sequential`/`multilap`: module k (from 0) trains ne1 + k·ne2 epochs (per lap).
    pub ne1: usize,
    pub ne2: usize,
    /// `multilap`: rounds R of the sequential pass.
    pub laps: usize,
    /// Cap on the steps of one epoch (0 = the whole training set); for quick runs and tests.
    pub max_steps_per_epoch: usize,
    pub label_smoothing: f64,
    /// Sequential/multi-lap: keep the frozen prefix's output for the whole training set instead of running
    /// the prefix on every batch (see `train::prefix_cache`). Needs augmentation off.
    pub cache_prefix: bool,
    /// `pipelined`: worker threads, each training a contiguous group of modules (capped at K). With a device
    /// list (`device = "vulkan:0,vulkan:1"`), worker w runs on device w mod (list length).
    pub pipeline_workers: usize,
    /// `pipelined`: batches that may wait between two workers.
    pub pipeline_queue: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Run directory: resolved config, metrics.jsonl, summary.
    pub dir: PathBuf,
    /// Write measurements (wall-clock seconds, peak memory) into the metrics (off: the file is byte-identical
    /// between runs of a seed).
    pub timings: bool,
    pub progress: bool,
    /// Write a checkpoint (see `train::checkpoint`) every N units — an epoch of a module, or of all modules
    /// in e2e/parallel modes — and at the end of every module in sequential modes; 0 = never.
    pub checkpoint_every: usize,
    /// Read the training statistics back from the device every N steps (progress line, early stop on a
    /// non-finite loss); 0 = once per epoch. Steps between two reads never wait for the device.
    pub log_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig { mode: Mode::Sequential, epochs: 10, ne1: 2, ne2: 0, laps: 2, max_steps_per_epoch: 0, label_smoothing: 0.1, cache_prefix: false, pipeline_workers: 2, pipeline_queue: 1 }
    }
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig { dir: PathBuf::from("runs/latest"), timings: true, progress: true, checkpoint_every: 1, log_every: 20 }
    }
}

impl TrainConfig {
    /// Checks the pipelined mode's fields (the config checks them first, before the other sections).
    pub fn validate_pipeline(&self) -> Result<()> {
        positive("train.pipeline_workers", self.pipeline_workers)?;
        positive("train.pipeline_queue", self.pipeline_queue)?;
        Ok(())
    }

    /// Checks the schedule's fields; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        let t = self;
        match t.mode {
            Mode::E2e | Mode::Parallel | Mode::Pipelined => positive("train.epochs", t.epochs)?,
            Mode::Sequential | Mode::Multilap => {
                if t.ne1 == 0 && t.ne2 == 0 {
                    return Err(Error::config("train.ne1", "ne1 and ne2 are both 0: no module would train"));
                }
                if t.ne1 == 0 {
                    return Err(Error::config("train.ne1", "must be at least 1: module 1 would not train"));
                }
            }
        }
        if t.mode == Mode::Multilap {
            positive("train.laps", t.laps)?;
        }
        if !(0.0..1.0).contains(&t.label_smoothing) {
            return Err(Error::config("train.label_smoothing", format!("must be in [0, 1), got {}", t.label_smoothing)));
        }
        Ok(())
    }
}

impl OutputConfig {
    /// Checks the section; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        if self.dir.as_os_str().is_empty() {
            return Err(Error::config("output.dir", "must name a directory"));
        }
        Ok(())
    }
}
