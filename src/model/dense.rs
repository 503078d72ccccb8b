//! DenseNet-BC's units (Huang et al. 2017): a dense layer appends `growth` new channels to its input, a
//! transition compresses the channels and halves the resolution.
//!
//! The transport term needs each unit's displacement T(x) − x in its state space. A dense layer leaves the
//! input's channels as they are and appends the new ones, so its displacement is [0, new]: the kinetic term
//! is the mean of its square over the whole output. The layer returns new·√(k/(c+k)) as its residual, whose
//! mean square is exactly that (without building the zero part). A transition is not residual; like a VGG
//! layer it is measured against the parameter-free projection of its input (every other pixel, the first
//! `cout` channels): r = T(x) − P(x).

use burn::nn::BatchNorm;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::init::Init;
use super::layers::{BlockOutput, batch_norm, conv, project};

/// DenseNet's stem: a 3×3 convolution alone (each dense layer begins with its own BN-ReLU, and the stem's
/// output is carried, concatenated, through the whole first block).
#[derive(Module, Debug)]
pub struct PlainStem {
    conv: Conv2d,
}

impl PlainStem {
    pub fn new(cin: usize, cout: usize, init: &Init, device: &Device) -> Self {
        PlainStem { conv: conv(cin, cout, 3, 1, init, device) }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv.forward(x)
    }
}

/// BN-ReLU-conv1×1 (to 4k) - BN-ReLU-conv3×3 (to k), concatenated after the input.
#[derive(Module, Debug)]
pub struct DenseLayer {
    bn1: BatchNorm,
    conv1: Conv2d,
    bn2: BatchNorm,
    conv2: Conv2d,
    /// √(k / (c + k)): the residual's scale (module doc).
    scale: f64,
}

impl DenseLayer {
    pub fn new(cin: usize, growth: usize, init: &Init, device: &Device) -> Self {
        let mid = 4 * growth;
        DenseLayer {
            bn1: batch_norm(cin, device),
            conv1: conv(cin, mid, 1, 1, init, device),
            bn2: batch_norm(mid, device),
            conv2: conv(mid, growth, 3, 1, init, device),
            scale: (growth as f64 / (cin + growth) as f64).sqrt(),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> BlockOutput {
        let h = self.conv1.forward(relu(self.bn1.forward(x.clone())));
        let new = self.conv2.forward(relu(self.bn2.forward(h)));
        let r = new.clone() * self.scale;
        BlockOutput { output: Tensor::cat(vec![x, new], 1), residuals: vec![r] }
    }
}

/// BN-ReLU-conv1×1 (to `cout`) - 2×2 average pool.
#[derive(Module, Debug)]
pub struct Transition {
    bn: BatchNorm,
    conv: Conv2d,
    pool: AvgPool2d,
    cin: usize,
    cout: usize,
}

impl Transition {
    pub fn new(cin: usize, cout: usize, init: &Init, device: &Device) -> Self {
        let pool = AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        Transition { bn: batch_norm(cin, device), conv: conv(cin, cout, 1, 1, init, device), pool, cin, cout }
    }

    pub fn forward(&self, x: Tensor<4>) -> BlockOutput {
        let h = self.conv.forward(relu(self.bn.forward(x.clone())));
        let output = self.pool.forward(h);
        let r = output.clone() - project(x, self.cin, self.cout, output.dims()[2]);
        BlockOutput { output, residuals: vec![r] }
    }
}
