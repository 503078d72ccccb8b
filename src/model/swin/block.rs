//! The Swin block: pre-norm x + W-MSA(LN(x)) (or SW-MSA, on the cyclically shifted grid), then
//! x + MLP(LN(x)), MLP ratio 4 with GELU. Both branches are returned as residuals, as the ViT's block
//! returns them, so both enter the kinetic energy.

use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::ops::PadMode;
use burn::tensor::s;

use super::attention::WindowAttention;
use super::window::{attention_mask, padded, partition, reverse, shift, unshift};
use crate::model::layers::BlockOutput;
use crate::model::vit::transformer::pre_norm_output;

/// A Swin block on a `side` × `side` grid of tokens, `[batch, side², dim, 1]` (row-major), with windows of
/// `window` and a cyclic shift of `shift` (0: regular windows).
#[derive(Module, Debug)]
pub struct SwinBlock {
    ln1: LayerNorm,
    attn: WindowAttention,
    ln2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    side: usize,
    window: usize,
    shift: usize,
}

impl SwinBlock {
    pub fn new(dim: usize, heads: usize, side: usize, window: usize, shift: usize, device: &Device) -> Self {
        SwinBlock {
            ln1: LayerNormConfig::new(dim).init(device),
            attn: WindowAttention::new(dim, heads, window, device),
            ln2: LayerNormConfig::new(dim).init(device),
            fc1: LinearConfig::new(dim, 4 * dim).init(device),
            fc2: LinearConfig::new(4 * dim, dim).init(device),
            side,
            window,
            shift,
        }
    }

    /// The attention branch a = (S)W-MSA(LN(x)) on the `[b, side², dim]` tokens: the grid padded to a
    /// multiple of the window, shifted, cut into windows, attended, put back, unshifted and cropped.
    fn attention(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, l, c] = x.dims();
        let (side, window) = (self.side, self.window);
        let p = padded(side, window);
        let mut grid = self.ln1.forward(x).reshape([b, side, side, c]);
        if p > side {
            grid = grid.pad([(0, p - side), (0, p - side), (0, 0)], PadMode::Constant(0.0));
        }
        let windows = partition(shift(grid, self.shift), window);
        let n = window * window;
        let mask = attention_mask(side, window, self.shift).map(|m| {
            let count = m.len() / (n * n);
            Tensor::<3>::from_data(TensorData::new(m, [count, n, n]), &windows.device())
        });
        let mut grid = unshift(reverse(self.attn.forward(windows, mask), window, p, p), self.shift);
        if p > side {
            grid = grid.slice(s![.., 0..side as isize, 0..side as isize, ..]);
        }
        grid.reshape([b, l, c])
    }

    /// Output and the two residual branches: a = (S)W-MSA(LN(x)), m = MLP(LN(x + a)); out = x + a + m.
    pub fn forward(&self, x: Tensor<4>) -> BlockOutput {
        let x = x.squeeze_dim::<3>(3);
        let a = self.attention(x.clone());
        pre_norm_output(x, a, &self.ln2, &self.fc1, &self.fc2)
    }
}
