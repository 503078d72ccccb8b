//! Constructors for the few layer shapes every architecture here is made of, and what a block of any of
//! them returns.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::s;

use burn::nn::Initializer;

use super::init::{Init, InitScheme};

/// A block's output and the residual branches that produced it.
pub struct BlockOutput {
    pub output: Tensor<4>,
    pub residuals: Vec<Tensor<4>>,
}

/// k×k convolution without bias ("same" padding for odd k), as ResNets use before a BatchNorm.
pub fn conv(cin: usize, cout: usize, k: usize, stride: usize, init: &Init, device: &Device) -> Conv2d {
    let p = k / 2;
    Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(false)
        .with_initializer(init.conv())
        .init(device)
}

pub fn batch_norm(channels: usize, device: &Device) -> BatchNorm {
    // PyTorch's defaults (momentum 0.1, eps 1e-5): burn's BatchNorm uses the same convention.
    BatchNormConfig::new(channels).init(device)
}

pub fn linear(d_in: usize, d_out: usize, init: &Init, device: &Device) -> Linear {
    match init.scheme {
        InitScheme::Kaiming => LinearConfig::new(d_in, d_out).with_initializer(init.linear()).init(device),
        // An orthogonal matrix has no meaning for the 1-D bias (burn would apply it there too): zeros.
        InitScheme::Orthogonal => {
            let mut l = LinearConfig::new(d_in, d_out).with_bias(false).with_initializer(init.linear()).init(device);
            l.bias = Some(Initializer::Zeros.init([d_out], device));
            l
        }
    }
}

/// P of a VGG layer or a DenseNet transition: `x` (with `cin` channels) carried to `cout` channels and side `size`.
pub fn project(x: Tensor<4>, cin: usize, cout: usize, size: usize) -> Tensor<4> {
    let mut x = x;
    while x.dims()[2] > size {
        x = x.slice(s![.., .., ..;2, ..;2]);
    }
    if cout > cin {
        let before = (cout - cin) / 2;
        x.pad([(before, cout - cin - before), (0, 0), (0, 0)], burn::tensor::ops::PadMode::Constant(0.0))
    } else if cout < cin {
        x.slice(s![.., 0..cout as isize, .., ..])
    } else {
        x
    }
}
