//! `trgl export`: a finished run's network as `model.safetensors`, with PyTorch's names.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::module::Module;
use clap::Args;

use trgl::config::Config;
use trgl::export::{Preprocess, SAFETENSORS_FILE, check_export_path, export_safetensors, record_export_source};
use trgl::train::WEIGHTS_FILE;
use trgl::train::build::network_from_config;

#[derive(Args)]
pub struct ExportArgs {
    /// The run directory.
    run: PathBuf,
    /// Output file (default: RUN/model.safetensors).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace --out when it exists (never a file of the run itself).
    #[arg(long)]
    force: bool,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let ExportArgs { run, out, force } = args;
    let default_out = run.join(SAFETENSORS_FILE);
    let out = out.unwrap_or_else(|| default_out.clone());
    check_export_path(&run, &out, force)?;
    trgl::integrity::verify(&run, WEIGHTS_FILE, false)?;
    let mut config = Config::from_file(&run.join("config.toml"), &[])?;
    config.output.progress = false;
    let pre = Preprocess::load(&run)?;
    let (_, _, network) = network_from_config(&config, pre.channels, pre.size, pre.classes.len())?;
    let weights = run.join(WEIGHTS_FILE);
    let network = network
        .try_load_file(&weights)
        .with_context(|| format!("{}: cannot load the run's weights", weights.display()))?;
    export_safetensors(&network, &out)?;
    if out == default_out {
        record_export_source(&run)?;
    }
    println!("wrote {}", out.display());
    Ok(())
}
