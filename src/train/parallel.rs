//! Parallel (simultaneous) module-wise training: every batch flows through all modules; each takes its
//! local step on its detached input, so no gradient crosses a module boundary. Module k+1's input is
//! module k's output *before* module k's update on that batch (the paper's code does the same).

use super::pass::{Optimizers, Pass};
use super::schedule::{Schedule, Unit};
use super::session::Session;

pub fn schedule(s: &Session) -> Schedule {
    epochs(s, Pass::Local(0..s.modules()))
}

/// `train.epochs` passes of every module, each done by `pass` (serial here, pipelined in `pipelined`).
pub fn epochs(s: &Session, pass: Pass) -> Schedule {
    let epochs = s.config.train.epochs;
    let units = (1..=epochs).map(|e| Unit { pass: pass.clone(), lap: 1, epoch: e, label: format!("epoch {e}"), boundary: false }).collect();
    Schedule { optimizers: Optimizers::per_module(s, |_| epochs), units, reported: 0..s.modules() }
}
