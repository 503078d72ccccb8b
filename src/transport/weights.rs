//! The weights w_k = 1/(2τ_k) of the kinetic term per module, following the τ schedule: on the host
//! ([`TransportWeights`], what checkpoints and metrics read) and on the device while modules train.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::{TauSchedule, TransportSpec, UzawaVariant};

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

