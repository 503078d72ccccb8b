//! The spectral norm of a map's Jacobian at sample points (its local Lipschitz constant there), by power
//! iteration on JᵀJ. burn's autodiff is reverse mode: it gives Jᵀu exactly (one backward pass of
//! ⟨T(x), u⟩); J·v comes from a central difference (T(x + εv) − T(x − εv)) / 2ε, exact for the piecewise
//! linear maps of a ReLU network in inference mode unless a unit changes sign within ε. Each iteration is
//! v ← JᵀJv / ‖JᵀJv‖, and σ = ‖JᵀJv‖^½ for the unit v; all sample points iterate together (in inference
//! mode the samples of a batch do not interact).

use burn::prelude::*;
use burn::tensor::Distribution;
use serde::{Deserialize, Serialize};

use super::estimators::{Quantiles, quantiles};
use crate::readback::read_f32;

/// The estimates at each sample point, and how the iteration ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JacobianNorm {
    pub sigma: Quantiles,
    pub points: usize,
    pub iterations: usize,
    /// Points whose σ changed by less than `tolerance` (relative) in the last iteration.
    pub converged: usize,
    /// The largest relative change of σ over the points in the last iteration.
    pub last_change: f64,
    pub tolerance: f64,
    /// ε of the central difference, relative to ‖x‖.
    pub epsilon: f64,
}

/// Per-sample Euclidean norms of `t`, as `[batch, 1, 1, 1]`.
pub(super) fn norms(t: Tensor<4>) -> Tensor<4> {
    t.square().sum_dim(3).sum_dim(2).sum_dim(1).sqrt()
}

/// σ_max of the Jacobian of `forward` at each sample of `x` (a batch on an autodiff device; `forward` must
/// act on each sample alone, e.g. a module in inference mode: `Module::freeze`).
pub fn spectral_norms(forward: impl Fn(Tensor<4>) -> Tensor<4>, x: Tensor<4>, max_iterations: usize, tolerance: f64, epsilon: f64, seed: u64) -> JacobianNorm {
    let x = x.detach();
    let points = x.dims()[0];
    let device = x.device();
    device.seed(seed);
    let mut v = Tensor::<4>::random(x.dims(), Distribution::Normal(0.0, 1.0), &device);
    v = v.clone() / norms(v).clamp_min(1e-30);
    let step = norms(x.clone()).clamp_min(1e-12) * epsilon;
    let mut sigma = vec![0f64; points];
    let mut report = JacobianNorm { points, tolerance, epsilon, ..JacobianNorm::default() };
    for it in 1..=max_iterations {
        let jv = ((forward(x.clone() + v.clone() * step.clone()) - forward(x.clone() - v.clone() * step.clone())) / (step.clone() * 2.0)).detach();
        let at = x.clone().require_grad();
        let grads = (forward(at.clone()) * jv).sum().backward();
        let w = at.grad(&grads).expect("the input is on the graph").autodiff();
        let wn = norms(w.clone()).clamp_min(1e-30);
        let next: Vec<f64> = read_f32(wn.clone().flatten::<1>(0, 3)).iter().map(|s| (*s as f64).sqrt()).collect();
        let changes: Vec<f64> = next.iter().zip(&sigma).map(|(n, p)| (n - p).abs() / n.max(1e-30)).collect();
        sigma = next;
        v = w / wn;
        report.iterations = it;
        report.last_change = changes.iter().copied().fold(0.0, f64::max);
        report.converged = changes.iter().filter(|c| **c < tolerance).count();
        if it > 1 && report.converged == points {
            break;
        }
    }
    report.sigma = quantiles(&sigma);
    report
}
