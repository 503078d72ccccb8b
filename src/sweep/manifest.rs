//! `manifest.json` in a sweep's directory: the sweep as it was expanded, every run's resolved config, and
//! each run's state as last seen. The run directories are the truth about state; the manifest copies it for
//! readers and is what a later `trgl sweep` compares the sweep file against.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::spec::Sweep;
pub use crate::flat::{flatten_json, flatten_toml};
use crate::config::Config;
use crate::error::{Error, Result};

pub const MANIFEST: &str = "manifest.json";
/// Written in a run directory when its training failed: the error, for `trgl sweep status`.
pub const FAILED: &str = "failed.txt";
/// Held (flock) by the process training the run.
pub const LOCK: &str = crate::train::run_dir::LOCK;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    /// Not started.
    Pending,
    /// Started, before its first checkpoint.
    Started,
    /// Being trained by a process now (its lock is held).
    Running,
    /// Stopped with a checkpoint: the next `trgl sweep` resumes it.
    Interrupted,
    Failed,
    Finished,
}

impl RunState {
    pub fn name(self) -> &'static str {
        match self {
            RunState::Pending => "pending",
            RunState::Started => "started",
            RunState::Running => "running",
            RunState::Interrupted => "interrupted",
            RunState::Failed => "failed",
            RunState::Finished => "finished",
        }
    }

    /// Still to train (or to finish training).
    pub fn to_do(self) -> bool {
        matches!(self, RunState::Pending | RunState::Started | RunState::Interrupted | RunState::Failed)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    pub index: usize,
    pub name: String,
    /// Relative to the sweep directory.
    pub dir: PathBuf,
    pub assignments: Vec<String>,
    /// The resolved config, as `config.toml` of the run holds it.
    pub config: String,
    pub state: RunState,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub trgl_version: String,
    pub sweep_file: PathBuf,
    /// The sweep file as parsed, with the base config it resolved.
    pub spec: serde_json::Value,
    pub runs: Vec<RunEntry>,
}

impl Manifest {
    pub fn of(sweep: &Sweep) -> Manifest {
        let runs = sweep
            .runs
            .iter()
            .enumerate()
            .map(|(index, r)| RunEntry {
                index,
                name: r.name.clone(),
                dir: PathBuf::from("runs").join(&r.name),
                assignments: r.assignments.clone(),
                config: r.config.to_toml(),
                state: RunState::Pending,
            })
            .collect();
        Manifest { trgl_version: env!("CARGO_PKG_VERSION").into(), sweep_file: sweep.file.clone(), spec: sweep.spec_json(), runs }
    }

    pub fn load(sweep_dir: &Path) -> Result<Manifest> {
        let path = sweep_dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::data(&path, format!("not a sweep manifest: {e}")))
    }

    /// Written to a temporary file and renamed: a reader never sees half a manifest.
    pub fn save(&self, sweep_dir: &Path) -> Result<()> {
        std::fs::create_dir_all(sweep_dir).map_err(|e| Error::io(sweep_dir, e))?;
        let path = sweep_dir.join(MANIFEST);
        let tmp = sweep_dir.join(format!("{MANIFEST}.tmp"));
        std::fs::write(&tmp, serde_json::to_string_pretty(self).expect("a manifest serialises")).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
    }

    pub fn run_config(&self, index: usize) -> Result<Config> {
        let entry = self.runs.get(index).ok_or_else(|| Error::config("run index", format!("the sweep has {} runs (0 to {}), not {index}", self.runs.len(), self.runs.len().saturating_sub(1))))?;
        Config::from_toml_str(&entry.config, &format!("{MANIFEST} (run {})", entry.name), &[])
    }

    /// Every run's state read from its directory.
    pub fn refresh_states(&mut self, sweep_dir: &Path) {
        for r in &mut self.runs {
            r.state = run_state(&sweep_dir.join(&r.dir));
        }
    }

    /// What differs from `other` (an older manifest of the same directory), one line per difference:
    /// the sweep file's fields, runs added or removed, and each kept run's resolved config fields.
    pub fn differences(&self, older: &Manifest) -> Vec<String> {
        let mut out = Vec::new();
        let (new, old) = (flatten_json(&self.spec), flatten_json(&older.spec));
        diff_maps(&old, &new, "", &mut out);
        let old_runs: BTreeMap<_, _> = older.runs.iter().map(|r| (r.name.as_str(), r)).collect();
        let new_runs: BTreeMap<_, _> = self.runs.iter().map(|r| (r.name.as_str(), r)).collect();
        for name in old_runs.keys().filter(|n| !new_runs.contains_key(*n)) {
            out.push(format!("run `{name}` removed"));
        }
        for name in new_runs.keys().filter(|n| !old_runs.contains_key(*n)) {
            out.push(format!("run `{name}` added"));
        }
        for (name, r) in &new_runs {
            if let Some(o) = old_runs.get(name) {
                if o.config != r.config {
                    let (a, b) = (flatten_toml(&o.config), flatten_toml(&r.config));
                    diff_maps(&a, &b, &format!("run `{name}`: "), &mut out);
                }
            }
        }
        out
    }
}

fn diff_maps(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in old {
        match new.get(k) {
            None => out.push(format!("{prefix}{k}: {v} → (absent)")),
            Some(w) if w != v => out.push(format!("{prefix}{k}: {v} → {w}")),
            _ => {}
        }
    }
    for (k, w) in new.iter().filter(|(k, _)| !old.contains_key(*k)) {
        out.push(format!("{prefix}{k}: (absent) → {w}"));
    }
}

/// A run's state from what its directory holds.
pub fn run_state(run_dir: &Path) -> RunState {
    if run_dir.join("summary.json").is_file() {
        RunState::Finished
    } else if crate::train::run_dir::is_locked(run_dir) {
        RunState::Running
    } else if run_dir.join(FAILED).is_file() {
        RunState::Failed
    } else if crate::train::checkpoint::find(run_dir).is_ok() {
        RunState::Interrupted
    } else if run_dir.join("config.toml").is_file() {
        RunState::Started
    } else {
        RunState::Pending
    }
}
