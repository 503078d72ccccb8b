//! A network as data: the ordered units (stem, blocks) a split cuts into modules, with the shapes and
//! estimated costs that `trgl info` and the memory-balanced split need.

use burn::prelude::*;

use super::block::{BasicBlock, Block, Bottleneck, ConvStem, Pool, ShortcutKind, Stem, VggLayer};
use super::dense::{DenseLayer, PlainStem, Transition};
use super::swin::{PatchMerging, SwinBlock, SwinEmbed};
use super::vit::{PatchEmbed, TokenPool, TransformerBlock};
use super::config::HeadSpec;
use super::init::Init;

#[derive(Clone, Debug, PartialEq)]
pub enum UnitKind {
    Stem { kernel: usize, stride: usize, pool: Pool },
    /// A 3×3 convolution alone, no BatchNorm or ReLU (DenseNet: its layers begin with their own BN-ReLU).
    PlainStem,
    Basic { stride: usize, shortcut: ShortcutKind },
    Bottleneck { stride: usize, mid: usize, shortcut: ShortcutKind },
    Vgg { pool: Pool },
    PatchEmbed { patch: usize, pool: TokenPool },
    Transformer { heads: usize },
    /// DenseNet-BC: appends `growth` channels (`dense::DenseLayer`).
    Dense { growth: usize },
    /// DenseNet-BC: compresses the channels, halves the resolution (`dense::Transition`).
    Transition,
    /// Swin: patch embedding (conv patch×patch, stride patch, then LayerNorm).
    SwinEmbed { patch: usize },
    /// Swin: a block with windows of `window` tokens a side, cyclically shifted by `shift` (0: regular).
    Swin { heads: usize, window: usize, shift: usize },
    /// Swin: patch merging of a grid of `side` tokens a side (halves it, doubles the width).
    PatchMerge { side: usize },
}

/// One unit of the network: the stem or one block.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitPlan {
    pub kind: UnitKind,
    pub in_channels: usize,
    pub out_channels: usize,
    /// Side of the (square) output feature map.
    pub out_size: usize,
}

impl UnitPlan {
    /// A 3×3, stride-1 stem without pooling (CIFAR ResNets).
    pub fn stem(cin: usize, cout: usize, size: usize) -> Self {
        UnitPlan { kind: UnitKind::Stem { kernel: 3, stride: 1, pool: Pool::None }, in_channels: cin, out_channels: cout, out_size: size }
    }

    pub fn basic(cin: usize, cout: usize, stride: usize, out_size: usize, shortcut: ShortcutKind) -> Self {
        UnitPlan { kind: UnitKind::Basic { stride, shortcut }, in_channels: cin, out_channels: cout, out_size }
    }

    pub fn out_elems(&self) -> usize {
        self.out_channels * self.out_size * self.out_size
    }

    /// Floats per sample that autodiff keeps for this unit's backward pass at the unit's output resolution;
    /// the unit's input is counted by the unit before it. Each conv's output is kept (batch norm's input);
    /// batch norm's output is not, since the ReLU after it keeps its own output and overwrites it in place
    /// (vendor/burn-autodiff), and so is a residual sum's.
    pub fn activation_floats(&self) -> usize {
        let plane = self.out_size * self.out_size;
        match self.kind {
            // conv out, ReLU out (before the pool, up to 4× the output plane), pool out
            UnitKind::Stem { pool, .. } | UnitKind::Vgg { pool } => {
                let before_pool = if pool == Pool::None { 1 } else { 4 };
                2 * before_pool * self.out_elems() + self.out_elems()
            }
            // conv1 out, relu out, conv2 out, bn2 out (= r, kept for the kinetic energy), relu out
            UnitKind::Basic { .. } => 5 * self.out_elems(),
            // three conv/ReLU pairs (the first at the input resolution), r and the last ReLU's output
            UnitKind::Bottleneck { stride, mid, .. } => 2 * mid * plane * stride * stride + 2 * mid * plane + 3 * self.out_elems(),
            UnitKind::PlainStem => self.out_elems(),
            // projection out, with position embeddings
            UnitKind::PatchEmbed { .. } => 2 * self.out_elems(),
            // per token: LN, q/k/v, context, output projection, sum, LN, fc1, GELU, fc2, sum (17·dim), and
            // the attention weights (heads × tokens per token)
            UnitKind::Transformer { heads } => 17 * self.out_elems() + heads * plane * plane,
            // BN-ReLU of the input, conv1 out and its BN-ReLU (4k), the new channels, the concatenated output
            UnitKind::Dense { growth } => (2 * self.in_channels + 9 * growth) * plane + self.out_elems(),
            // BN-ReLU of the input (at the input resolution), conv out before the pool, pool out, r
            UnitKind::Transition => 2 * self.in_channels * plane * 4 + 4 * self.out_elems() + 2 * self.out_elems(),
            // projection out, LN out
            UnitKind::SwinEmbed { .. } => 2 * self.out_elems(),
            // as a ViT block's 17·dim per token, with the shift, window partition and their reverses (4·dim),
            // and the attention logits and weights (heads × window² per token of the padded grid)
            UnitKind::Swin { heads, window, .. } => {
                let padded = super::swin::window::padded(self.out_size, window);
                21 * self.out_elems() + 2 * heads * padded * padded * window * window
            }
            // the 2×2 concatenation (4C) and its LN out at the output resolution, the reduction's output
            UnitKind::PatchMerge { .. } => 4 * self.out_elems() + self.out_elems(),
        }
    }

    pub fn build_stem(&self, init: &Init, device: &Device) -> Option<Stem> {
        match self.kind {
            UnitKind::Stem { kernel, stride, pool } => Some(Stem::Conv(ConvStem::new(self.in_channels, self.out_channels, kernel, stride, pool, init, device))),
            UnitKind::PlainStem => Some(Stem::Plain(PlainStem::new(self.in_channels, self.out_channels, init, device))),
            UnitKind::PatchEmbed { patch, pool } => Some(Stem::Patch(PatchEmbed::new(self.in_channels, self.out_channels, patch, self.out_size, pool, device))),
            UnitKind::SwinEmbed { patch } => Some(Stem::Swin(SwinEmbed::new(self.in_channels, self.out_channels, patch, device))),
            _ => None,
        }
    }

    pub fn build_block(&self, init: &Init, device: &Device) -> Option<Block> {
        let (cin, cout) = (self.in_channels, self.out_channels);
        match self.kind {
            UnitKind::Stem { .. } | UnitKind::PlainStem | UnitKind::PatchEmbed { .. } | UnitKind::SwinEmbed { .. } => None,
            UnitKind::Transformer { heads } => Some(Block::Transformer(TransformerBlock::new(cout, heads, device))),
            UnitKind::Basic { stride, shortcut } => Some(Block::Basic(BasicBlock::new(cin, cout, stride, shortcut, init, device))),
            UnitKind::Bottleneck { stride, mid, shortcut } => Some(Block::Bottleneck(Bottleneck::new(cin, mid, cout, stride, shortcut, init, device))),
            UnitKind::Vgg { pool } => Some(Block::Vgg(VggLayer::new(cin, cout, pool, init, device))),
            UnitKind::Dense { growth } => Some(Block::Dense(DenseLayer::new(cin, growth, init, device))),
            UnitKind::Transition => Some(Block::Transition(Transition::new(cin, cout, init, device))),
            UnitKind::Swin { heads, window, shift } => Some(Block::Swin(SwinBlock::new(cout, heads, self.out_size, window, shift, device))),
            UnitKind::PatchMerge { side } => Some(Block::PatchMerge(PatchMerging::new(cin, side, device))),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ArchPlan {
    pub name: String,
    /// Unit 0 is the stem, units 1.. are blocks.
    pub units: Vec<UnitPlan>,
    /// `(stage, index in stage)` of each unit, stage 0 being the stem: how InfoPro's cut tables name places.
    pub stage_positions: Vec<(usize, usize)>,
    pub classes: usize,
    pub in_channels: usize,
    pub image_size: usize,
}

impl ArchPlan {
    /// `Some` for networks of tokens (ViT, Swin): how their heads pool them.
    pub fn token_pool(&self) -> Option<TokenPool> {
        match self.units[0].kind {
            UnitKind::PatchEmbed { pool, .. } => Some(pool),
            UnitKind::SwinEmbed { .. } => Some(TokenPool::Mean),
            _ => None,
        }
    }

    pub fn num_blocks(&self) -> usize {
        self.units.len() - 1
    }

    /// Floats per sample that a head reading the output of unit `u` keeps for backward.
    pub fn head_activation_floats(&self, head: &HeadSpec, u: usize) -> usize {
        let unit = &self.units[u];
        // conv out and ReLU/BN out at full resolution (1cnn, 1c2f); the pooled parts are negligible.
        match head.kind {
            super::config::HeadKind::Linear => unit.out_channels,
            super::config::HeadKind::MlpSr => 3 * head.mlp_sr_layers * unit.out_elems() / 16 + head.hidden,
            _ => 2 * unit.out_elems() + head.hidden,
        }
    }
}
