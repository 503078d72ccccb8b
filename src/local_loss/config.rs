//! `method.local_loss` and its parameters: which objective a module's body trains on besides the
//! transport term, and InfoPro's published weights.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The task term of the auxiliary modules' local loss (the last module always trains on the network's CE).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocalLossKind {
    /// CE of the auxiliary head (the paper's; DGL's with `head.kind = "mlp-sr"`).
    #[default]
    Ce,
    /// InfoPro (Wang et al., ICLR 2021): λ₁ · image reconstruction through a small decoder + λ₂ · CE.
    Infopro,
    /// PredSim (Nøkland & Eidnes, ICML 2019): β · similarity matching + (1 − β) · CE.
    Predsim,
}

impl LocalLossKind {
    pub fn name(self) -> &'static str {
        match self {
            LocalLossKind::Ce => "ce",
            LocalLossKind::Infopro => "infopro",
            LocalLossKind::Predsim => "predsim",
        }
    }
}

/// InfoPro's `--ixx_1 --ixy_1 --ixx_2 --ixy_2` for ResNet-32 on CIFAR-10, by K (its `comand.sh`): the
/// reconstruction and CE weights of the first local module, then of the last local module.
pub const INFOPRO_PUBLISHED: &[(usize, [f64; 4])] = &[(2, [5.0, 1.0, 0.0, 0.0]), (4, [6.0, 0.0, 1.0, 2.0]), (8, [5.0, 0.0, 0.0, 2.0]), (16, [5.0, 0.05, 0.2, 0.5])];

/// (λ₁, λ₂) of each of the K − 1 auxiliary modules: linear from the first pair to the second over modules
/// i = 0 … K − 2 (ratio i / (K − 2), 0 for K = 2), as InfoPro's training loop interpolates them.
/// `lambdas` = `method.infopro_lambdas`; without it, the published values for K.
pub fn infopro_weights(k: usize, lambdas: Option<[f64; 4]>) -> Result<Vec<(f64, f64)>> {
    let [r1, c1, r2, c2] = match lambdas {
        Some(l) => l,
        None => INFOPRO_PUBLISHED.iter().find(|(kk, _)| *kk == k).map(|(_, l)| *l).ok_or_else(|| {
            Error::config("method.infopro_lambdas", format!("InfoPro publishes its weights for K = 2, 4, 8, 16, not K = {k}: give [λ₁ first, λ₂ first, λ₁ last, λ₂ last]"))
        })?,
    };
    Ok((0..k.saturating_sub(1))
        .map(|i| {
            let ratio = if k > 2 { i as f64 / (k - 2) as f64 } else { 0.0 };
            (r1 * (1.0 - ratio) + r2 * ratio, c1 * (1.0 - ratio) + c2 * ratio)
        })
        .collect())
}

/// Checks `method.infopro_lambdas` and `method.predsim_beta`.
pub fn validate(lambdas: Option<[f64; 4]>, beta: f64) -> Result<()> {
    if let Some(l) = lambdas {
        if l.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(Error::config("method.infopro_lambdas", format!("four finite weights ≥ 0 [λ₁ first, λ₂ first, λ₁ last, λ₂ last], got {l:?}")));
        }
    }
    if !(0.0..=1.0).contains(&beta) {
        return Err(Error::config("method.predsim_beta", format!("a weight in [0, 1] (PredSim publishes 0.99), got {beta}")));
    }
    Ok(())
}
