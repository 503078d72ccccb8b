//! The `[model]`, `[split]` and `[head]` sections of a config: which network, cut into how many modules,
//! with which auxiliary heads.

pub mod head;
mod validate;

use serde::{Deserialize, Serialize};

pub use head::{HeadKind, HeadSpec, LastHead, PerModule};
pub use validate::validate_split_and_head;

use super::block::ShortcutKind;
use super::imagenet_resnet::StemKind;
use super::init::InitScheme;
use super::split::SplitMethod;
use super::vit::TokenPool;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// See `trgl info --models`: resnet20/32/56/110 (CIFAR, any 6n+2), resnet18/34/50/101/152
    /// (ImageNet-style), vgg11/13/16/19, densenet-bc-<6n+4>, vit-mini/tiny/small/base, swin-t, swin-mini.
    pub arch: String,
    /// Base width; default: the architecture's (16 for CIFAR ResNets, 64 for the others).
    pub width: Option<usize>,
    /// ImageNet-style ResNets: `auto` (conv3 up to 32 px, conv7 up to 64, conv7-maxpool above), `conv3`,
    /// `conv7` (stride 2, no max-pool), `conv7-maxpool`.
    pub stem: StemKind,
    /// ViTs: how heads reduce the tokens, `mean` or `cls` (a class token; Swin has none: `mean` only).
    pub token_pool: TokenPool,
    pub shortcut: ShortcutKind,
    pub init: InitScheme,
    /// Gain of the orthogonal initialisation.
    pub init_gain: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitConfig {
    /// K.
    pub modules: usize,
    pub method: SplitMethod,
    /// For method `cuts`: `[stage, i]` = after block i of stage `stage` (stage 0 = the stem).
    pub cuts: Vec<[usize; 2]>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig { arch: "resnet20".into(), width: None, stem: StemKind::Auto, token_pool: TokenPool::Mean, shortcut: ShortcutKind::A, init: InitScheme::Kaiming, init_gain: 1.0 }
    }
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig { modules: 4, method: SplitMethod::Even, cuts: Vec::new() }
    }
}
