//! Multi-lap sequential training: R rounds of a shorter sequential pass (each module ne1 + k·ne2 epochs
//! per lap), so that early modules see the later ones' progress on the next lap. Optimizer state and LR
//! schedules persist across laps; with R = 1 this is exactly sequential training.

use super::sequential::run_laps;
use super::session::Session;
use crate::error::Result;

pub fn run(s: &mut Session) -> Result<()> {
    let laps = s.config.train.laps;
    run_laps(s, laps)
}
