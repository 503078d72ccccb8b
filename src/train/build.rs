//! From a config to what trains: the architecture plan, its split into modules, the network, and a whole
//! run ([`Session::new`]: the data's loaders and the training state too).

use std::path::Path;
use std::sync::Arc;

use crate::local_loss::aux_objectives;
use crate::config::Config;
use crate::data::{Loader, LoaderSpec, Normalize, Splits, SubsetSpec, stratified};
use crate::device::parse_device;
use crate::error::{Error, Result};
use crate::report::MetricsWriter;
use crate::train::session::{Loaders, RunRecord, Session, Trainer};
use crate::transport::TransportWeights;
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
    let aux = aux_objectives(&config.method, &plan, &split, &init, &device)?;
    let network = Network::new(&plan, &split, &config.head, &init, &device).with_aux(aux);
    Ok((plan, split, network))
}

/// InfoPro*'s memory-balanced cut table, where one exists.
pub fn infopro_balanced(plan: &ArchPlan, k: usize) -> Option<Vec<[usize; 2]>> {
    infopro_balanced_cuts(plan.name.trim_start_matches("resnet").parse().ok()?, k)
}

impl Session {
    /// Builds the network on the configured device and the loaders over `data`; metrics go to `metrics`.
    pub fn new(config: &Config, data: &Splits, metrics: Option<&Path>) -> Result<Session> {
        config.validate()?;
        data.check()?;
        let d = &config.data;
        let subset = SubsetSpec { per_class: d.train_per_class, fraction: d.train_fraction, val_fraction: d.val_fraction };
        let (train_set, val_set) = stratified(&data.train.clone().truncate(d.train_limit), &subset, config.seed)?;
        let test_set = data.test.clone().truncate(d.test_limit);
        if train_set.height != train_set.width {
            return Err(Error::config("data.dataset", format!("images of {}×{}: the ResNets here take square images", train_set.height, train_set.width)));
        }
        if train_set.len() < d.batch_size {
            return Err(Error::config("data.batch_size", format!("{} is larger than the {} training images", d.batch_size, train_set.len())));
        }
        let plan = plan_from_config(config, train_set.channels, train_set.height, train_set.classes.len())?;
        let split = split_from_config(config, &plan)?;
        let base = parse_device(&config.device)?;
        let init = Init { scheme: config.model.init, gain: config.model.init_gain };
        let device = base.clone().autodiff();
        let network = {
            // The backend's RNG is process-wide: hold it from seeding to the last draw, so that sessions
            // built concurrently (tests, sweeps) still get exactly their seed's weights.
            static INIT_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
            let _guard = INIT_RNG.lock().unwrap_or_else(|e| e.into_inner());
            base.seed(config.seed);
            // The local losses' parts are drawn after the body and heads: those are a CE run's for the seed.
            let network = Network::new(&plan, &split, &config.head, &init, &device).materialize();
            network.with_aux(aux_objectives(&config.method, &plan, &split, &init, &device)?).materialize()
        };
        let (mean, std) = train_set.channel_stats();
        let norm = Normalize { mean, std };
        let train = Loader::new(
            Arc::new(train_set),
            LoaderSpec { batch_size: d.batch_size, workers: d.workers, prefetch: d.prefetch, shuffle: true, drop_last: true, augment: Some(d.augment) },
            norm.clone(),
            config.seed,
        );
        let eval_spec = LoaderSpec { batch_size: d.test_batch_size, workers: d.workers, prefetch: d.prefetch, shuffle: false, drop_last: false, augment: None };
        let val = val_set.map(|v| Loader::new(Arc::new(v), eval_spec.clone(), norm.clone(), config.seed));
        let test = Loader::new(Arc::new(test_set), eval_spec, norm, config.seed);
        let k = split.len();
        Ok(Session {
            trainer: Trainer::new(network, TransportWeights::new(config.method, k), device, base),
            record: RunRecord::new(MetricsWriter::create(metrics)?, k),
            loaders: Loaders { train, val, test },
            config: config.clone(),
            plan,
            split,
        })
    }
}
