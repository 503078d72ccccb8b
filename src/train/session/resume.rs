//! A session's place in its run, for checkpoints: which units are done, what a resumed checkpoint brings
//! back, and the wall-clock time spent over every process that worked on the run.

use std::time::Instant;

use burn::optim::ModuleOptimizer;

use super::Session;
use crate::error::{Error, Result};
use crate::model::Network;
use crate::report::MetricsWriter;
use crate::train::checkpoint;

impl Session {
    /// Continues from a checkpoint: its network, metrics, τ state and position.
    pub fn restore(&mut self, state: checkpoint::State, network: Network, optims: Vec<ModuleOptimizer>, metrics: MetricsWriter) {
        self.network = network;
        self.metrics = metrics;
        self.weights = state.weights;
        self.data_epochs = state.data_epochs;
        self.last_records = state.last_records;
        self.resumed_units = state.units_done;
        self.resumed_optims = Some((optims, state.steps));
        self.seconds_before = state.seconds;
        self.started = Instant::now();
    }

    /// Wall-clock seconds spent on the run: this process's, and those of earlier processes up to the
    /// checkpoint it resumed from (the work a killed process did after its last checkpoint is done again,
    /// and counted once, here).
    pub fn seconds(&self) -> f64 {
        self.seconds_before + self.started.elapsed().as_secs_f64()
    }

    /// The mode's optimizers and step counters, replaced by a resumed checkpoint's when there is one.
    pub fn resume_into(&mut self, optims: &mut Vec<ModuleOptimizer>, steps: &mut [usize]) -> Result<()> {
        if let Some((o, st)) = self.resumed_optims.take() {
            if o.len() != optims.len() || st.len() != steps.len() {
                return Err(Error::config("train.mode", "the checkpoint's optimizers do not match this training mode"));
            }
            *optims = o;
            steps.copy_from_slice(&st);
        }
        Ok(())
    }

    /// Whether the next unit was done before the checkpoint this run resumed from (then it is skipped).
    pub fn skip_unit(&mut self) -> bool {
        if self.cursor < self.resumed_units {
            self.cursor += 1;
            true
        } else {
            false
        }
    }

    /// Marks a unit done, and checkpoints when it is time (`boundary`: the end of a module's training).
    pub fn end_unit(&mut self, optims: &[ModuleOptimizer], steps: &[usize], boundary: bool) -> Result<()> {
        self.cursor += 1;
        let every = self.config.output.checkpoint_every;
        let Some(dir) = self.run_dir.clone() else { return Ok(()) };
        if every == 0 || !(boundary || self.cursor % every == 0) {
            return Ok(());
        }
        let state = checkpoint::State {
            fingerprint: checkpoint::fingerprint(&self.config),
            units_done: self.cursor,
            data_epochs: self.data_epochs,
            steps: steps.to_vec(),
            optimizers: optims.len(),
            weights: self.weights.clone(),
            last_records: self.last_records.clone(),
            metrics_records: self.metrics.records.len(),
            config: Some(self.config.to_toml()),
            seconds: self.seconds(),
        };
        checkpoint::save(&dir, &self.network, optims, &state)
    }
}
