//! `trgl info`: a split's modules with their blocks, parameters and estimated activation memory, or the
//! architectures there are.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use trgl::config::Config;
use trgl::model::split::module_activation_floats;
use trgl::local_loss::LocalLossKind;
use trgl::train::build::{infopro_balanced, network_from_config};

#[derive(Args)]
pub struct InfoArgs {
    /// List the architectures and exit.
    #[arg(long)]
    models: bool,
    #[arg(long)]
    config: Option<PathBuf>,
    /// Architecture (overrides the config's model.arch).
    #[arg(long)]
    model: Option<String>,
    /// K (overrides split.modules).
    #[arg(long)]
    modules: Option<usize>,
    /// even | cuts | infopro | balanced (overrides split.method).
    #[arg(long)]
    split: Option<String>,
    #[arg(long, default_value_t = 128)]
    batch: usize,
    #[arg(long, default_value_t = 32)]
    image_size: usize,
    #[arg(long, default_value_t = 3)]
    channels: usize,
    #[arg(long, default_value_t = 10)]
    classes: usize,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

pub fn run(args: InfoArgs) -> Result<()> {
    if args.models {
        for (names, what) in trgl::model::registry::MODELS {
            println!("{names}\n    {what}");
        }
        return Ok(());
    }
    let InfoArgs { config, model, modules, split, batch, image_size, channels, classes, mut set, .. } = args;
    if let Some(m) = model {
        set.push(format!("model.arch=\"{m}\""));
    }
    if let Some(k) = modules {
        set.push(format!("split.modules={k}"));
    }
    if let Some(s) = split {
        set.push(format!("split.method=\"{s}\""));
    }
    let config = match config {
        Some(p) => Config::from_file(&p, &set)?,
        None => Config::from_toml_str("", "defaults", &set)?,
    };
    info(&config, batch, image_size, channels, classes)
}

fn info(config: &Config, batch: usize, image_size: usize, channels: usize, classes: usize) -> Result<()> {
    let (plan, split, network) = network_from_config(config, channels, image_size, classes)?;
    println!(
        "{} on {}×{}×{}, {} classes, K = {} ({:?} split), {} heads, batch {batch}",
        plan.name, channels, image_size, image_size, classes, split.len(), config.split.method, serde_json::to_string(&config.head.kind)?.trim_matches('"')
    );
    // The learned part of a local loss (InfoPro's decoder, PredSim's projection) gets a column of its own.
    let aux_column = match config.method.local_loss {
        LocalLossKind::Ce => None,
        LocalLossKind::Infopro => Some("decoder params"),
        LocalLossKind::Predsim => Some("projector params"),
    };
    let aux_header = aux_column.map(|c| format!(" {c:>16}")).unwrap_or_default();
    println!("{:>6} {:>8} {:>14} {:>12} {:>12}{aux_header} {:>14}", "module", "blocks", "units", "params", "head params", "activ. MiB");
    let k = split.len();
    let (mut total, mut aux_total) = (0, 0);
    for (m, (range, module)) in split.modules.iter().zip(&network.modules).enumerate() {
        let floats = module_activation_floats(&plan, range.clone(), &config.head, m + 1 == k);
        let mib = (floats * batch * 4) as f64 / (1 << 20) as f64;
        let aux = trgl::model::trainable_params(&module.aux);
        let params = trgl::model::trainable_params(module) - aux;
        total += params;
        aux_total += aux;
        let aux_cell = aux_column.map(|_| format!(" {aux:>16}")).unwrap_or_default();
        println!(
            "{:>6} {:>8} {:>14} {:>12} {:>12}{aux_cell} {:>14.1}",
            m + 1,
            range.clone().filter(|&u| u != 0).count(),
            format!("{}..{}", range.start, range.end),
            params,
            trgl::model::trainable_params(&module.head),
            mib
        );
    }
    // end to end = one module holding every unit, with the network's own head
    let e2e = module_activation_floats(&plan, 0..plan.units.len(), &config.head, true);
    let aux_note = aux_column.map(|c| format!(" (+ {aux_total} {c}, training only; their activations are not in the estimate)")).unwrap_or_default();
    println!("total parameters {total}{aux_note}; end-to-end activations ≈ {:.1} MiB", (e2e * batch * 4) as f64 / (1 << 20) as f64);
    if let Some(cuts) = infopro_balanced(&plan, k) {
        println!("InfoPro*'s memory-balanced cuts for this K: {cuts:?}");
    }
    Ok(())
}
