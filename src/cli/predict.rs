//! `trgl predict`: image files classified by a run's exported network.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub struct PredictArgs {
    #[arg(long)]
    run: PathBuf,
    /// Leave at module K's head (early exit; default: the last module).
    #[arg(long = "exit", value_name = "K")]
    exit: Option<usize>,
    /// JPEG or PNG files.
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

pub fn run(args: PredictArgs) -> Result<()> {
    let PredictArgs { run, exit, images } = args;
    for p in trgl::export::predict(&run, &images, exit)? {
        println!("{}\t{}\t{}\t{:.4}", p.path.display(), p.class, p.name, p.probability);
    }
    Ok(())
}
