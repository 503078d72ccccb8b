//! Window multi-head self-attention with a learned relative position bias (Liu et al. 2021, §3.2):
//! softmax(Q·Kᵀ/√d + B + M)·V in each window, B read from a table of (2w − 1)² × heads biases by the
//! relative-position index, M the shifted-window mask.

use burn::module::{Initializer, Param};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::window::relative_position_index;

#[derive(Module, Debug)]
pub struct WindowAttention {
    qkv: Linear,
    proj: Linear,
    /// `[(2·window − 1)², heads]`: one bias per relative offset and head (truncated normal, std 0.02, in
    /// the official code; normal here, as the ViT's position embeddings).
    bias_table: Param<Tensor<2>>,
    heads: usize,
    window: usize,
}

impl WindowAttention {
    pub fn new(dim: usize, heads: usize, window: usize, device: &Device) -> Self {
        let span = 2 * window - 1;
        WindowAttention {
            qkv: LinearConfig::new(dim, 3 * dim).init(device),
            proj: LinearConfig::new(dim, dim).init(device),
            bias_table: Initializer::Normal { mean: 0.0, std: 0.02 }.init([span * span, heads], device),
            heads,
            window,
        }
    }

    /// The bias B, `[1, heads, window², window²]`.
    fn bias(&self, device: &Device) -> Tensor<4> {
        let n = self.window * self.window;
        let index = relative_position_index(self.window);
        let index = Tensor::<1, Int>::from_data(TensorData::new(index, [n * n]), device);
        self.bias_table.val().select(0, index).reshape([n, n, self.heads]).permute([2, 0, 1]).unsqueeze_dim(0)
    }

    /// `x`: `[batch · windows, window², dim]`, the windows of each image consecutive; `mask`: `[windows,
    /// window², window²]` (`window::attention_mask`).
    pub fn forward(&self, x: Tensor<3>, mask: Option<Tensor<3>>) -> Tensor<3> {
        let [bw, n, c] = x.dims();
        let (h, d) = (self.heads, c / self.heads);
        let qkv = self.qkv.forward(x).reshape([bw, n, 3, h, d]).permute([2, 0, 3, 1, 4]);
        let part = |i: usize| qkv.clone().narrow(0, i, 1).squeeze_dim::<4>(0);
        let (q, k, v) = (part(0), part(1), part(2));
        let mut attn = (q * (d as f64).powf(-0.5)).matmul(k.swap_dims(2, 3)) + self.bias(&v.device());
        if let Some(mask) = mask {
            let windows = mask.dims()[0];
            attn = (attn.reshape([bw / windows, windows, h, n, n]) + mask.unsqueeze_dim::<4>(1).unsqueeze_dim(0)).reshape([bw, h, n, n]);
        }
        let out = softmax(attn, 3).matmul(v).swap_dims(1, 2).reshape([bw, n, c]);
        self.proj.forward(out)
    }
}
