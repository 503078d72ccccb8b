//! ImageNet-style ResNets (He et al. 2016, table 1): ResNet-18/34 of basic blocks, ResNet-50/101/152 of
//! bottlenecks (expansion 4); four stages of widths w, 2w, 4w, 8w (w = 64), projection shortcuts (option B,
//! torchvision's) where the shape changes. The stem fits the input: conv3×3 stride 1 for 32×32 images,
//! conv7×7 stride 2 without max-pool for 64×64 ones (the paper's TinyImageNet runs), or the ImageNet stem
//! (conv7×7 stride 2 + max-pool 3×3 stride 2).

use serde::{Deserialize, Serialize};

use super::block::{Pool, ShortcutKind};
use super::plan::{ArchPlan, UnitKind, UnitPlan};

/// Which stem an ImageNet-style network starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StemKind {
    /// conv3 for images up to 32 pixels, conv7 up to 64, conv7-maxpool above.
    Auto,
    Conv3,
    Conv7,
    Conv7Maxpool,
}

impl StemKind {
    pub fn resolve(self, image_size: usize) -> StemKind {
        match self {
            StemKind::Auto if image_size <= 32 => StemKind::Conv3,
            StemKind::Auto if image_size <= 64 => StemKind::Conv7,
            StemKind::Auto => StemKind::Conv7Maxpool,
            s => s,
        }
    }
}

/// (blocks per stage, bottleneck) of each depth.
pub fn layout(depth: usize) -> Option<([usize; 4], bool)> {
    Some(match depth {
        18 => ([2, 2, 2, 2], false),
        34 => ([3, 4, 6, 3], false),
        50 => ([3, 4, 6, 3], true),
        101 => ([3, 4, 23, 3], true),
        152 => ([3, 8, 36, 3], true),
        _ => return None,
    })
}

pub fn plan(depth: usize, width: usize, stem: StemKind, in_channels: usize, image_size: usize, classes: usize) -> Option<ArchPlan> {
    let (blocks, bottleneck) = layout(depth)?;
    let (kernel, stride, pool) = match stem.resolve(image_size) {
        StemKind::Conv3 | StemKind::Auto => (3, 1, Pool::None),
        StemKind::Conv7 => (7, 2, Pool::None),
        StemKind::Conv7Maxpool => (7, 2, Pool::Max3),
    };
    let mut size = pool.out_size(image_size.div_ceil(stride));
    let stem = UnitPlan { kind: UnitKind::Stem { kernel, stride, pool }, in_channels, out_channels: width, out_size: size };
    let mut units = vec![stem];
    let mut stage_positions = vec![(0, 0)];
    let mut c = width;
    for (stage, &n) in blocks.iter().enumerate() {
        let mid = width << stage;
        let cout = if bottleneck { 4 * mid } else { mid };
        for i in 0..n {
            let s = if stage > 0 && i == 0 { 2 } else { 1 };
            size = size.div_ceil(s);
            let kind = if bottleneck {
                UnitKind::Bottleneck { stride: s, mid, shortcut: ShortcutKind::B }
            } else {
                UnitKind::Basic { stride: s, shortcut: ShortcutKind::B }
            };
            units.push(UnitPlan { kind, in_channels: c, out_channels: cout, out_size: size });
            stage_positions.push((stage + 1, i));
            c = cout;
        }
    }
    Some(ArchPlan { name: format!("resnet{depth}"), units, stage_positions, classes, in_channels, image_size })
}
