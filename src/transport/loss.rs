//! The local loss L_k = CE_ls + w_k · kinetic energy, and its two terms.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use super::weights::EnergyWeight;

/// Σ_b mean(r_b²) over the residual branches of a module; `None` for a module without any (a stem alone).
pub fn kinetic_energy(residuals: &[Tensor<4>]) -> Option<Tensor<1>> {
    residuals.iter().map(mean_square).reduce(|a, b| a + b)
}

/// Σ_b mean(|r_b|^p): the transport cost of `method.p`; p = 2 is [`kinetic_energy`] itself (same operations).
pub fn transport_cost(residuals: &[Tensor<4>], p: f64) -> Option<Tensor<1>> {
    if p == 2.0 {
        return kinetic_energy(residuals);
    }
    residuals.iter().map(|r| if p == 1.0 { r.clone().abs().mean() } else { r.clone().abs().powf_scalar(p).mean() }).reduce(|a, b| a + b)
}

/// How a local loss is computed: the label smoothing of its CE and the exponent of its transport cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossSpec {
    pub smoothing: f64,
    pub p: f64,
}

/// A label smoothing alone: the paper's loss (p = 2).
impl From<f64> for LossSpec {
    fn from(smoothing: f64) -> Self {
        LossSpec { smoothing, p: 2.0 }
    }
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

/// The terms of a local loss, as tensors (still on the graph).
pub struct LocalLoss {
    pub total: Tensor<1>,
    pub ce: Tensor<1>,
    pub kinetic: Tensor<1>,
}

/// L_k = CE_ls + w_k · kinetic energy (Σ mean(|r|^p) for `method.p` ≠ 2). With w_k off the kinetic term
/// stays off the graph, so VanGL's gradients are exactly those of a plain greedy implementation.
pub fn local_loss(logits: Tensor<2>, targets: Tensor<1, Int>, residuals: &[Tensor<4>], weight: impl Into<EnergyWeight>, spec: impl Into<LossSpec>) -> LocalLoss {
    local_loss_with(logits, targets, None, residuals, weight, spec)
}

/// [`local_loss`] with a local loss's own term added to the CE (InfoPro's reconstruction, PredSim's
/// similarity matching: `crate::local_loss`). Uzawa's λ still follows the CE alone.
pub fn local_loss_with(logits: Tensor<2>, targets: Tensor<1, Int>, extra: Option<Tensor<1>>, residuals: &[Tensor<4>], weight: impl Into<EnergyWeight>, spec: impl Into<LossSpec>) -> LocalLoss {
    let spec = spec.into();
    let ce = cross_entropy_smoothed(logits, targets, spec.smoothing);
    let task = match extra {
        Some(term) => ce.clone() + term,
        None => ce.clone(),
    };
    let total = |kinetic: &Tensor<1>, task: &Tensor<1>, ce: &Tensor<1>| match weight.into() {
        EnergyWeight::Off => None,
        EnergyWeight::Constant(w) => Some(task.clone() + kinetic.clone() * w),
        // A tensor without autodiff: a constant of the graph.
        EnergyWeight::OnDevice(w) => Some(task.clone() + kinetic.clone() * w),
        EnergyWeight::UzawaUpdate { lambda, rho } => {
            let w = (lambda + ce.clone().detach().without_autodiff() * rho).recip();
            Some(task.clone() + kinetic.clone() * w)
        }
    };
    match transport_cost(residuals, spec.p) {
        Some(kinetic) => match total(&kinetic, &task, &ce) {
            Some(total) => LocalLoss { total, ce, kinetic },
            // Still reported, but off the graph: the gradient is that of the task term alone.
            None => LocalLoss { total: task, ce, kinetic: kinetic.detach() },
        },
        None => LocalLoss { total: task, kinetic: ce.zeros_like(), ce },
    }
}
