//! The method, in one file: TRGL's local objective for module k,
//!
//! ```text
//! L_k = CE_ls(F_k(T_k(x)), y) + w_k · Σ_{blocks b in k} mean(r_b²)
//! ```
//!
//! where r_b is block b's residual branch (x_{b+1} = x_b + r_b) and the second term is the discrete
//! kinetic energy of the module's flow: with it, module k is a minimizing-movement (JKO) step in
//! Wasserstein space. The paper's explanation of its effect is that each module is then close to an
//! optimal-transport map, a regular map that keeps early modules from overfitting their auxiliary task;
//! nothing here measures that yet, and at CPU scale the term has not improved accuracy (REPRODUCTION.md). `mean` runs over batch and every element of r, as the published τ values assume.
//!
//! The weight w_k = 1/(2τ_k) follows a τ schedule:
//! - `constant`: τ_k = τ;
//! - `varying`: τ_k = τ/2 for the first half of the modules (k < ⌊K/2⌋, counted from 0), τ for the rest;
//! - `uzawa`: w_k = 1/λ_k with λ_k = λ₀·k^p initially (k counted from 1) and λ_k += ρ·CE_k every s steps
//!   of module k (CE_k averaged over those s steps), so the penalty fades as the task loss is paid.
//!   While modules train, λ_k lives on the device ([`DeviceWeights`]): the step reads nothing back.
//!   `method.uzawa_variant = "published"` does what the paper's published code does instead (its
//!   `train_par`): modules counted from 0, so λ_k = λ₀·k^p starts at 0 for the first module, whose weight
//!   is 1/λ₀ until its first update; every s-th step λ_k += ρ·CE of *that* batch alone, and the new 1/λ_k
//!   already weighs that batch's loss.
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
    /// Uzawa: trgl's rule or the published code's (see the module's documentation).
    pub uzawa_variant: UzawaVariant,
}

/// Which Uzawa rule: trgl's (modules from 1, λ_k += ρ·mean CE of the s steps, applied from the next step)
/// or the published code's (modules from 0, λ_k += ρ·CE of the s-th batch, applied to that batch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UzawaVariant {
    #[default]
    Trgl,
    Published,
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
            uzawa_variant: UzawaVariant::Trgl,
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
        let first = match spec.uzawa_variant {
            UzawaVariant::Trgl => 1,
            UzawaVariant::Published => 0,
        };
        let lambda = (first..first + modules).map(|k| spec.uzawa_lambda0 * (k as f64).powf(spec.uzawa_power)).collect();
        TransportWeights { spec, modules, lambda, ce_sum: vec![0.0; modules], ce_steps: vec![0; modules] }
    }

    /// τ_k as seen by the loss (∞ when the term is off). For Uzawa, τ_k = λ_k / 2.
    pub fn tau(&self, k: usize) -> f64 {
        match self.spec.schedule {
            TauSchedule::Constant => self.spec.tau,
            TauSchedule::Varying if k < self.modules / 2 => self.spec.tau / 2.0,
            TauSchedule::Varying => self.spec.tau,
            TauSchedule::Uzawa => self.effective_lambda(k) / 2.0,
        }
    }

    /// λ_k as the loss uses it: the published code weighs a module whose λ is still 0 (its first, before
    /// any update) by 1/λ₀.
    fn effective_lambda(&self, k: usize) -> f64 {
        if self.lambda[k] == 0.0 { self.spec.uzawa_lambda0 } else { self.lambda[k] }
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

    /// Records module k's CE of one step; every s steps Uzawa raises λ_k by ρ·mean(CE) (published: by ρ·CE of
    /// the s-th step).
    pub fn observe(&mut self, k: usize, ce: f64) {
        if self.spec.schedule != TauSchedule::Uzawa {
            return;
        }
        self.ce_sum[k] += ce;
        self.ce_steps[k] += 1;
        if self.ce_steps[k] == self.spec.uzawa_every {
            self.lambda[k] += self.spec.uzawa_rho
                * match self.spec.uzawa_variant {
                    UzawaVariant::Trgl => self.ce_sum[k] / self.ce_steps[k] as f64,
                    UzawaVariant::Published => ce,
                };
            self.ce_sum[k] = 0.0;
            self.ce_steps[k] = 0;
        }
    }
}

/// w_k as the loss takes it: off (τ = ∞, the kinetic term stays off the graph), a constant, or Uzawa's
/// 1/λ_k held on the device (a tensor of one value), so that the step never reads λ_k back.
#[derive(Clone, Debug)]
pub enum EnergyWeight {
    Off,
    Constant(f64),
    OnDevice(Tensor<1>),
    /// The published Uzawa's update step: the weight is 1/(λ + ρ·CE) with this step's own CE.
    UzawaUpdate { lambda: Tensor<1>, rho: f64 },
}

impl From<f64> for EnergyWeight {
    fn from(w: f64) -> Self {
        if w == 0.0 { EnergyWeight::Off } else { EnergyWeight::Constant(w) }
    }
}

/// The weights of the modules of `range` while they train. Uzawa's λ_k and its running CE stay on the
/// device, updated by tensor operations only; `store` writes them back into the host state
/// ([`TransportWeights`], what checkpoints and metrics read) after a read at a logging point.
pub struct DeviceWeights {
    spec: TransportSpec,
    first: usize,
    slots: Vec<Slot>,
}

enum Slot {
    Fixed(f64),
    /// `lambda0`: λ₀, the weight's denominator while the published variant's λ is still 0.
    Uzawa { lambda: Tensor<1>, ce_sum: Tensor<1>, ce_steps: usize, lambda0: Option<Tensor<1>> },
}

impl TransportWeights {
    /// Modules `range`'s weights on `device` (a device without autodiff), for one stretch of training.
    pub fn to_device(&self, range: std::ops::Range<usize>, device: &Device) -> DeviceWeights {
        let one = |v: f64| Tensor::<1>::from_data(TensorData::new(vec![v as f32], [1]), device);
        let slots = range
            .clone()
            .map(|k| match self.spec.schedule {
                TauSchedule::Uzawa => Slot::Uzawa {
                    lambda: one(self.lambda[k]),
                    ce_sum: one(self.ce_sum[k]),
                    ce_steps: self.ce_steps[k],
                    lambda0: (self.lambda[k] == 0.0).then(|| one(self.spec.uzawa_lambda0)),
                },
                _ => Slot::Fixed(self.weight(k)),
            })
            .collect();
        DeviceWeights { spec: self.spec, first: range.start, slots }
    }
}

impl DeviceWeights {
    pub fn weight(&self, k: usize) -> EnergyWeight {
        match &self.slots[k - self.first] {
            Slot::Fixed(w) => EnergyWeight::from(*w),
            Slot::Uzawa { lambda, ce_steps, .. } if self.spec.uzawa_variant == UzawaVariant::Published && ce_steps + 1 == self.spec.uzawa_every => {
                EnergyWeight::UzawaUpdate { lambda: lambda.clone(), rho: self.spec.uzawa_rho }
            }
            Slot::Uzawa { lambda0: Some(l0), .. } => EnergyWeight::OnDevice(l0.clone().recip()),
            Slot::Uzawa { lambda, .. } => EnergyWeight::OnDevice(lambda.clone().recip()),
        }
    }

    /// Module k's CE of one step (a detached one-value tensor); every s steps λ_k += ρ·mean(CE), on the device.
    pub fn observe(&mut self, k: usize, ce: Tensor<1>) {
        let (rho, every) = (self.spec.uzawa_rho, self.spec.uzawa_every);
        let published = self.spec.uzawa_variant == UzawaVariant::Published;
        if let Slot::Uzawa { lambda, ce_sum, ce_steps, lambda0 } = &mut self.slots[k - self.first] {
            *ce_sum = ce_sum.clone() + ce.clone();
            *ce_steps += 1;
            if *ce_steps == every {
                *lambda = if published { lambda.clone() + ce * rho } else { lambda.clone() + ce_sum.clone() * (rho / every as f64) };
                *lambda0 = None;
                *ce_sum = ce_sum.zeros_like();
                *ce_steps = 0;
            }
        }
    }

    /// The device state to read back (λ_k and running CE of each Uzawa module), `None` for the other schedules.
    pub fn state(&self) -> Option<Tensor<1>> {
        let parts: Vec<Tensor<1>> = self
            .slots
            .iter()
            .flat_map(|s| match s {
                Slot::Uzawa { lambda, ce_sum, .. } => vec![lambda.clone(), ce_sum.clone()],
                Slot::Fixed(_) => Vec::new(),
            })
            .collect();
        (!parts.is_empty()).then(|| Tensor::cat(parts, 0))
    }

    /// Writes the values read from [`state`](Self::state) back into `host`.
    pub fn store(&self, values: &[f32], host: &mut TransportWeights) {
        let mut v = values.iter();
        for (j, slot) in self.slots.iter().enumerate() {
            if let Slot::Uzawa { ce_steps, .. } = slot {
                let k = self.first + j;
                host.lambda[k] = *v.next().expect("λ read back") as f64;
                host.ce_sum[k] = *v.next().expect("CE read back") as f64;
                host.ce_steps[k] = *ce_steps;
            }
        }
    }
}

/// The terms of a local loss, as tensors (still on the graph).
pub struct LocalLoss {
    pub total: Tensor<1>,
    pub ce: Tensor<1>,
    pub kinetic: Tensor<1>,
}

/// L_k = CE_ls + w_k · kinetic energy. With w_k off the kinetic term stays off the graph, so VanGL's
/// gradients are exactly those of a plain greedy implementation.
pub fn local_loss(logits: Tensor<2>, targets: Tensor<1, Int>, residuals: &[Tensor<4>], weight: impl Into<EnergyWeight>, smoothing: f64) -> LocalLoss {
    let ce = cross_entropy_smoothed(logits, targets, smoothing);
    let total = |kinetic: &Tensor<1>, ce: &Tensor<1>| match weight.into() {
        EnergyWeight::Off => None,
        EnergyWeight::Constant(w) => Some(ce.clone() + kinetic.clone() * w),
        // A tensor without autodiff: a constant of the graph.
        EnergyWeight::OnDevice(w) => Some(ce.clone() + kinetic.clone() * w),
        EnergyWeight::UzawaUpdate { lambda, rho } => {
            let w = (lambda + ce.clone().detach().without_autodiff() * rho).recip();
            Some(ce.clone() + kinetic.clone() * w)
        }
    };
    match kinetic_energy(residuals) {
        Some(kinetic) => match total(&kinetic, &ce) {
            Some(total) => LocalLoss { total, ce, kinetic },
            // Still reported, but off the graph: the gradient is that of CE alone.
            None => LocalLoss { total: ce.clone(), ce, kinetic: kinetic.detach() },
        },
        None => LocalLoss { total: ce.clone(), kinetic: ce.zeros_like(), ce },
    }
}
