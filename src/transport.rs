//! The method, in one file: TRGL's local objective for module k,
//!
//! ```text
//! L_k = CE_ls(F_k(T_k(x)), y) + w_k · Σ_{blocks b in k} mean(r_b²)
//! ```
//!
//! where r_b is block b's residual branch (x_{b+1} = x_b + r_b) and the second term is the discrete
//! kinetic energy of the module's flow: with it, module k is a minimizing-movement (JKO) step in
//! Wasserstein space, close to an optimal-transport map, which keeps early modules from overfitting their
//! auxiliary task. `mean` runs over batch and every element of r, as the published τ values assume.
//!
//! The weight w_k = 1/(2τ_k) follows a τ schedule:
//! - `constant`: τ_k = τ;
//! - `varying`: τ_k = τ/2 for the first half of the modules (k < ⌊K/2⌋, counted from 0), τ for the rest;
//! - `uzawa`: w_k = 1/λ_k with λ_k = λ₀·k^p initially (k counted from 1) and λ_k += ρ·CE_k every s steps
//!   of module k (CE_k averaged over those s steps), so the penalty fades as the task loss is paid.
//!
//! τ = ∞ is plain greedy training (VanGL): w_k = 0 and the kinetic term is not even computed.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use serde::{Deserialize, Serialize};

/// Σ_b mean(r_b²) over the residual branches of a module; `None` for a module without any (a stem alone).
pub fn kinetic_energy(residuals: &[Tensor<4>]) -> Option<Tensor<1>> {
    residuals.iter().map(mean_square).reduce(|a, b| a + b)
}

/// mean(r²) with the gradient 2r/N. As `m = mean(r·r̄)` with r̄ = r detached, `2m − m̄`: the value is
/// m exactly (doubling and subtracting m round to nothing) and the gradient 2·r̄/N is one product.
/// `r.square().mean()` is the same function, but autodiff differentiates r·r as a product of two
/// tensors — two full-size products and their sum in the backward pass, for every residual branch.
fn mean_square(r: &Tensor<4>) -> Tensor<1> {
    let m = (r.clone() * r.clone().detach()).mean();
    m.clone() * 2.0 - m.detach()
}

/// Cross-entropy with label smoothing ε: targets (1-ε)·onehot(y) + ε/C, as PyTorch's
/// `CrossEntropyLoss(label_smoothing=ε)`. Returns the batch mean.
pub fn cross_entropy_smoothed(logits: Tensor<2>, targets: Tensor<1, Int>, smoothing: f64) -> Tensor<1> {
    let log_p = log_softmax(logits, 1);
    let nll = -log_p.clone().gather(1, targets.unsqueeze_dim(1)).mean();
    if smoothing == 0.0 {
        return nll;
    }
    let uniform = -log_p.mean_dim(1).mean();
    nll * (1.0 - smoothing) + uniform * smoothing
}

/// How τ varies across modules and training.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TauSchedule {
    Constant,
    Varying,
    Uzawa,
}

/// Parameters of the transport term, as configured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransportSpec {
    /// τ; `inf` (TOML) disables the transport term: VanGL.
    pub tau: f64,
    pub schedule: TauSchedule,
    /// Uzawa: ρ, the dual step.
    pub uzawa_rho: f64,
    /// Uzawa: s, steps between two updates of λ_k.
    pub uzawa_every: usize,
    /// Uzawa: λ₀.
    pub uzawa_lambda0: f64,
    /// Uzawa: p in λ_k = λ₀·k^p.
    pub uzawa_power: f64,
}

impl Default for TransportSpec {
    fn default() -> Self {
        TransportSpec {
            tau: f64::INFINITY,
            schedule: TauSchedule::Constant,
            uzawa_rho: 1.0,
            uzawa_every: 100,
            uzawa_lambda0: 1.0,
            uzawa_power: 1.0,
        }
    }
}

/// The per-module weights w_k of the kinetic term, with Uzawa's running state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransportWeights {
    spec: TransportSpec,
    modules: usize,
    /// Uzawa's λ_k (unused by the other schedules).
    lambda: Vec<f64>,
    /// Uzawa: CE_k summed since the last update, and the steps it covers.
    ce_sum: Vec<f64>,
    ce_steps: Vec<usize>,
}

impl TransportWeights {
    pub fn new(spec: TransportSpec, modules: usize) -> Self {
        let lambda = (1..=modules).map(|k| spec.uzawa_lambda0 * (k as f64).powf(spec.uzawa_power)).collect();
        TransportWeights { spec, modules, lambda, ce_sum: vec![0.0; modules], ce_steps: vec![0; modules] }
    }

    /// τ_k as seen by the loss (∞ when the term is off). For Uzawa, τ_k = λ_k / 2.
    pub fn tau(&self, k: usize) -> f64 {
        match self.spec.schedule {
            TauSchedule::Constant => self.spec.tau,
            TauSchedule::Varying if k < self.modules / 2 => self.spec.tau / 2.0,
            TauSchedule::Varying => self.spec.tau,
            TauSchedule::Uzawa => self.lambda[k] / 2.0,
        }
    }

    /// w_k = 1/(2τ_k); exactly 0 for τ = ∞.
    pub fn weight(&self, k: usize) -> f64 {
        let tau = self.tau(k);
        if tau.is_infinite() { 0.0 } else { 1.0 / (2.0 * tau) }
    }

    /// Takes module k's state (λ_k and its running CE) from `other`, a copy that trained module k elsewhere.
    pub fn adopt(&mut self, other: &TransportWeights, k: usize) {
        self.lambda[k] = other.lambda[k];
        self.ce_sum[k] = other.ce_sum[k];
        self.ce_steps[k] = other.ce_steps[k];
    }

    /// Records module k's CE of one step; every s steps Uzawa raises λ_k by ρ·mean(CE).
    pub fn observe(&mut self, k: usize, ce: f64) {
        if self.spec.schedule != TauSchedule::Uzawa {
            return;
        }
        self.ce_sum[k] += ce;
        self.ce_steps[k] += 1;
        if self.ce_steps[k] == self.spec.uzawa_every {
            self.lambda[k] += self.spec.uzawa_rho * self.ce_sum[k] / self.ce_steps[k] as f64;
            self.ce_sum[k] = 0.0;
            self.ce_steps[k] = 0;
        }
    }
}

/// The terms of a local loss, as tensors (still on the graph).
pub struct LocalLoss {
    pub total: Tensor<1>,
    pub ce: Tensor<1>,
    pub kinetic: Tensor<1>,
}

/// L_k = CE_ls + w_k · kinetic energy. With w_k = 0 the kinetic term stays off the graph, so VanGL's
/// gradients are exactly those of a plain greedy implementation.
pub fn local_loss(logits: Tensor<2>, targets: Tensor<1, Int>, residuals: &[Tensor<4>], weight: f64, smoothing: f64) -> LocalLoss {
    let ce = cross_entropy_smoothed(logits, targets, smoothing);
    match kinetic_energy(residuals) {
        Some(kinetic) if weight != 0.0 => LocalLoss { total: ce.clone() + kinetic.clone() * weight, ce, kinetic },
        // Still reported, but off the graph: the gradient is that of CE alone.
        Some(kinetic) => LocalLoss { total: ce.clone(), ce, kinetic: kinetic.detach() },
        None => LocalLoss { total: ce.clone(), kinetic: ce.zeros_like(), ce },
    }
}
