//! `trgl eval`: the test accuracy of every module's head of a finished run.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::module::Module;
use clap::Args;

use trgl::config::Config;
use trgl::train::WEIGHTS_FILE;
use trgl::train::session::Session;

#[derive(Args)]
pub struct EvalArgs {
    /// The run directory (holds config.toml and weights.bpk).
    #[arg(long)]
    run: PathBuf,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let EvalArgs { run, set } = args;
    // Before the data is read: damaged weights are refused at once.
    trgl::integrity::verify(&run, WEIGHTS_FILE, false)?;
    let mut config = Config::from_file(&run.join("config.toml"), &set)?;
    config.output.progress = false;
    let data = trgl::data::open(&config.data)?;
    let mut session = Session::new(&config, &data, None)?;
    let weights = run.join(WEIGHTS_FILE);
    session.trainer.network = session
        .trainer.network
        .clone()
        .try_load_file(&weights)
        .with_context(|| format!("{}: cannot load the run's weights", weights.display()))?;
    let k = session.modules();
    let accs = session.evaluate(0..k);
    println!("{:>6} {:>6} {:>10}", "module", "blocks", "test %");
    for (i, (a, b)) in accs.iter().zip(session.split.blocks_per_module()).enumerate() {
        println!("{:>6} {:>6} {:>10.2}", i + 1, b, 100.0 * a.unwrap_or(0.0));
    }
    Ok(())
}
