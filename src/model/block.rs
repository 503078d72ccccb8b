//! Residual blocks. A block's forward returns its output *and* its residual branch r (before the skip
//! is added): r is what the transport term penalises.

use burn::nn::conv::Conv2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::s;
use serde::{Deserialize, Serialize};

use super::dense::{DenseLayer, PlainStem, Transition};
use super::init::Init;
use super::swin::{PatchMerging, SwinBlock, SwinEmbed};
use super::vit::{PatchEmbed, TransformerBlock};
use super::layers::{batch_norm, conv};
pub use super::layers::project;

pub use super::layers::BlockOutput;

/// How a block's skip connection matches a change of width or resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShortcutKind {
    /// Parameter-free: stride-2 subsample and zero channel padding (He et al.'s CIFAR option A; the
    /// paper's ResNet-110).
    A,
    /// 1×1 convolution + BatchNorm (option B).
    B,
}

#[derive(Module, Debug)]
pub struct Projection {
    conv: Conv2d,
    bn: BatchNorm,
}

/// The skip path. `projection` is set for option B on a shape change; otherwise the path is the identity,
/// or option A's subsample-and-pad when `stride` > 1 or `pad_channels` > 0.
#[derive(Module, Debug)]
pub struct Shortcut {
    projection: Option<Projection>,
    stride: usize,
    pad_channels: usize,
}

impl Shortcut {
    fn new(kind: ShortcutKind, cin: usize, cout: usize, stride: usize, init: &Init, device: &Device) -> Self {
        let changes = stride != 1 || cin != cout;
        let projection = (changes && kind == ShortcutKind::B)
            .then(|| Projection { conv: conv(cin, cout, 1, stride, init, device), bn: batch_norm(cout, device) });
        let (stride, pad_channels) = match projection {
            Some(_) => (1, 0),
            None => (stride, cout - cin),
        };
        Shortcut { projection, stride, pad_channels }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        if let Some(p) = &self.projection {
            return p.bn.forward(p.conv.forward(x));
        }
        let x = if self.stride > 1 { x.slice(s![.., .., ..;self.stride as isize, ..;self.stride as isize]) } else { x };
        if self.pad_channels == 0 {
            return x;
        }
        // Zero channels split evenly on both sides, as the reference CIFAR ResNet code does.
        let before = self.pad_channels / 2;
        let after = self.pad_channels - before;
        x.pad([(before, after), (0, 0), (0, 0)], burn::tensor::ops::PadMode::Constant(0.0))
    }
}

/// He et al.'s basic block: out = relu(r + shortcut(x)), r = bn(conv(relu(bn(conv(x))))).
#[derive(Module, Debug)]
pub struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    shortcut: Shortcut,
}

impl BasicBlock {
    pub fn new(
        cin: usize,
        cout: usize,
        stride: usize,
        shortcut: ShortcutKind,
        init: &Init,
        device: &Device,
    ) -> Self {
        BasicBlock {
            conv1: conv(cin, cout, 3, stride, init, device),
            bn1: batch_norm(cout, device),
            conv2: conv(cout, cout, 3, 1, init, device),
            bn2: batch_norm(cout, device),
            shortcut: Shortcut::new(shortcut, cin, cout, stride, init, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> BlockOutput {
        let skip = self.shortcut.forward(x.clone());
        let h = relu(self.bn1.forward(self.conv1.forward(x)));
        let r = self.bn2.forward(self.conv2.forward(h));
        let output = relu(r.clone() + skip);
        BlockOutput { output, residuals: vec![r] }
    }
}

/// Any block a network is made of. New architectures add a variant; splits, heads and training modes
/// only see `forward`.
#[derive(Module, Debug)]
pub enum Block {
    Basic(BasicBlock),
    Bottleneck(Bottleneck),
    Vgg(VggLayer),
    Transformer(TransformerBlock),
    Dense(DenseLayer),
    Transition(Transition),
    Swin(SwinBlock),
    PatchMerge(PatchMerging),
}

impl Block {
    pub fn forward(&self, x: Tensor<4>) -> BlockOutput {
        match self {
            Block::Basic(b) => b.forward(x),
            Block::Bottleneck(b) => b.forward(x),
            Block::Vgg(l) => l.forward(x),
            Block::Transformer(t) => t.forward(x),
            Block::Dense(d) => d.forward(x),
            Block::Transition(t) => t.forward(x),
            Block::Swin(s) => s.forward(x),
            Block::PatchMerge(m) => m.forward(x),
        }
    }
}

/// He et al.'s bottleneck block (ResNet-50 and deeper; stride on the 3×3 conv, as torchvision's v1.5):
/// out = relu(r + shortcut(x)), r = bn(conv1×1(relu(bn(conv3×3(relu(bn(conv1×1(x)))))))), width mid → 4·mid.
#[derive(Module, Debug)]
pub struct Bottleneck {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    conv3: Conv2d,
    bn3: BatchNorm,
    shortcut: Shortcut,
}

impl Bottleneck {
    pub fn new(cin: usize, mid: usize, cout: usize, stride: usize, shortcut: ShortcutKind, init: &Init, device: &Device) -> Self {
        Bottleneck {
            conv1: conv(cin, mid, 1, 1, init, device),
            bn1: batch_norm(mid, device),
            conv2: conv(mid, mid, 3, stride, init, device),
            bn2: batch_norm(mid, device),
            conv3: conv(mid, cout, 1, 1, init, device),
            bn3: batch_norm(cout, device),
            shortcut: Shortcut::new(shortcut, cin, cout, stride, init, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> BlockOutput {
        let skip = self.shortcut.forward(x.clone());
        let h = relu(self.bn1.forward(self.conv1.forward(x)));
        let h = relu(self.bn2.forward(self.conv2.forward(h)));
        let r = self.bn3.forward(self.conv3.forward(h));
        let output = relu(r.clone() + skip);
        BlockOutput { output, residuals: vec![r] }
    }
}

/// Down-sampling after a stem or a VGG layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pool {
    None,
    /// 3×3, stride 2, padding 1 (ImageNet ResNets).
    Max3,
    /// 2×2, stride 2 (VGG).
    Max2,
}

impl Pool {
    fn build(self) -> Option<MaxPool2d> {
        match self {
            Pool::None => None,
            Pool::Max3 => Some(MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init()),
            Pool::Max2 => Some(MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init()),
        }
    }

    /// Output side for an input of side `size`.
    pub fn out_size(self, size: usize) -> usize {
        match self {
            Pool::None => size,
            Pool::Max3 => (size + 2 - 3) / 2 + 1,
            Pool::Max2 => size / 2,
        }
    }
}

/// A network's first unit, which has no residual branch: a convolution stem or a transformer's patch embedding.
#[derive(Module, Debug)]
pub enum Stem {
    Conv(ConvStem),
    Patch(PatchEmbed),
    Plain(PlainStem),
    Swin(SwinEmbed),
}

impl Stem {
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Stem::Conv(s) => s.forward(x),
            Stem::Patch(p) => p.forward(x),
            Stem::Plain(p) => p.forward(x),
            Stem::Swin(s) => s.forward(x),
        }
    }
}

/// A convolution stem: conv k×k (stride s) + BN + ReLU, optionally a max-pool.
#[derive(Module, Debug)]
pub struct ConvStem {
    conv: Conv2d,
    bn: BatchNorm,
    pool: Option<MaxPool2d>,
}

impl ConvStem {
    pub fn new(cin: usize, cout: usize, kernel: usize, stride: usize, pool: Pool, init: &Init, device: &Device) -> Self {
        ConvStem { conv: conv(cin, cout, kernel, stride, init, device), bn: batch_norm(cout, device), pool: pool.build() }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = relu(self.bn.forward(self.conv.forward(x)));
        match &self.pool {
            Some(p) => p.forward(x),
            None => x,
        }
    }
}

/// A VGG layer: conv3×3 + BN + ReLU (+ max-pool). It has no skip connection, so its transport term
/// compares its output with the input carried to the output's shape by a parameter-free projection P:
///
/// ```text
/// r = T(x) − P(x),   kinetic energy = mean(r²)
/// ```
///
/// P is the identity when the shapes match; otherwise option A's: a stride-2 subsample for each halving
/// of the resolution, then zero channels split evenly on both sides (more output channels) or the first
/// channels kept (fewer). So a layer that only moves features by a small displacement pays little, as a
/// residual block with a small residual branch does.
#[derive(Module, Debug)]
pub struct VggLayer {
    conv: Conv2d,
    bn: BatchNorm,
    pool: Option<MaxPool2d>,
    cin: usize,
    cout: usize,
}

impl VggLayer {
    pub fn new(cin: usize, cout: usize, pool: Pool, init: &Init, device: &Device) -> Self {
        VggLayer { conv: conv(cin, cout, 3, 1, init, device), bn: batch_norm(cout, device), pool: pool.build(), cin, cout }
    }

    pub fn forward(&self, x: Tensor<4>) -> BlockOutput {
        let h = relu(self.bn.forward(self.conv.forward(x.clone())));
        let output = match &self.pool {
            Some(p) => p.forward(h),
            None => h,
        };
        let r = output.clone() - project(x, self.cin, self.cout, output.dims()[2]);
        BlockOutput { output, residuals: vec![r] }
    }
}
