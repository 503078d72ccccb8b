//! Local losses besides CE (`method.local_loss`), each combined with any transport term. For an auxiliary
//! module k (every module but the last) with output h = T_k(x), head F_k and transport term w_k·T_k:
//!
//! ```text
//! ce       L_k = CE_ls(F_k(h), y)                                        + w_k·T_k   (the paper; DGL with head mlp-sr)
//! infopro  L_k = λ₂·CE_ls(F_k(h), y) + λ₁·BCE(sigmoid(D_k(h)), image)    + w_k·T_k   (InfoPro, ICLR 2021)
//! predsim  L_k = (1−β)·CE_ls(F_k(h), y) + β·MSE(S(P_k(h)), S(onehot y))  + w_k·T_k   (PredSim, ICML 2019)
//! ```
//!
//! D_k is InfoPro's decoder ([`infopro`]), P_k PredSim's projection and S its similarity matrix
//! ([`predsim`]); λ's follow InfoPro's per-module interpolation ([`config::infopro_weights`]), β = 0.99 as
//! published. The last module trains on the network's own CE (with its transport term), as in both papers.
//!
//! One choice of trgl's: the head F_k always learns at full weight, so that its accuracy — the stagnation
//! curve — reads what module k's output holds even where the loss gives CE a small weight (InfoPro's
//! published K = 4 gives module 1 λ₂ = 0). Only the module's body sees the weighted CE: F_k reads h through
//! a gradient scale (value h, gradient λ₂ or 1 − β back into the body). The body's gradient is the paper's;
//! the head's is CE's. InfoPro's published runs use a contrastive (SupCon) auxiliary loss; trgl uses its
//! `cross_entropy` mode, the one that matches the other methods here.
//!
//! Sedona (an architecture search for where to cut and which heads to use) is not a local loss and is out
//! of scope.

pub mod config;
pub mod infopro;
pub mod predsim;

use burn::prelude::*;

pub use config::{INFOPRO_PUBLISHED, LocalLossKind, infopro_weights};
pub use infopro::ReconstructionDecoder;
pub use predsim::SimilarityProjector;

use crate::error::{Error, Result};
use crate::model::plan::ArchPlan;
use crate::model::{Init, Split};
use crate::transport::TransportSpec;

/// What a local loss compares a module against: the labels, and for InfoPro the input images (pixels in
/// [0, 1], before normalisation).
#[derive(Clone, Debug)]
pub struct Targets {
    pub labels: Tensor<1, Int>,
    pub images: Option<Tensor<4>>,
}

impl Targets {
    pub fn to_device(self, device: &Device) -> Self {
        Targets { labels: self.labels.to_device(device), images: self.images.map(|t| t.to_device(device)) }
    }

    /// Off the autodiff graph's device, to travel between pipeline workers.
    pub fn without_autodiff(self) -> Self {
        Targets { labels: self.labels.without_autodiff(), images: self.images.map(|t| t.without_autodiff()) }
    }
}

impl From<Tensor<1, Int>> for Targets {
    fn from(labels: Tensor<1, Int>) -> Self {
        Targets { labels, images: None }
    }
}

/// The learned part an auxiliary module's local loss adds, with that module's weights.
#[derive(Module, Debug)]
pub enum AuxObjective {
    InfoPro(ReconstructionDecoder),
    PredSim(SimilarityProjector),
}

impl AuxObjective {
    /// The weight of the CE term in the module's body gradient.
    pub fn ce_weight(&self) -> f64 {
        match self {
            AuxObjective::InfoPro(d) => d.ce_weight,
            AuxObjective::PredSim(p) => 1.0 - p.beta,
        }
    }

    /// What the head reads: h itself, with its gradient into the body scaled by [`Self::ce_weight`].
    pub fn head_input(&self, h: Tensor<4>) -> Tensor<4> {
        let w = self.ce_weight();
        if w == 1.0 {
            h
        } else if w == 0.0 {
            h.detach()
        } else {
            h.clone() * w + h.detach() * (1.0 - w)
        }
    }

    /// The term added to the CE: λ₁·BCE (InfoPro) or β·MSE of similarities (PredSim).
    pub fn term(&self, h: Tensor<4>, targets: &Targets, classes: usize) -> Tensor<1> {
        match self {
            AuxObjective::InfoPro(d) => d.term(h, targets.images.as_ref().expect("the batch loop gives InfoPro the images")),
            AuxObjective::PredSim(p) => p.term(h, &targets.labels, classes),
        }
    }
}

/// The learned part of each module's local loss (none for `ce` and for the last module), drawn after the
/// network's own parameters: for a seed, the body and heads are those of a CE run.
pub fn aux_objectives(method: &TransportSpec, plan: &ArchPlan, split: &Split, init: &Init, device: &Device) -> Result<Vec<Option<AuxObjective>>> {
    let k = split.len();
    let channels_after = |m: usize| plan.units[split.modules[m].end - 1].out_channels;
    if method.local_loss != LocalLossKind::Ce && plan.token_pool().is_some() {
        return Err(Error::config("method.local_loss", format!("`{}` needs feature maps (its decoder or projection is convolutional); `{}` carries tokens: use `ce`", method.local_loss.name(), plan.name)));
    }
    let aux = match method.local_loss {
        LocalLossKind::Ce => vec![None; k],
        LocalLossKind::Infopro => {
            let weights = infopro_weights(k, method.infopro_lambdas)?;
            (0..k)
                .map(|m| (m + 1 < k).then(|| AuxObjective::InfoPro(ReconstructionDecoder::new(channels_after(m), plan.in_channels, plan.image_size, weights[m], init, device))))
                .collect()
        }
        LocalLossKind::Predsim => (0..k).map(|m| (m + 1 < k).then(|| AuxObjective::PredSim(SimilarityProjector::new(channels_after(m), method.predsim_beta, init, device)))).collect(),
    };
    Ok(aux)
}
