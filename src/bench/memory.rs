//! Peak host memory of each training mode's step at the same batch, side by side with end-to-end.
//!
//! Each phase counts what training allocates above what was live before it (weights and data are not
//! counted; activations kept for backward, gradients, optimizer state and the batch are). Sequential and
//! multi-lap modes take the same step — module k on the frozen modules before it — so both rows are the
//! largest of the per-module phases, measured once.

use serde::Serialize;

use crate::alloc::{PhaseMemory, measure};
use super::step::{StepKind, time_steps};
use crate::error::Result;
use crate::train::session::Session;

#[derive(Clone, Debug, Serialize)]
pub struct MemoryRow {
    pub mode: String,
    pub peak_alloc_bytes: Option<usize>,
    /// Sequential/multi-lap: each module's phase.
    pub per_module: Vec<PhaseMemory>,
    pub ratio_to_e2e: Option<f64>,
}

/// Measures `steps` steps of each mode (2 suffice: the first allocates the optimizer state, the second
/// runs with it in place).
pub fn memory_table(session: &mut Session, steps: usize) -> Result<Vec<MemoryRow>> {
    let phase = |session: &mut Session, kind: StepKind| -> Result<PhaseMemory> {
        let (r, mem) = measure(|| time_steps(session, kind, 0, steps));
        r.map(|_| mem)
    };
    let e2e = phase(session, StepKind::E2e)?;
    let per_module = (0..session.modules()).map(|k| phase(session, StepKind::Sequential(k))).collect::<Result<Vec<_>>>()?;
    let parallel = phase(session, StepKind::Parallel)?;
    let seq_peak = per_module.iter().filter_map(|m| m.peak_alloc_bytes).max();
    let ratio = |p: Option<usize>| Some(p? as f64 / e2e.peak_alloc_bytes? as f64);
    let row = |mode: &str, peak: Option<usize>, per_module: Vec<PhaseMemory>| MemoryRow { mode: mode.into(), peak_alloc_bytes: peak, per_module, ratio_to_e2e: ratio(peak) };
    Ok(vec![
        row("e2e", e2e.peak_alloc_bytes, Vec::new()),
        row("sequential", seq_peak, per_module.clone()),
        row("multilap", seq_peak, per_module),
        row("parallel", parallel.peak_alloc_bytes, Vec::new()),
    ])
}
