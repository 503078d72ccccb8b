//! One run of a sweep, by its index: what a local job and a Slurm array task both execute
//! (`trgl sweep run DIR INDEX`). Finished runs are left alone, interrupted ones resume from their
//! checkpoint, the others start; the run directory's lock keeps two processes off one run.

use std::path::Path;

use super::manifest::{FAILED, Manifest};
use crate::train::run_dir::lock;
use crate::error::{Error, Result};

/// What `run_one` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunAction {
    AlreadyFinished,
    Started,
    Resumed,
}

/// Trains run `index` of the sweep in `sweep_dir` to its end.
pub fn run_one(sweep_dir: &Path, index: usize) -> Result<RunAction> {
    let manifest = Manifest::load(sweep_dir)?;
    let config = manifest.run_config(index)?;
    let entry = &manifest.runs[index];
    let dir = sweep_dir.join(&entry.dir);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let _lock = lock(&dir)?;
    if dir.join("summary.json").is_file() {
        return Ok(RunAction::AlreadyFinished);
    }
    let _ = std::fs::remove_file(dir.join(FAILED));
    // The job's own record, in its log: what ran it and with how many kernel threads.
    eprintln!(
        "trgl {}: run {index} ({}) of {}, {} kernel threads, pid {}",
        env!("CARGO_PKG_VERSION"),
        entry.name,
        sweep_dir.display(),
        rayon::current_num_threads(),
        std::process::id()
    );
    let outcome = train(&dir, &config, &entry.config, &entry.name);
    if let Err(e) = &outcome {
        let p = dir.join(FAILED);
        std::fs::write(&p, format!("{e}\n")).map_err(|e| Error::io(&p, e))?;
    }
    outcome
}

fn train(dir: &Path, config: &crate::config::Config, config_text: &str, name: &str) -> Result<RunAction> {
    let resumable = crate::train::checkpoint::find(dir).is_ok();
    if resumable {
        // The run directory's config must be the one the manifest resolved: a run never mixes two settings.
        let p = dir.join("config.toml");
        let on_disk = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        if on_disk != config_text {
            return Err(Error::data(&p, "differs from the sweep manifest's config for this run: it was edited, or belongs to another sweep; move the run directory away to start it again"));
        }
    }
    let data = crate::data::open(&config.data)?;
    if resumable {
        crate::train::resume(config, &data, dir, name)?;
        Ok(RunAction::Resumed)
    } else {
        // Nothing a user could want is here yet (no checkpoint, no summary): start clean.
        for f in ["metrics.jsonl", crate::train::WEIGHTS_FILE] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        crate::train::run(config, &data, Some(dir), name)?;
        Ok(RunAction::Started)
    }
}
