//! Sweeps: one sweep file expanded into named runs (`spec`), recorded in a manifest (`manifest`), each
//! run trained by `run_one` in a process of its own — several at a time on this machine (`local`) or as a
//! Slurm job array (`slurm`). The same command again skips finished runs and resumes interrupted ones.

pub mod local;
pub mod manifest;
pub mod run_one;
pub mod slurm;
pub mod spec;

use std::path::{Path, PathBuf};

pub use local::{LocalOptions, LocalOutcome, run_local, select};
pub use manifest::{Manifest, RunEntry, RunState};
pub use run_one::{RunAction, run_one};
pub use spec::{PlannedRun, Sweep, SweepFile};

use crate::error::{Error, Result};

/// Where run directories of a changed sweep go under `--force`: never deleted.
pub const REPLACED: &str = "replaced";

/// What `prepare` found and did.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub manifest: Manifest,
    /// How the sweep file differs from the manifest it replaced (empty when it does not).
    pub differences: Vec<String>,
    /// Run directories moved aside under `--force`: (run name, where it went).
    pub moved: Vec<(String, PathBuf)>,
}

/// The manifest for `sweep`: a new one, or the one in its directory if the sweep file is unchanged. A changed
/// sweep file is refused with its differences named unless `force`, which writes the new manifest and moves
/// the directories of runs that were removed or whose config changed to `replaced/` (finished runs whose
/// config is the same are kept). With `write` false nothing on disk changes (`--dry-run`).
pub fn prepare(sweep: &Sweep, force: bool, write: bool) -> Result<Prepared> {
    let mut manifest = Manifest::of(sweep);
    let dir = &sweep.dir;
    let mut differences = Vec::new();
    let mut moved = Vec::new();
    if dir.join(manifest::MANIFEST).exists() {
        let old = Manifest::load(dir)?;
        differences = manifest.differences(&old);
        if !differences.is_empty() && !force {
            let list: Vec<String> = differences.iter().take(30).map(|d| format!("  {d}")).collect();
            let more = if differences.len() > 30 { format!("\n  … and {} more", differences.len() - 30) } else { String::new() };
            return Err(Error::data(
                dir.join(manifest::MANIFEST),
                format!(
                    "the sweep file {} changed since this sweep was started:\n{}{more}\nrun with --force to accept it (unchanged runs are kept; runs removed or changed move to {}/), or give the sweep another `dir`",
                    sweep.file.display(),
                    list.join("\n"),
                    dir.join(REPLACED).display()
                ),
            ));
        }
        if !differences.is_empty() && write {
            for o in &old.runs {
                let kept = manifest.runs.iter().any(|r| r.name == o.name && r.config == o.config);
                let from = dir.join(&o.dir);
                if kept || !from.exists() {
                    continue;
                }
                let to = free_name(&dir.join(REPLACED), &o.name);
                std::fs::create_dir_all(dir.join(REPLACED)).map_err(|e| Error::io(dir.join(REPLACED), e))?;
                std::fs::rename(&from, &to).map_err(|e| Error::io(&from, e))?;
                moved.push((o.name.clone(), to));
            }
        }
    }
    manifest.refresh_states(dir);
    if write {
        manifest.save(dir)?;
    }
    Ok(Prepared { manifest, differences, moved })
}

fn free_name(parent: &Path, name: &str) -> PathBuf {
    (1..).map(|i| parent.join(format!("{name}.{i}"))).find(|p| !p.exists()).expect("a free name exists")
}
