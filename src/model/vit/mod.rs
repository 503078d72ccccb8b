//! A vision transformer (Dosovitskiy et al. 2021) with pre-norm blocks: x + Attn(LN(x)), then
//! x + MLP(LN(x)). Each block has two residual branches, attention and MLP, and both enter the kinetic
//! energy. Tokens travel between modules as 4-D tensors [batch, tokens, dim, 1], so splits, training modes
//! and the transport term treat them like feature maps; heads on tokens are LN → pool → linear.

pub mod transformer;

pub use transformer::{PatchEmbed, TokenHead, TokenPool, TransformerBlock};

use super::plan::{ArchPlan, UnitKind, UnitPlan};

/// A named size: (depth, dim, heads).
pub fn size(name: &str) -> Option<(usize, usize, usize)> {
    Some(match name {
        "vit-mini" => (6, 128, 4),
        "vit-tiny" => (12, 192, 3),
        "vit-small" => (12, 384, 6),
        "vit-base" => (12, 768, 12),
        _ => return None,
    })
}

/// Patch side for an image side: 4 up to 32 pixels, 8 up to 64, 16 above.
pub fn patch_for(image_size: usize) -> usize {
    match image_size {
        0..=32 => 4,
        33..=64 => 8,
        _ => 16,
    }
}

/// The plan of a ViT: the patch embedding is the stem, each transformer block a unit. `out_size` is the
/// side of the patch grid (tokens = side², plus the class token with `TokenPool::Cls`).
pub fn plan(name: &str, depth: usize, dim: usize, heads: usize, pool: TokenPool, in_channels: usize, image_size: usize, classes: usize) -> ArchPlan {
    let patch = patch_for(image_size).min(image_size);
    let side = image_size / patch;
    let mut units = vec![UnitPlan { kind: UnitKind::PatchEmbed { patch, pool }, in_channels, out_channels: dim, out_size: side }];
    let mut stage_positions = vec![(0, 0)];
    for i in 0..depth {
        units.push(UnitPlan { kind: UnitKind::Transformer { heads }, in_channels: dim, out_channels: dim, out_size: side });
        stage_positions.push((1, i));
    }
    ArchPlan { name: name.to_string(), units, stage_positions, classes, in_channels, image_size }
}
