//! Cutting a network's units (stem, blocks) into K modules of consecutive units. A split is data: a list
//! of unit ranges; nothing else in the crate depends on K.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::config::HeadSpec;
use super::plan::ArchPlan;
use crate::error::{Error, Result};

/// How the user asks for a split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitMethod {
    /// Equal block counts, the extra blocks going to the first modules; the stem joins module 1.
    Even,
    /// Explicit cuts `[stage, i]`: a cut falls after block i of stage `stage` (stage 0 = the stem).
    Cuts,
    /// InfoPro's published cut table for this network and K.
    Infopro,
    /// Cuts that minimise the largest module's estimated activation memory (blocks + aux head).
    Balanced,
}

/// Unit ranges, one per module, consecutive and covering the whole network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub modules: Vec<Range<usize>>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.modules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }

    /// Blocks (units other than the stem) in each module.
    pub fn blocks_per_module(&self) -> Vec<usize> {
        self.modules.iter().map(|r| r.clone().filter(|&u| u != 0).count()).collect()
    }

    fn from_boundaries(units: usize, ends: &[usize]) -> Split {
        let mut start = 0;
        let mut modules = Vec::with_capacity(ends.len() + 1);
        for &end in ends.iter().chain(std::iter::once(&units)) {
            modules.push(start..end);
            start = end;
        }
        Split { modules }
    }
}

pub fn check_modules(plan: &ArchPlan, k: usize) -> Result<()> {
    if k == 0 {
        return Err(Error::Split("the number of modules must be at least 1".into()));
    }
    if k > plan.units.len() {
        return Err(Error::Split(format!(
            "{} has {} units (stem + {} blocks): it cannot be cut into {k} modules",
            plan.name,
            plan.units.len(),
            plan.num_blocks()
        )));
    }
    Ok(())
}

/// Equal numbers of blocks per module (the first `blocks % k` modules get one more); the stem rides with
/// module 1. ResNet-110, K = 4 → 14/14/13/13.
pub fn split_even(plan: &ArchPlan, k: usize) -> Result<Split> {
    check_modules(plan, k)?;
    let blocks = plan.num_blocks();
    if k > blocks {
        return Err(Error::Split(format!("{} has {blocks} blocks: an even split into {k} modules is impossible", plan.name)));
    }
    let mut ends = Vec::with_capacity(k - 1);
    let mut end = 1; // after the stem
    for m in 0..k - 1 {
        end += blocks / k + usize::from(m < blocks % k);
        ends.push(end);
    }
    Ok(Split::from_boundaries(plan.units.len(), &ends))
}

/// Cuts given as `[stage, i]` places (after block i of stage `stage`; `[0, 0]` = after the stem).
pub fn split_at_cuts(plan: &ArchPlan, cuts: &[[usize; 2]]) -> Result<Split> {
    let mut ends = Vec::with_capacity(cuts.len());
    for cut in cuts {
        let unit = plan.stage_positions.iter().position(|&(s, i)| [s, i] == *cut).ok_or_else(|| {
            Error::Split(format!("cut {cut:?} names no block of {} (stages 1..=3 have {} blocks each, indexed from 0; [0, 0] is the stem)", plan.name, plan.num_blocks() / 3))
        })?;
        ends.push(unit + 1);
    }
    if ends.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::Split(format!("cuts {cuts:?} must be strictly increasing")));
    }
    if ends.last() == Some(&plan.units.len()) {
        return Err(Error::Split(format!("cut {:?} is after the last block: the last module would be empty", cuts.last().unwrap())));
    }
    Ok(Split::from_boundaries(plan.units.len(), &ends))
}

/// InfoPro's cut tables (Wang et al. 2021, their code's `InfoPro` dict) for ResNet-32 and ResNet-110.
pub fn infopro_cuts(depth: usize, k: usize) -> Option<Vec<[usize; 2]>> {
    let cuts: &[[usize; 2]] = match (depth, k) {
        (32, 2) => &[[2, 1]],
        (32, 3) => &[[1, 4], [2, 4]],
        (32, 4) => &[[1, 2], [2, 1], [3, 0]],
        (32, 8) => &[[1, 0], [1, 2], [1, 4], [2, 1], [2, 3], [3, 0], [3, 2]],
        (32, 16) => &[
            [0, 0], [1, 0], [1, 1], [1, 2], [1, 3], [1, 4], [2, 0], [2, 1], [2, 2], [2, 3], [2, 4], [3, 0], [3, 1],
            [3, 2], [3, 3],
        ],
        (110, 2) => &[[2, 8]],
        (110, 3) => &[[1, 17], [2, 17]],
        (110, 4) => &[[1, 11], [2, 7], [3, 3]],
        (110, 8) => &[[1, 4], [1, 11], [2, 0], [2, 7], [2, 14], [3, 3], [3, 10]],
        (110, 16) => &[
            [1, 1], [1, 4], [1, 7], [1, 10], [1, 13], [1, 16], [2, 1], [2, 4], [2, 7], [2, 11], [2, 15], [3, 1],
            [3, 5], [3, 9], [3, 13],
        ],
        _ => return None,
    };
    Some(cuts.to_vec())
}

/// InfoPro*'s memory-balanced cuts for ResNet-110 (K = 2, 3, 4).
pub fn infopro_balanced_cuts(depth: usize, k: usize) -> Option<Vec<[usize; 2]>> {
    let cuts: &[[usize; 2]] = match (depth, k) {
        (110, 2) => &[[1, 14]],
        (110, 3) => &[[1, 9], [2, 2]],
        (110, 4) => &[[1, 6], [1, 14], [2, 8]],
        _ => return None,
    };
    Some(cuts.to_vec())
}

/// Estimated activation floats per sample of module `units` trained with an aux head (the last module's
/// head is the network's own, a linear head).
pub fn module_activation_floats(plan: &ArchPlan, units: Range<usize>, head: &HeadSpec, is_last: bool) -> usize {
    let input = if units.start == 0 { plan.in_channels * plan.image_size * plan.image_size } else { 0 };
    let blocks: usize = plan.units[units.clone()].iter().map(|u| u.activation_floats()).sum();
    let head_spec = if is_last && head.last == super::config::LastHead::Network { HeadSpec { kind: super::config::HeadKind::Linear, ..*head } } else { *head };
    input + blocks + plan.head_activation_floats(&head_spec, units.end - 1)
}

/// The K-way split minimising the largest module's estimated activation memory (exact, by dynamic
/// programming over the cut positions).
pub fn split_balanced(plan: &ArchPlan, k: usize, head: &HeadSpec) -> Result<Split> {
    check_modules(plan, k)?;
    let n = plan.units.len();
    let cost = |a: usize, b: usize| module_activation_floats(plan, a..b, head, b == n);
    // best[j][e]: smallest max-cost of cutting units 0..e into j+1 modules; from[j][e]: start of the last.
    let mut best = vec![vec![usize::MAX; n + 1]; k];
    let mut from = vec![vec![0; n + 1]; k];
    for (e, b) in best[0].iter_mut().enumerate().skip(1) {
        *b = cost(0, e);
    }
    for j in 1..k {
        for e in j + 1..=n {
            for s in j..e {
                let prev = best[j - 1][s];
                if prev == usize::MAX {
                    continue;
                }
                let c = prev.max(cost(s, e));
                if c < best[j][e] {
                    best[j][e] = c;
                    from[j][e] = s;
                }
            }
        }
    }
    let mut ends = Vec::with_capacity(k - 1);
    let mut e = n;
    for j in (1..k).rev() {
        e = from[j][e];
        ends.push(e);
    }
    ends.reverse();
    Ok(Split::from_boundaries(n, &ends))
}
