//! One optimizer per local module, and the learning-rate schedule each one follows.

pub mod config;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, ModuleOptimizer, SgdConfig};

pub use config::{LrScheduleConfig, LrScheduleKind, OptimConfig, OptimKind};

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
