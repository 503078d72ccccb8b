//! Where a GPU training step's time goes, kernel by kernel. cubecl's launch observer times every kernel
//! of N steps, each read back before the next launches, so that their sum is the device's busy time
//! per step; beside it, the same step's unprofiled wall time (median, after warm-up). What the kernels
//! do not cover is the device waiting for the host: launch overhead, allocation, the one read per
//! timed step. The launches per step are counted without timing, which is free.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cubecl_runtime::config::{TypeNameFormatLevel, type_name_format};
use cubecl_runtime::logging::{Duration, LaunchObservation, LaunchObserver, TimingMethod, TimingRequest};
use serde::{Deserialize, Serialize};

use super::step::{StepKind, StepRunner, time_steps};
use crate::error::Result;
use crate::train::session::Session;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KernelRow {
    pub kernel: String,
    pub launches_per_step: f64,
    pub ms_per_step: f64,
    /// Share of the unprofiled step's wall time.
    pub share_of_step: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KernelProfile {
    pub kind: String,
    pub batch: usize,
    /// Median wall time of an unprofiled step.
    pub step_ms: f64,
    /// Sum of the kernels' own times per step.
    pub kernel_ms: f64,
    pub launches_per_step: f64,
    /// Kernels timed on the device's clock rather than as host wall time around a blocking submit.
    pub device_timed_fraction: f64,
    pub rows: Vec<KernelRow>,
}

#[derive(Default)]
struct Tally {
    /// kernel → (launches, seconds)
    per_kernel: Mutex<HashMap<String, (usize, f64)>>,
    device_timed: Mutex<(usize, usize)>,
    time_them: bool,
}

impl LaunchObserver for Tally {
    fn launched(&self, kernel: &'static str) {
        if !self.time_them {
            let name = type_name_format(kernel, TypeNameFormatLevel::Balanced);
            self.per_kernel.lock().unwrap_or_else(|e| e.into_inner()).entry(name).or_default().0 += 1;
        }
    }

    fn timing(&self) -> TimingRequest {
        if self.time_them { TimingRequest::Resolved } else { TimingRequest::None }
    }

    fn timed(&self, kernel: &'static str, duration: Duration, method: TimingMethod) {
        let name = type_name_format(kernel, TypeNameFormatLevel::Balanced);
        let mut m = self.per_kernel.lock().unwrap_or_else(|e| e.into_inner());
        let e = m.entry(name).or_default();
        e.0 += 1;
        e.1 += duration.as_secs_f64();
        let mut d = self.device_timed.lock().unwrap_or_else(|e| e.into_inner());
        d.1 += 1;
        if matches!(method, TimingMethod::Device) {
            d.0 += 1;
        }
    }
}

/// Profiles `steps` steps of `kind` after `warmup`; the `top` largest kernels get a row each, the rest one
/// row together.
pub fn profile_kernels(session: &mut Session, kind: StepKind, warmup: usize, steps: usize, top: usize) -> Result<KernelProfile> {
    let timing = time_steps(session, kind, warmup, steps)?;
    crate::threads::on_pool(|| {
        let mut runner = StepRunner::new(session, kind)?;
        runner.steps(session, warmup)?;
        let counted = Arc::new(Tally::default());
        {
            let _watch = LaunchObservation::new(counted.clone());
            runner.steps(session, steps)?;
        }
        let timed = Arc::new(Tally { time_them: true, ..Tally::default() });
        {
            let _watch = LaunchObservation::new(timed.clone());
            runner.steps(session, steps)?;
        }
        let step_ms = timing.median_seconds * 1e3;
        let launches: usize = counted.per_kernel.lock().unwrap_or_else(|e| e.into_inner()).values().map(|v| v.0).sum();
        let mut rows: Vec<KernelRow> = timed
            .per_kernel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, &(n, s))| KernelRow {
                kernel: k.clone(),
                launches_per_step: n as f64 / steps as f64,
                ms_per_step: s * 1e3 / steps as f64,
                share_of_step: s * 1e3 / steps as f64 / step_ms,
            })
            .collect();
        rows.sort_by(|a, b| b.ms_per_step.total_cmp(&a.ms_per_step));
        let kernel_ms: f64 = rows.iter().map(|r| r.ms_per_step).sum();
        if rows.len() > top {
            let rest = rows.split_off(top);
            rows.push(KernelRow {
                kernel: format!("({} other kernels)", rest.len()),
                launches_per_step: rest.iter().map(|r| r.launches_per_step).sum(),
                ms_per_step: rest.iter().map(|r| r.ms_per_step).sum(),
                share_of_step: rest.iter().map(|r| r.share_of_step).sum(),
            });
        }
        let (device, all) = *timed.device_timed.lock().unwrap_or_else(|e| e.into_inner());
        Ok(KernelProfile {
            kind: kind.name(),
            batch: runner.batch,
            step_ms,
            kernel_ms,
            launches_per_step: launches as f64 / steps as f64,
            device_timed_fraction: device as f64 / all.max(1) as f64,
            rows,
        })
    })
}

impl KernelProfile {
    /// The table `trgl bench kernels` prints.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} step, batch {}: {:.2} ms unprofiled ({:.1} img/s), {:.1} kernel launches; kernels' own time {:.2} ms = {:.1} % of the step ({:.0} % timed on the device's clock); the rest, {:.2} ms, is the device waiting for the host\n",
            self.kind,
            self.batch,
            self.step_ms,
            self.batch as f64 / self.step_ms * 1e3,
            self.launches_per_step,
            self.kernel_ms,
            100.0 * self.kernel_ms / self.step_ms,
            100.0 * self.device_timed_fraction,
            (self.step_ms - self.kernel_ms).max(0.0),
        );
        out += &format!("{:>9} {:>7} {:>9}  kernel\n", "ms/step", "share", "launches");
        for r in &self.rows {
            out += &format!("{:>9.3} {:>6.1}% {:>9.1}  {}\n", r.ms_per_step, 100.0 * r.share_of_step, r.launches_per_step, r.kernel);
        }
        out
    }
}
