//! What one pass over the training data trains ([`Pass`]) and the optimizers it updates ([`Optimizers`]).

use std::ops::Range;

use burn::optim::ModuleOptimizer;

use crate::train::optim::{LrSchedule, build_optimizer};
use crate::train::session::Session;

/// What one pass over the training data trains, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Backpropagation through the whole network on its own (last) head, one optimizer.
    EndToEnd,
    /// The modules of the range take their local steps on this thread; the modules before it run frozen.
    Local(Range<usize>),
    /// Every module takes its local steps, in `train.pipeline_workers` threads joined by queues.
    Pipelined,
}

impl Pass {
    /// The modules whose heads the pass trains: the order of its statistics.
    pub fn trains(&self, modules: usize) -> Range<usize> {
        match self {
            Pass::EndToEnd => modules - 1..modules,
            Pass::Local(active) => active.clone(),
            Pass::Pipelined => 0..modules,
        }
    }
}

/// A run's optimizers, each with its LR schedule and its clock (updates so far): one per module, or one
/// over the whole network (end-to-end).
pub struct Optimizers {
    pub optims: Vec<ModuleOptimizer>,
    pub schedules: Vec<LrSchedule>,
    pub steps: Vec<usize>,
}

impl Optimizers {
    /// One optimizer per module, module k's LR schedule spanning `epochs(k)` passes.
    pub fn per_module(s: &Session, epochs: impl Fn(usize) -> usize) -> Optimizers {
        let k = s.modules();
        Optimizers {
            optims: (0..k).map(|_| build_optimizer(&s.config.optim)).collect(),
            schedules: (0..k).map(|m| s.schedule(epochs(m))).collect(),
            steps: vec![0; k],
        }
    }

    /// One optimizer over the whole network, its LR schedule spanning `epochs` passes.
    pub fn whole_network(s: &Session, epochs: usize) -> Optimizers {
        Optimizers { optims: vec![build_optimizer(&s.config.optim)], schedules: vec![s.schedule(epochs)], steps: vec![0] }
    }

    /// The learning rate of optimizer `i` at its next update.
    pub fn lr(&self, i: usize) -> f64 {
        self.schedules[i].lr(self.steps[i])
    }
}

