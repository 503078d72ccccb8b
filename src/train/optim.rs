//! One optimizer per local module, and the learning-rate schedule each one follows.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

use crate::config::{LrScheduleConfig, OptimConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimKind {
    /// SGD with momentum (dampening 0, as PyTorch — burn's default is 0.1), optional Nesterov, and L2
    /// weight decay added to the gradient.
    Sgd,
    /// AdamW with decoupled weight decay.
    Adamw,
}

pub fn build_optimizer(c: &OptimConfig) -> ModuleOptimizer {
    match c.kind {
        OptimKind::Sgd => {
            let momentum = (c.momentum > 0.0)
                .then(|| MomentumConfig::new().with_momentum(c.momentum).with_dampening(0.0).with_nesterov(c.nesterov));
            let decay = (c.weight_decay > 0.0).then(|| WeightDecayConfig::new(c.weight_decay as f32));
            SgdConfig::new().with_momentum(momentum).with_weight_decay(decay).init()
        }
        OptimKind::Adamw => AdamWConfig::new()
            .with_beta_1(c.betas[0] as f32)
            .with_beta_2(c.betas[1] as f32)
            .with_epsilon(c.eps as f32)
            .with_weight_decay(c.weight_decay as f32)
            .init(),
    }
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

/// The learning rate of one optimizer as a function of its step, over a phase of known length.
#[derive(Clone, Debug)]
pub struct LrSchedule {
    config: LrScheduleConfig,
    base: f64,
    steps_per_epoch: usize,
    total_steps: usize,
}

impl LrSchedule {
    pub fn new(config: &LrScheduleConfig, base: f64, steps_per_epoch: usize, epochs: usize) -> Self {
        LrSchedule { config: config.clone(), base, steps_per_epoch, total_steps: steps_per_epoch * epochs }
    }

    pub fn lr(&self, step: usize) -> f64 {
        let c = &self.config;
        if c.kind == LrScheduleKind::Constant {
            return self.base;
        }
        let warmup = c.warmup_epochs * self.steps_per_epoch;
        if step < warmup {
            return self.base * (step + 1) as f64 / warmup as f64;
        }
        match c.kind {
            LrScheduleKind::Constant => unreachable!(),
            LrScheduleKind::Cosine => {
                let span = self.total_steps.saturating_sub(warmup).max(1);
                let t = ((step - warmup) as f64 / span as f64).min(1.0);
                c.min_lr + (self.base - c.min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
            LrScheduleKind::Multistep => {
                let epoch = step / self.steps_per_epoch.max(1);
                let passed = c.milestones.iter().filter(|&&m| epoch >= m).count();
                self.base * c.gamma.powi(passed as i32)
            }
        }
    }
}
