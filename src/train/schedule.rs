//! A training mode is a schedule: an ordered list of units — one pass over the training data of some
//! modules, then their evaluation and records, and a checkpoint when it is time — run by one function,
//! `driver::run_schedule`. The modes differ only in the list they build.

use std::ops::Range;

use super::pass::{Optimizers, Pass};

/// One unit of a schedule: a pass, the lap and epoch its records carry, and whether it ends a module's
/// training (a checkpoint is written there whatever `output.checkpoint_every` says).
#[derive(Clone, Debug)]
pub struct Unit {
    pub pass: Pass,
    pub lap: usize,
    /// The epoch of the trained modules' own training (not the count of passes over the data).
    pub epoch: usize,
    pub label: String,
    pub boundary: bool,
}

pub struct Schedule {
    pub optimizers: Optimizers,
    pub units: Vec<Unit>,
    /// The modules whose heads get a `final` record.
    pub reported: Range<usize>,
}
