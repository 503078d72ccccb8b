//! Multi-lap sequential training: R rounds of a shorter sequential pass (each module ne1 + k·ne2 epochs
//! per lap), so that early modules see the later ones' progress on the next lap. Optimizer state and LR
//! schedules persist across laps; with R = 1 this is exactly sequential training.

use super::schedule::Schedule;
use super::session::Session;

pub fn schedule(s: &Session) -> Schedule {
    super::sequential::laps(s, s.config.train.laps)
}
