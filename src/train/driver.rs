//! The driver: runs a mode's schedule (`schedule`), one unit at a time, each unit a pass over the training
//! data through the one batch loop (`batch_loop`) with the stepper its [`Pass`] calls for; then the
//! trained heads' evaluation, their records and the checkpoint. A training mode is only the schedule it
//! builds.
//!
//! This file is also the only one that begins a pass over the training loader (`tests/structure.rs`
//! checks it): the count of passes fixes each one's shuffle and augmentation, so a second place that
//! iterated the loader would make a resumed run differ from an uninterrupted one.

use std::time::Instant;

use indicatif::ProgressBar;

use crate::alloc::PhaseMeter;
use crate::data::Batch;
use crate::error::Result;
use crate::train::batch_loop::{Feed, batch_loop};
use crate::train::end_to_end::EndToEndStepper;
use crate::train::pass::{Optimizers, Pass};
use crate::train::pipelined::pipelined_pass;
use crate::train::schedule::Schedule;
use crate::train::serial::LocalStepper;
use crate::train::session::Session;
use crate::train::step::EpochStats;

/// Runs the units not done before the checkpoint the session resumed from: each unit's pass, the test
/// (and validation) accuracy of the heads it trained, their records, the checkpoint; then the final records.
pub fn run_schedule(s: &mut Session, schedule: Schedule) -> Result<()> {
    let Schedule { mut optimizers, units, reported } = schedule;
    s.record.resume_into(&mut optimizers.optims, &mut optimizers.steps)?;
    let k_total = s.modules();
    for unit in &units {
        if s.record.skip_unit() {
            continue;
        }
        let start = Instant::now();
        let trained = unit.pass.trains(k_total);
        let stats = train_pass(s, &unit.pass, &mut optimizers, &unit.label).map_err(|e| e.in_epoch(unit.epoch))?;
        let accs = s.evaluate(trained.clone());
        let seconds = start.elapsed().as_secs_f64();
        for (k, (st, lr)) in trained.zip(&stats) {
            s.record.write_epoch(&s.config, &s.trainer, (unit.lap, k, unit.epoch), st, *lr, accs[k], seconds)?;
        }
        s.record.end_unit(&s.config, &s.trainer, &optimizers.optims, &optimizers.steps, unit.boundary)?;
    }
    s.record_final(reported)
}

/// One pass over the training data as `pass` says, its progress shown under `label` (none when empty).
/// Returns each trained module's statistics and its last learning rate.
pub fn train_pass(s: &mut Session, pass: &Pass, optims: &mut Optimizers, label: &str) -> Result<Vec<(EpochStats, f64)>> {
    let n_steps = s.steps_per_epoch();
    let log_every = s.config.output.log_every;
    let bar = s.progress(label);
    let meter = PhaseMeter::start();
    // The cache is brought up to date before the pass's loader starts building batches.
    let cached = prepare_prefix(s, pass);
    s.trainer.data_epochs += 1;
    let batches = s.loaders.train.epoch(s.trainer.data_epochs - 1).take(n_steps);
    let result = run_pass(s, pass, cached, optims, Feed { batches, log: (n_steps, log_every), times: None }, &bar);
    bar.finish_and_clear();
    s.trainer.phase_memory = meter.finish();
    result
}

/// The first batch of the next pass over the training data: what `bench step` times steps on (so that the
/// loader is not measured).
pub fn first_batch(s: &mut Session) -> Batch {
    s.trainer.data_epochs += 1;
    s.loaders.train.epoch(s.trainer.data_epochs - 1).next().expect("the loader has a batch")
}

/// Whether a local pass reads the frozen prefix's output from the cache (`train.cache_prefix`), which it
/// then brings up to date; a cache over a module that is about to change is dropped either way.
pub(crate) fn prepare_prefix(s: &mut Session, pass: &Pass) -> bool {
    let Pass::Local(active) = pass else { return false };
    s.trainer.forget_prefix_from(active.start);
    let cached = s.config.train.cache_prefix && active.start > 0;
    if cached {
        s.trainer.update_prefix_cache(active.start, &s.loaders.train, s.config.data.test_batch_size);
    }
    cached
}

/// Runs `pass` over `feed`'s batches: its stepper, the one batch loop, and the stepper's end.
pub fn run_pass<I: Iterator<Item = Batch>>(s: &mut Session, pass: &Pass, cached: bool, optims: &mut Optimizers, feed: Feed<'_, I>, bar: &ProgressBar) -> Result<Vec<(EpochStats, f64)>> {
    let loss = s.loss_spec();
    match pass {
        Pass::EndToEnd => {
            let mut stepper = EndToEndStepper::start(&mut s.trainer, optims, loss.smoothing, feed.log);
            batch_loop(feed.batches, None, &mut stepper, bar, feed.times);
            stepper.finish(&mut s.trainer)
        }
        Pass::Local(active) => {
            let images = s.image_targets();
            let mut stepper = LocalStepper::start(&mut s.trainer, active.clone(), cached, optims, loss, feed.log, images);
            let cache = if cached { s.trainer.prefix_cache.as_ref() } else { None };
            batch_loop(feed.batches, cache, &mut stepper, bar, feed.times);
            stepper.finish(&mut s.trainer)
        }
        Pass::Pipelined => pipelined_pass(s, optims, feed, bar),
    }
}
