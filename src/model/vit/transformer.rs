//! The ViT's layers: patch embedding, pre-norm transformer block, token head.

use burn::module::{Initializer, Param};
use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::gelu;
use serde::{Deserialize, Serialize};

use crate::model::layers::BlockOutput;

/// How a token head or the classifier reduces the tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenPool {
    /// Mean over all tokens.
    Mean,
    /// The class token (token 0), prepended by the patch embedding.
    Cls,
}

/// Patch embedding: conv patch×patch, stride patch → tokens, plus learned position embeddings (and the
/// class token with `TokenPool::Cls`).
#[derive(Module, Debug)]
pub struct PatchEmbed {
    proj: Conv2d,
    position: Param<Tensor<3>>,
    cls: Option<Param<Tensor<3>>>,
}

impl PatchEmbed {
    pub fn new(cin: usize, dim: usize, patch: usize, side: usize, pool: TokenPool, device: &Device) -> Self {
        let tokens = side * side + usize::from(pool == TokenPool::Cls);
        let normal = Initializer::Normal { mean: 0.0, std: 0.02 };
        PatchEmbed {
            proj: Conv2dConfig::new([cin, dim], [patch, patch]).with_stride([patch, patch]).init(device),
            position: normal.init([1, tokens, dim], device),
            cls: (pool == TokenPool::Cls).then(|| normal.init([1, 1, dim], device)),
        }
    }

    /// [batch, tokens, dim, 1].
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut t = patch_tokens(&self.proj, x);
        let [b, _, d] = t.dims();
        if let Some(cls) = &self.cls {
            t = Tensor::cat(vec![cls.val().expand([b, 1, d]), t], 1);
        }
        (t + self.position.val()).unsqueeze_dim(3)
    }
}

/// The patches of `x` cut and embedded by `proj` (patch×patch, stride patch), as `[batch, tokens, dim]`
/// in row-major order over the grid.
pub fn patch_tokens(proj: &Conv2d, x: Tensor<4>) -> Tensor<3> {
    let p = proj.forward(x);
    let [b, d, h, w] = p.dims();
    p.reshape([b, d, h * w]).swap_dims(1, 2)
}

/// The second half of a pre-norm block, given `x` `[batch, tokens, dim]` and its attention branch `a`:
/// m = MLP(LN(x + a)) (ratio 4, GELU), the output x + a + m and the two residual branches a and m, which
/// both enter the kinetic energy. The ViT's block and Swin's block share it.
pub fn pre_norm_output(x: Tensor<3>, a: Tensor<3>, ln: &LayerNorm, fc1: &Linear, fc2: &Linear) -> BlockOutput {
    let x = x + a.clone();
    let m = fc2.forward(gelu(fc1.forward(ln.forward(x.clone()))));
    let output = (x + m.clone()).unsqueeze_dim(3);
    BlockOutput { output, residuals: vec![a.unsqueeze_dim(3), m.unsqueeze_dim(3)] }
}

/// A pre-norm transformer block.
#[derive(Module, Debug)]
pub struct TransformerBlock {
    ln1: LayerNorm,
    attn: MultiHeadAttention,
    ln2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl TransformerBlock {
    pub fn new(dim: usize, heads: usize, device: &Device) -> Self {
        TransformerBlock {
            ln1: LayerNormConfig::new(dim).init(device),
            attn: MultiHeadAttentionConfig::new(dim, heads).with_dropout(0.0).init(device),
            ln2: LayerNormConfig::new(dim).init(device),
            fc1: LinearConfig::new(dim, 4 * dim).init(device),
            fc2: LinearConfig::new(4 * dim, dim).init(device),
        }
    }

    /// Output and the two residual branches: a = Attn(LN(x)), m = MLP(LN(x + a)); out = x + a + m.
    pub fn forward(&self, x: Tensor<4>) -> BlockOutput {
        let x = x.squeeze_dim::<3>(3);
        let a = self.attn.forward(MhaInput::self_attn(self.ln1.forward(x.clone()))).context;
        pre_norm_output(x, a, &self.ln2, &self.fc1, &self.fc2)
    }
}

/// Head on tokens: LN → pool → linear.
#[derive(Module, Debug)]
pub struct TokenHead {
    ln: LayerNorm,
    fc: Linear,
    cls: bool,
}

impl TokenHead {
    pub fn new(dim: usize, classes: usize, pool: TokenPool, device: &Device) -> Self {
        TokenHead { ln: LayerNormConfig::new(dim).init(device), fc: LinearConfig::new(dim, classes).init(device), cls: pool == TokenPool::Cls }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let t = self.ln.forward(x.squeeze_dim::<3>(3));
        let pooled: Tensor<2> = if self.cls { t.narrow(1, 0, 1).squeeze_dim(1) } else { t.mean_dim(1).squeeze_dim(1) };
        self.fc.forward(pooled)
    }
}
