//! VGG-11/13/16/19 with BatchNorm (Simonyan & Zisserman 2015, configurations A, B, D, E): 3×3 conv layers
//! in five stages of widths w, 2w, 4w, 8w, 8w (w = 64), each stage closed by a 2×2 max-pool, then global
//! average pooling and a linear classifier (the small-input variant; ImageNet's 4096-wide FC layers are not
//! built). The first layer is the stem; every other layer is a unit with a transport term (see
//! `block::VggLayer` for its projection).

use super::block::Pool;
use super::plan::{ArchPlan, UnitKind, UnitPlan};

/// Conv layers per stage of each depth.
pub fn layout(depth: usize) -> Option<[usize; 5]> {
    Some(match depth {
        11 => [1, 1, 2, 2, 2],
        13 => [2, 2, 2, 2, 2],
        16 => [2, 2, 3, 3, 3],
        19 => [2, 2, 4, 4, 4],
        _ => return None,
    })
}

pub fn plan(depth: usize, width: usize, in_channels: usize, image_size: usize, classes: usize) -> Option<ArchPlan> {
    let layers = layout(depth)?;
    let mut units = Vec::new();
    let mut stage_positions = Vec::new();
    let (mut c, mut size) = (in_channels, image_size);
    for (stage, &n) in layers.iter().enumerate() {
        let cout = width << stage.min(3);
        for i in 0..n {
            // Pooling halves the resolution down to 1×1 at most.
            let pool = if i + 1 == n && size > 1 { Pool::Max2 } else { Pool::None };
            size = pool.out_size(size);
            let kind = if units.is_empty() { UnitKind::Stem { kernel: 3, stride: 1, pool } } else { UnitKind::Vgg { pool } };
            units.push(UnitPlan { kind, in_channels: c, out_channels: cout, out_size: size });
            stage_positions.push(if units.len() == 1 { (0, 0) } else { (stage + 1, i) });
            c = cout;
        }
    }
    Some(ArchPlan { name: format!("vgg{depth}"), units, stage_positions, classes, in_channels, image_size })
}
