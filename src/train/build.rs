//! From a config to what trains: the architecture plan, its split into modules, and the network.

use crate::config::Config;
use crate::device::parse_device;
use crate::error::{Error, Result};
use crate::model::split::{infopro_balanced_cuts, infopro_cuts};
use crate::model::{ArchPlan, Init, Network, Split, SplitMethod, split_at_cuts, split_balanced, split_even};

/// The architecture plan a config describes, for data of the given shape.
pub fn plan_from_config(config: &Config, in_channels: usize, image_size: usize, classes: usize) -> Result<ArchPlan> {
    crate::model::registry::plan_for(&config.model, in_channels, image_size, classes)
}

/// The split a config asks for.
pub fn split_from_config(config: &Config, plan: &ArchPlan) -> Result<Split> {
    let k = config.split.modules;
    let depth = || plan.name.trim_start_matches("resnet").parse::<usize>().unwrap_or(0);
    match config.split.method {
        SplitMethod::Even => split_even(plan, k),
        SplitMethod::Cuts => split_at_cuts(plan, &config.split.cuts),
        SplitMethod::Balanced => split_balanced(plan, k, &config.head),
        SplitMethod::Infopro => {
            let cuts = infopro_cuts(depth(), k).ok_or_else(|| {
                Error::config("split.method", format!("InfoPro's tables cover resnet32 and resnet110 with K = 2, 3, 4, 8, 16, not {} with K = {k}", plan.name))
            })?;
            split_at_cuts(plan, &cuts)
        }
    }
}

/// The plan, split and network (freshly initialised, not seeded) that `config` describes for images of
/// `in_channels`×`image_size`² and `classes` classes, on the config's device without autodiff: what
/// inspection, export and prediction start from.
pub fn network_from_config(config: &Config, in_channels: usize, image_size: usize, classes: usize) -> Result<(ArchPlan, Split, Network)> {
    let plan = plan_from_config(config, in_channels, image_size, classes)?;
    let split = split_from_config(config, &plan)?;
    let device = parse_device(&config.device)?;
    let init = Init { scheme: config.model.init, gain: config.model.init_gain };
    let network = Network::new(&plan, &split, &config.head, &init, &device);
    Ok((plan, split, network))
}

/// InfoPro*'s memory-balanced cut table, where one exists.
pub fn infopro_balanced(plan: &ArchPlan, k: usize) -> Option<Vec<[usize; 2]>> {
    infopro_balanced_cuts(plan.name.trim_start_matches("resnet").parse().ok()?, k)
}
