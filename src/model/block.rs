//! Residual blocks. A block's forward returns its output *and* its residual branch r (before the skip
//! is added): r is what the transport term penalises.

use burn::nn::BatchNorm;
use burn::nn::conv::Conv2d;
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::s;
use serde::{Deserialize, Serialize};

use super::init::Init;
use super::layers::{batch_norm, conv};

/// How a block's skip connection matches a change of width or resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShortcutKind {
    /// Parameter-free: stride-2 subsample and zero channel padding (He et al.'s CIFAR option A; the
    /// paper's ResNet-110).
    A,
    /// 1×1 convolution + BatchNorm (option B).
    B,
}

/// A block's output and the residual branches that produced it.
pub struct BlockOutput {
    pub output: Tensor<4>,
    pub residuals: Vec<Tensor<4>>,
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
}

impl Block {
    pub fn forward(&self, x: Tensor<4>) -> BlockOutput {
        match self {
            Block::Basic(b) => b.forward(x),
        }
    }
}

/// The stem: conv3×3 + BN + ReLU, no residual branch.
#[derive(Module, Debug)]
pub struct Stem {
    conv: Conv2d,
    bn: BatchNorm,
}

impl Stem {
    pub fn new(cin: usize, cout: usize, init: &Init, device: &Device) -> Self {
        Stem { conv: conv(cin, cout, 3, 1, init, device), bn: batch_norm(cout, device) }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.bn.forward(self.conv.forward(x)))
    }
}
