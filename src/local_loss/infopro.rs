//! InfoPro's reconstruction term (Wang et al., "Revisiting Locally Supervised Learning: an Alternative to
//! End-to-end Training", ICLR 2021, and its code's `Decoder`): the module's output h, resized to the image's
//! side (bilinear, corners aligned), goes through conv 3×3 (→ 12) → BN → ReLU → conv 3×3 (→ image
//! channels) → sigmoid, and is compared with the input image (its pixels in [0, 1], before normalisation)
//! by binary cross-entropy, mean over every pixel. It lower-bounds the information h keeps about the
//! input, which InfoPro keeps from collapsing in early modules.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

use crate::model::Init;
use crate::model::layers::batch_norm;

/// Width of the decoder's hidden layer (InfoPro's `12 * widen`, widen = 1).
pub const DECODER_WIDTH: usize = 12;

/// The decoder of one module, with the weights (λ₁, λ₂) its module's loss gives reconstruction and CE.
#[derive(Module, Debug)]
pub struct ReconstructionDecoder {
    conv1: Conv2d,
    bn: BatchNorm,
    conv2: Conv2d,
    image_size: usize,
    pub recon_weight: f64,
    pub ce_weight: f64,
}

/// 3×3 convolution with a bias ("same" padding), as PyTorch's `nn.Conv2d` default.
fn conv3(cin: usize, cout: usize, init: &Init, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).with_initializer(init.conv()).init(device)
}

impl ReconstructionDecoder {
    pub fn new(channels: usize, image_channels: usize, image_size: usize, (recon_weight, ce_weight): (f64, f64), init: &Init, device: &Device) -> Self {
        ReconstructionDecoder {
            conv1: conv3(channels, DECODER_WIDTH, init, device),
            bn: batch_norm(DECODER_WIDTH, device),
            conv2: conv3(DECODER_WIDTH, image_channels, init, device),
            image_size,
            recon_weight,
            ce_weight,
        }
    }

    /// The reconstruction's logits (before the sigmoid), at the image's side.
    pub fn decode(&self, features: Tensor<4>) -> Tensor<4> {
        let x = upsample(features, self.image_size);
        self.conv2.forward(relu(self.bn.forward(self.conv1.forward(x))))
    }

    /// λ₁ · BCE(sigmoid(decoder(h)), image).
    pub fn term(&self, features: Tensor<4>, image: &Tensor<4>) -> Tensor<1> {
        reconstruction_bce(self.decode(features), image.clone()) * self.recon_weight
    }
}

/// `F.interpolate(x, size=[side, side], mode='bilinear', align_corners=True)`; the identity at that side.
pub fn upsample(x: Tensor<4>, side: usize) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    if h == side && w == side {
        return x;
    }
    interpolate(x, InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(true).with_output_size([side, side]))
}

/// `nn.BCELoss()(sigmoid(z), target)`, the mean over every element, computed from the logits z as
/// max(z, 0) − z·t + log(1 + e^−|z|) (the same value without the sigmoid's rounding to 0 or 1, where
/// PyTorch clamps the log at −100).
pub fn reconstruction_bce(logits: Tensor<4>, target: Tensor<4>) -> Tensor<1> {
    let softplus = (-logits.clone().abs()).exp().log1p();
    (logits.clone().clamp_min(0.0) - logits * target + softplus).mean()
}
