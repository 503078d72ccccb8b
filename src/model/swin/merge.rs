//! The Swin stem (patch embedding) and patch merging, the down-sampling between stages.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::ops::PadMode;
use burn::tensor::s;

use crate::model::layers::BlockOutput;
use crate::model::vit::transformer::patch_tokens;

/// Patch embedding: conv patch×patch, stride patch → tokens `[batch, side², dim, 1]` (row-major), then
/// LayerNorm, as the official code's `patch_norm`; no absolute position embedding (Swin-T's default: the
/// attention has its relative position bias).
#[derive(Module, Debug)]
pub struct SwinEmbed {
    proj: Conv2d,
    norm: LayerNorm,
}

impl SwinEmbed {
    pub fn new(cin: usize, dim: usize, patch: usize, device: &Device) -> Self {
        SwinEmbed { proj: Conv2dConfig::new([cin, dim], [patch, patch]).with_stride([patch, patch]).init(device), norm: LayerNormConfig::new(dim).init(device) }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward(patch_tokens(&self.proj, x)).unsqueeze_dim(3)
    }
}

/// Patch merging: each 2×2 neighbourhood of tokens concatenated (4C, in the official order: (0, 0),
/// (1, 0), (0, 1), (1, 1) as (row, column) offsets) → LayerNorm(4C) → Linear(4C → 2C, no bias). A grid of
/// odd side is padded with a zero row and column first (torchvision's Swin does the same), so the merged
/// side is ⌈side / 2⌉.
///
/// It has no residual branch and returns none: it adds no transport term. `trgl analyze` measures its
/// displacement against [`PatchMerging::project`], a parameter-free projection like a VGG layer's.
#[derive(Module, Debug)]
pub struct PatchMerging {
    norm: LayerNorm,
    reduction: Linear,
    side: usize,
}

impl PatchMerging {
    pub fn new(dim: usize, side: usize, device: &Device) -> Self {
        PatchMerging { norm: LayerNormConfig::new(4 * dim).init(device), reduction: LinearConfig::new(4 * dim, 2 * dim).with_bias(false).init(device), side }
    }

    /// `[b, side², c, 1]` → `[b, side, side, c]`, padded to an even side.
    fn grid(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, _, c, _] = x.dims();
        let grid = x.reshape([b, self.side, self.side, c]);
        let odd = self.side % 2;
        if odd == 0 { grid } else { grid.pad([(0, odd), (0, odd), (0, 0)], PadMode::Constant(0.0)) }
    }

    pub fn forward(&self, x: Tensor<4>) -> BlockOutput {
        let grid = self.grid(x);
        let [b, e, _, c] = grid.dims();
        let half = e / 2;
        // (b, i, row offset, j, column offset, c) → (b, i, j, column offset, row offset, c): the official
        // order of the four neighbours.
        let merged = grid.reshape([b, half, 2, half, 2, c]).permute([0, 1, 3, 4, 2, 5]).reshape([b, half * half, 4 * c]);
        let output = self.reduction.forward(self.norm.forward(merged)).unsqueeze_dim(3);
        BlockOutput { output, residuals: Vec::new() }
    }

    /// The parameter-free projection P of the input to the output's shape, for `trgl analyze`: the top-left
    /// token of each 2×2 neighbourhood (every other token on each axis, as P takes every other pixel of a
    /// feature map), its C features centred in 2C by zeros on both sides (option A's channel padding).
    pub fn project(&self, x: Tensor<4>) -> Tensor<4> {
        let grid = self.grid(x);
        let [b, e, _, c] = grid.dims();
        let half = e / 2;
        let kept = grid.slice(s![.., ..;2, ..;2, ..]).reshape([b, half * half, c]);
        let before = c / 2;
        kept.pad([(0, 0), (before, c - before)], PadMode::Constant(0.0)).unsqueeze_dim(3)
    }
}
