//! CIFAR ResNets of depth 6n+2 (He et al. 2016, §4.2): a 3×3 stem of width w, three stages of n basic
//! blocks of widths w, 2w, 4w (the first block of stages 2 and 3 halves the resolution), and a global
//! average pool + linear classifier. Any n builds; there is no code per depth or per split.

use serde::{Deserialize, Serialize};

use super::block::ShortcutKind;
use super::plan::{ArchPlan, UnitPlan};
use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResNetSpec {
    /// 6n+2: resnet20 (n=3), resnet32 (5), resnet56 (9), resnet110 (18), or any other n ≥ 1.
    pub depth: usize,
    /// Width of the stem and of stage 1; stages 2 and 3 double it.
    pub width: usize,
    pub shortcut: ShortcutKind,
}

impl ResNetSpec {
    /// Parses `resnet<depth>`; the field name is used in the error.
    pub fn from_name(field: &str, name: &str) -> Result<Self> {
        let depth = name
            .strip_prefix("resnet")
            .and_then(|d| d.parse::<usize>().ok())
            .ok_or_else(|| Error::config(field, format!("unknown architecture `{name}`; expected resnet<6n+2> such as resnet20, resnet32, resnet56, resnet110")))?;
        if depth < 8 || (depth - 2) % 6 != 0 {
            return Err(Error::config(field, format!("`{name}`: a CIFAR ResNet has depth 6n+2 with n ≥ 1 (8, 14, 20, 32, 56, 110, …)")));
        }
        Ok(ResNetSpec { depth, width: 16, shortcut: ShortcutKind::A })
    }

    pub fn blocks_per_stage(&self) -> usize {
        (self.depth - 2) / 6
    }

    /// The network as data: its units (stem, then blocks) with their shapes.
    pub fn plan(&self, in_channels: usize, image_size: usize, classes: usize) -> ArchPlan {
        let n = self.blocks_per_stage();
        let mut units = vec![UnitPlan::stem(in_channels, self.width, image_size)];
        let mut stage_positions = vec![(0, 0)];
        let (mut c, mut size) = (self.width, image_size);
        for stage in 0..3 {
            let cout = self.width << stage;
            for i in 0..n {
                let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                size = size.div_ceil(stride);
                units.push(UnitPlan::basic(c, cout, stride, size, self.shortcut));
                stage_positions.push((stage + 1, i));
                c = cout;
            }
        }
        ArchPlan { name: format!("resnet{}", self.depth), units, stage_positions, classes, in_channels, image_size }
    }
}
