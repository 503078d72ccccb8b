//! DenseNet-BC for small inputs (Huang et al. 2017, the CIFAR variant): a 3×3 stem to 2k channels, three
//! dense blocks of (depth − 4) / 6 bottleneck layers each (growth k), a transition (compression ½, 2×2
//! average pool) after the first two, then global average pooling and a linear classifier. Every dense layer
//! and transition is a unit with a transport term (`dense`). The published network ends with BN-ReLU before
//! the pooling; here the classifier is the split's head on the last unit's output, as for every model.

use super::plan::{ArchPlan, UnitKind, UnitPlan};

/// `densenet-bc-<depth>` with growth `growth`; `None` unless depth = 6n + 4, n ≥ 1.
pub fn plan(depth: usize, growth: usize, in_channels: usize, image_size: usize, classes: usize) -> Option<ArchPlan> {
    if depth < 10 || (depth - 4) % 6 != 0 {
        return None;
    }
    let layers = (depth - 4) / 6;
    let mut c = 2 * growth;
    let mut size = image_size;
    let mut units = vec![UnitPlan { kind: UnitKind::PlainStem, in_channels, out_channels: c, out_size: size }];
    let mut stage_positions = vec![(0, 0)];
    for stage in 0..3 {
        for i in 0..layers {
            units.push(UnitPlan { kind: UnitKind::Dense { growth }, in_channels: c, out_channels: c + growth, out_size: size });
            stage_positions.push((stage + 1, i));
            c += growth;
        }
        if stage < 2 {
            let cout = c / 2;
            size /= 2;
            units.push(UnitPlan { kind: UnitKind::Transition, in_channels: c, out_channels: cout, out_size: size });
            stage_positions.push((stage + 1, layers));
            c = cout;
        }
    }
    Some(ArchPlan { name: format!("densenet-bc-{depth}"), units, stage_positions, classes, in_channels, image_size })
}
