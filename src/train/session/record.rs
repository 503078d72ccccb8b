//! Evaluating the modules' heads and writing their records to the run's metrics.

use std::ops::Range;
use std::time::Instant;

use burn::module::Module;

use super::Session;
use crate::error::Result;
use crate::model::LocalModule;
use crate::report::Record;
use crate::train::eval::evaluate;
use crate::train::step::EpochStats;

impl Session {
    /// Test accuracy of the heads of the modules in `which` (inference copies of the current weights); their
    /// validation accuracy too, where there is a validation split, kept for their next records.
    pub fn evaluate(&mut self, which: Range<usize>) -> Vec<Option<f64>> {
        let modules: Vec<LocalModule> = self.network.modules[..which.end].iter().map(|m| m.valid()).collect();
        let want: Vec<bool> = (0..which.end).map(|k| which.contains(&k)).collect();
        if let Some(val) = &self.val {
            for (k, a) in evaluate(&modules, &want, val, &self.infer_device).into_iter().enumerate() {
                if a.is_some() {
                    self.last_val[k] = a;
                }
            }
        }
        evaluate(&modules, &want, &self.test, &self.infer_device)
    }

    /// Writes module k's record of one training epoch.
    #[allow(clippy::too_many_arguments)]
    pub fn record_epoch(&mut self, lap: usize, k: usize, epoch: usize, stats: &EpochStats, lr: f64, test_acc: Option<f64>, seconds: f64) -> Result<()> {
        let tau = self.weights.tau(k);
        let record = Record {
            mode: self.config.train.mode.name().into(),
            phase: "train".into(),
            lap,
            module: k + 1,
            epoch,
            lr,
            train_loss: stats.loss(),
            ce: stats.ce(),
            kinetic_energy: stats.kinetic(),
            tau: tau.is_finite().then_some(tau),
            train_acc: stats.accuracy(),
            test_acc,
            val_acc: self.last_val[k].take(),
            steps: stats.steps,
            seconds: self.config.output.timings.then_some(seconds),
            // Measurements, like the seconds: off with `output.timings`, so that metrics files can compare byte for byte.
            peak_alloc_bytes: self.phase_memory.peak_alloc_bytes.filter(|_| self.config.output.timings),
            peak_rss_bytes: self.phase_memory.peak_rss_bytes.filter(|_| self.config.output.timings),
            events: Vec::new(),
        };
        self.last_records[k] = Some(record.clone());
        self.metrics.write(record)
    }

    /// Evaluates the heads of `which` once training is over and writes their `final` records.
    pub fn record_final(&mut self, which: Range<usize>) -> Result<()> {
        let start = Instant::now();
        let accs = self.evaluate(which.clone());
        let seconds = start.elapsed().as_secs_f64();
        for k in which {
            if let Some(mut r) = self.last_records[k].clone() {
                r.phase = "final".into();
                r.test_acc = accs[k];
                r.val_acc = self.last_val[k].take();
                r.seconds = self.config.output.timings.then_some(seconds);
                self.metrics.write(r)?;
            }
        }
        Ok(())
    }
}
