//! The epoch loop every mode shares: a frozen prefix in inference mode, then the active modules, each
//! taking its local step on its detached input.

use std::ops::Range;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use super::Session;
use crate::alloc::PhaseMeter;
use crate::data::LoaderSpec;
use crate::error::{Error, Result};
use crate::model::LocalModule;
use crate::train::optim::LrSchedule;
use crate::train::prefix_cache::PrefixCache;
use crate::train::running::{Reading, RunningStats, logs_at, read};
use crate::train::step::{EpochStats, chain_steps};

impl Session {
    /// One pass over the training data: each batch runs through the frozen modules `..active.start` in
    /// inference mode, then through `active`, each module taking a local step on its detached input.
    /// `steps[k]` counts module k's updates (its LR schedule's clock).
    pub fn local_epoch(
        &mut self,
        active: Range<usize>,
        optims: &mut [ModuleOptimizer],
        schedules: &[LrSchedule],
        steps: &mut [usize],
        label: String,
    ) -> Result<Vec<(EpochStats, f64)>> {
        let meter = PhaseMeter::start();
        let cached = self.config.train.cache_prefix && active.start > 0;
        if self.prefix_cache.as_ref().is_some_and(|c| c.upto > active.start) {
            // A module inside the cached prefix is about to change.
            self.prefix_cache = None;
        }
        if cached {
            self.update_prefix_cache(active.start);
        }
        let prefix: Vec<LocalModule> =
            if cached { Vec::new() } else { self.network.modules[..active.start].iter().map(|m| m.valid()).collect() };
        let mut training = self.network.take_modules(active.clone());
        let bar = self.progress(label);
        let smoothing = self.config.train.label_smoothing;
        let (n_steps, log_every) = (self.steps_per_epoch(), self.config.output.log_every);
        let mut running = vec![RunningStats::default(); active.len()];
        let mut weights = self.weights.to_device(active.clone(), &self.infer_device);
        let mut last_lrs = vec![0.0; active.len()];
        let batches = self.next_train_epoch();
        let mut failure = None;
        // Nothing in this loop reads from the device but `running::read` at logging points: on an
        // asynchronous device the host queues batch t+1's upload while the device still runs batch t.
        for (i, batch) in batches.take(n_steps).enumerate() {
            let mut x = match &self.prefix_cache {
                Some(cache) if cached => cache.gather(&batch.ids, &self.infer_device),
                _ => Tensor::<4>::from_data(TensorData::new(batch.images, batch.shape), &self.infer_device),
            };
            for m in &prefix {
                x = m.features(x);
            }
            let y = Tensor::<1, Int>::from_data(TensorData::new(batch.labels, [batch.shape[0]]), &self.device);
            let lrs: Vec<f64> = active.clone().map(|k| schedules[k].lr(steps[k])).collect();
            let energy: Vec<_> = active.clone().map(|k| weights.weight(k)).collect();
            let (updated, _, step_stats) = chain_steps(training, &mut optims[active.clone()], x.autodiff(), &y, &energy, smoothing, &lrs);
            training = updated;
            for (j, (k, s)) in active.clone().zip(step_stats).enumerate() {
                steps[k] += 1;
                weights.observe(k, s.ce());
                running[j].add(s, i + 1);
            }
            last_lrs = lrs;
            bar.inc(1);
            if logs_at(i + 1, log_every, n_steps) {
                let reading = read(&running, weights.state());
                weights.store(&reading.extra, &mut self.weights);
                if let Some(e) = self.non_finite(&reading, active.start) {
                    failure = Some(e);
                    break;
                }
                let last = reading.stats.last().expect("a module trains");
                bar.set_message(format!("loss {:.3} acc {:5.1}%", last.loss(), 100.0 * last.accuracy()));
            }
        }
        let reading = read(&running, weights.state());
        weights.store(&reading.extra, &mut self.weights);
        failure = failure.or_else(|| self.non_finite(&reading, active.start));
        bar.finish_and_clear();
        self.network.restore_modules(active.start, training);
        drop(prefix);
        self.phase_memory = meter.finish();
        match failure {
            Some(e) => Err(e),
            None => Ok(reading.stats.into_iter().zip(last_lrs).collect()),
        }
    }

    /// The error of a reading that found a non-finite loss; `first` is the module of the reading's index 0.
    pub(crate) fn non_finite(&self, reading: &Reading, first: usize) -> Option<Error> {
        reading.non_finite.map(|(j, step, value)| Error::NonFinite { module: first + j + 1, epoch: self.data_epochs as usize, step, value })
    }

    /// Brings the prefix cache to the output of the first `upto` modules (inference copies).
    fn update_prefix_cache(&mut self, upto: usize) {
        if self.prefix_cache.is_none() {
            let spec = LoaderSpec { shuffle: false, drop_last: false, augment: None, batch_size: self.config.data.test_batch_size, ..self.train.spec().clone() };
            let first = self.network.modules[0].valid();
            self.prefix_cache = Some(PrefixCache::build(&first, &self.train.with_spec(spec), &self.infer_device));
        }
        let cache = self.prefix_cache.as_mut().expect("built above");
        while cache.upto < upto {
            let module = self.network.modules[cache.upto].valid();
            cache.extend(&module, self.config.data.test_batch_size, &self.infer_device);
        }
    }
}
