//! `trgl train`: a run as its config says, or the rest of an interrupted one.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use trgl::config::Config;
use trgl::report::side_by_side;
use trgl::train;

#[derive(Args)]
pub struct TrainArgs {
    /// The run's config (not with --resume, which reads the run directory's).
    #[arg(long, required_unless_present = "resume", conflicts_with = "resume")]
    config: Option<PathBuf>,
    /// Continue the run in this directory from its last checkpoint.
    #[arg(long, value_name = "RUN_DIR")]
    resume: Option<PathBuf>,
    /// Override a field: --set optim.lr=0.01 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// When output.dir holds a run: move it aside to <dir>.replaced-N and train anew (nothing is deleted).
    #[arg(long, conflicts_with = "resume")]
    force: bool,
}

pub fn run(args: TrainArgs) -> Result<()> {
    let TrainArgs { config, resume, set, force } = args;
    let (config, dir) = match (&config, &resume) {
        (_, Some(run)) => {
            trgl::train::checkpoint::find(run)?;
            (Config::from_file(&run.join("config.toml"), &set)?, run.clone())
        }
        (Some(path), None) => {
            let c = Config::from_file(path, &set)?;
            let dir = c.output.dir.clone();
            (c, dir)
        }
        (None, None) => bail!("give --config or --resume"),
    };
    if resume.is_none() {
        if let Some(aside) = trgl::train::run_dir::claim_new(&dir, force)? {
            eprintln!("moved the run that was in {} to {}", dir.display(), aside.display());
        }
    }
    // Held until training ends: no second process starts, resumes or replaces this run meanwhile.
    let _lock = trgl::train::run_dir::lock(&dir)?;
    let data = trgl::data::open(&config.data)?;
    let label = config.train.mode.name();
    let outcome = match resume {
        Some(_) => train::resume(&config, &data, &dir, label)?,
        None => train::run(&config, &data, Some(&dir), label)?,
    };
    println!("{}", side_by_side(&[outcome.summary]));
    println!("run directory: {}", dir.display());
    Ok(())
}
