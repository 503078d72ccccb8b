//! The `[optim]` and `[lr_schedule]` sections of a config: each local module's optimizer and the
//! learning-rate schedule it follows.

use serde::{Deserialize, Serialize};

use crate::checks::finite_nonneg;
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimKind {
    /// SGD with momentum (dampening 0, as PyTorch — burn's default is 0.1), optional Nesterov, and L2
    /// weight decay added to the gradient.
    Sgd,
    /// AdamW with decoupled weight decay.
    Adamw,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LrScheduleKind {
    Constant,
    /// Linear warm-up, then cosine decay to `min_lr` over the remaining steps.
    Cosine,
    /// Linear warm-up, then × gamma at each milestone epoch.
    Multistep,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimConfig {
    pub kind: OptimKind,
    pub lr: f64,
    pub momentum: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    /// AdamW's β1, β2 and ε.
    pub betas: [f64; 2],
    pub eps: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LrScheduleConfig {
    pub kind: LrScheduleKind,
    /// Linear warm-up from 0, in epochs (cosine and multistep).
    pub warmup_epochs: usize,
    /// Multistep: epochs at which the rate is multiplied by `gamma`.
    pub milestones: Vec<usize>,
    pub gamma: f64,
    /// Cosine: the rate reached at the end.
    pub min_lr: f64,
}

impl Default for OptimConfig {
    fn default() -> Self {
        OptimConfig { kind: OptimKind::Sgd, lr: 0.05, momentum: 0.9, nesterov: false, weight_decay: 2e-4, betas: [0.9, 0.999], eps: 1e-8 }
    }
}

impl Default for LrScheduleConfig {
    fn default() -> Self {
        LrScheduleConfig { kind: LrScheduleKind::Constant, warmup_epochs: 0, milestones: Vec::new(), gamma: 0.1, min_lr: 0.0 }
    }
}

impl OptimConfig {
    /// Checks the section; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        let o = self;
        if !(o.lr.is_finite() && o.lr > 0.0) {
            return Err(Error::config("optim.lr", format!("must be a finite number > 0, got {}", o.lr)));
        }
        if !(0.0..1.0).contains(&o.momentum) {
            return Err(Error::config("optim.momentum", format!("must be in [0, 1), got {}", o.momentum)));
        }
        if o.nesterov && o.momentum == 0.0 {
            return Err(Error::config("optim.nesterov", "Nesterov needs optim.momentum > 0"));
        }
        finite_nonneg("optim.weight_decay", o.weight_decay)?;
        for (i, b) in o.betas.iter().enumerate() {
            if !(0.0..1.0).contains(b) {
                return Err(Error::config(format!("optim.betas[{i}]"), format!("must be in [0, 1), got {b}")));
            }
        }
        if !(o.eps.is_finite() && o.eps > 0.0) {
            return Err(Error::config("optim.eps", "must be a finite number > 0"));
        }
        Ok(())
    }
}

impl LrScheduleConfig {
    /// Checks the section's own fields (that `min_lr` stays under `optim.lr` is the config's check).
    pub fn validate(&self) -> Result<()> {
        let s = self;
        if s.milestones.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::config("lr_schedule.milestones", "must be strictly increasing"));
        }
        if !(s.gamma.is_finite() && s.gamma > 0.0) {
            return Err(Error::config("lr_schedule.gamma", "must be a finite number > 0"));
        }
        finite_nonneg("lr_schedule.min_lr", s.min_lr)?;
        Ok(())
    }
}
