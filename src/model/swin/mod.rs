//! The Swin transformer (Liu et al. 2021): a patch embedding, then stages of Swin blocks alternating regular
//! and shifted windows (window multi-head self-attention with a relative position bias, pre-norm
//! x + Attn(LN(x)), then x + MLP(LN(x))), with patch merging between the stages (each halves the grid and
//! doubles the width). Tokens travel between modules as `[batch, side², dim, 1]`, row-major over the grid,
//! as the ViT's do, and every module's head is the ViT's token head (LN → mean pool → linear).
//!
//! The transport term: a Swin block has two residual branches, attention and MLP, and both enter the
//! kinetic energy (as in the ViT). Patch merging has no residual branch and contributes none; `trgl analyze`
//! measures it against a parameter-free projection (`PatchMerging::project`).
//!
//! Where the grid side is at most the window, the window is the side and there is no shift, as in the
//! official code. A side that is not a multiple of the window is padded (and the padding masked); an odd
//! side is padded before merging (`window`, `merge`): 28-px images (Fashion-MNIST) give grids of 14, 7, 4.
//!
//! Linear layers take burn's default initialisation (PyTorch's `nn.Linear` default), as the ViT's do; the
//! official code draws their weights from N(0, 0.02). On tests/swin.rs's every-mode run (swin-mini, width
//! 16, K = 3, two epochs of 1 024 embedded Fashion-MNIST images, AdamW 0.003) the default gave 46.6–66.0 %
//! per module in sequential mode and 63.8 % end-to-end, N(0, 0.02) (weights and biases) 41.8–60.6 % and
//! 48.4 %; only the parallel modes' modules 2–3 did better with N(0, 0.02) (58.6 %, 53.8 % against 51.4 %,
//! 47.0 %).

pub mod attention;
pub mod block;
pub mod merge;
pub mod window;

pub use attention::WindowAttention;
pub use block::SwinBlock;
pub use merge::{PatchMerging, SwinEmbed};

use super::plan::{ArchPlan, UnitKind, UnitPlan};
use crate::error::{Error, Result};

/// A named size: embedding width, blocks per stage, heads of the first stage (doubling with each stage),
/// and the window at 224 px.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwinSize {
    pub dim: usize,
    pub depths: &'static [usize],
    pub heads: usize,
}

pub fn size(name: &str) -> Option<SwinSize> {
    Some(match name {
        // Swin-T: C = 96, depths 2/2/6/2, heads 3/6/12/24 (28.29 M parameters at 224 px, 1000 classes).
        "swin-t" => SwinSize { dim: 96, depths: &[2, 2, 6, 2], heads: 3 },
        // CPU-sized: three stages of two blocks, heads 2/4/8 (head width 16).
        "swin-mini" => SwinSize { dim: 32, depths: &[2, 2, 2], heads: 2 },
        _ => return None,
    })
}

/// Patch side for an image side: 2 up to 32 pixels, 4 above (the published Swin's). A 4-px patch on a
/// 32-px image would leave an 8×8 grid, merged to 4×4 and 2×2: windows of one or four tokens from the
/// second stage on; with 2-px patches the grid is 16×16, and Swin-T's four stages see 16, 8, 4, 2.
pub fn patch_for(image_size: usize) -> usize {
    if image_size <= 32 { 2 } else { 4 }
}

/// Window side for an image side: 7 above 64 pixels (the published 224-px Swin's), 4 up to 64 (a 7-wide
/// window would cover a 16×16 grid in 3×3 windows with padding, and the whole grid from the second stage).
pub fn window_for(image_size: usize) -> usize {
    if image_size <= 64 { 4 } else { 7 }
}

/// The plan of `name` with embedding width `dim` and `heads` in the first stage: the patch embedding is the
/// stem, every Swin block and every patch merging a unit (the merging as the last unit of its stage).
pub fn plan(name: &str, size: SwinSize, dim: usize, heads: usize, in_channels: usize, image_size: usize, classes: usize) -> Result<ArchPlan> {
    if dim == 0 {
        return Err(Error::config("model.width", "must be at least 1"));
    }
    let patch = patch_for(image_size).min(image_size);
    let stages = size.depths.len();
    let grid = image_size.checked_div(patch).unwrap_or(0);
    // Each merging needs at least two tokens per side (a grid of 2^(stages − 1) has them).
    if (1..stages).try_fold(grid, |side, _| (side >= 2).then(|| side.div_ceil(2))).is_none_or(|last| last == 0) {
        return Err(Error::config(
            "model.arch",
            format!("`{name}` merges patches {} times: {image_size}-px images give a {grid}×{grid} grid of {patch}-px patches, too few tokens per side to merge", stages - 1),
        ));
    }
    let mut side = grid;
    let window = window_for(image_size);
    let mut units = vec![UnitPlan { kind: UnitKind::SwinEmbed { patch }, in_channels, out_channels: dim, out_size: side }];
    let mut stage_positions = vec![(0, 0)];
    let (mut c, mut h) = (dim, heads);
    for (stage, &depth) in size.depths.iter().enumerate() {
        let (w, shift) = if side <= window { (side, 0) } else { (window, window / 2) };
        for i in 0..depth {
            let shift = if i % 2 == 1 { shift } else { 0 };
            units.push(UnitPlan { kind: UnitKind::Swin { heads: h, window: w, shift }, in_channels: c, out_channels: c, out_size: side });
            stage_positions.push((stage + 1, i));
        }
        if stage + 1 < stages {
            units.push(UnitPlan { kind: UnitKind::PatchMerge { side }, in_channels: c, out_channels: 2 * c, out_size: side.div_ceil(2) });
            side = side.div_ceil(2);
            stage_positions.push((stage + 1, depth));
            (c, h) = (2 * c, 2 * h);
        }
    }
    Ok(ArchPlan { name: name.to_string(), units, stage_positions, classes, in_channels, image_size })
}
