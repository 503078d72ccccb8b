//! Finished runs read from run directories, sweep directories and folders of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::report::metrics::Record;
use crate::report::summary::RunSummary;
use crate::sweep::manifest::{MANIFEST, Manifest, flatten_toml};

/// One finished run as the report reads it.
#[derive(Clone, Debug)]
pub struct LoadedRun {
    pub name: String,
    pub dir: PathBuf,
    pub config: Config,
    /// The resolved config as dotted keys → values (JSON text).
    pub flat: BTreeMap<String, String>,
    pub records: Vec<Record>,
    pub summary: RunSummary,
}

fn load_run(dir: &Path, name: String) -> Result<LoadedRun> {
    let cpath = dir.join("config.toml");
    let text = std::fs::read_to_string(&cpath).map_err(|e| Error::io(&cpath, e))?;
    let config = Config::from_toml_str(&text, &cpath.display().to_string(), &[])?;
    let mpath = dir.join("metrics.jsonl");
    let mtext = std::fs::read_to_string(&mpath).map_err(|e| Error::io(&mpath, e))?;
    let records = mtext
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| Error::data(&mpath, format!("line {}: {e}", i + 1))))
        .collect::<Result<Vec<Record>>>()?;
    let spath = dir.join("summary.json");
    let stext = std::fs::read_to_string(&spath).map_err(|e| Error::io(&spath, e))?;
    let summary = serde_json::from_str(&stext).map_err(|e| Error::data(&spath, format!("not a run summary: {e}")))?;
    Ok(LoadedRun { name, dir: dir.to_path_buf(), flat: flatten_toml(&text), config, records, summary })
}

/// The finished runs under `paths` (each a run directory, a sweep directory or a folder of them), and one
/// line for each run left out (not finished). Runs of different datasets are refused: their accuracies
/// do not average.
pub fn load_runs(paths: &[PathBuf]) -> Result<(Vec<LoadedRun>, Vec<String>)> {
    let (runs, skipped) = load_runs_any(paths)?;
    let mut datasets: BTreeMap<&str, &LoadedRun> = BTreeMap::new();
    for r in &runs {
        datasets.entry(r.config.data.dataset.as_str()).or_insert(r);
    }
    if datasets.len() > 1 {
        let list: Vec<String> = datasets.iter().map(|(d, r)| format!("`{d}` (e.g. {})", r.dir.display())).collect();
        return Err(Error::config("data.dataset", format!("the runs are of different datasets: {}; report each dataset on its own", list.join(", "))));
    }
    Ok((runs, skipped))
}

fn load_runs_any(paths: &[PathBuf]) -> Result<(Vec<LoadedRun>, Vec<String>)> {
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for p in paths {
        if p.join(MANIFEST).is_file() {
            let m = Manifest::load(p)?;
            for r in &m.runs {
                let d = p.join(&r.dir);
                if d.join("summary.json").is_file() {
                    runs.push(load_run(&d, r.name.clone())?);
                } else {
                    skipped.push(format!("{}: {} (not finished)", p.display(), r.name));
                }
            }
        } else if p.join("config.toml").is_file() {
            if p.join("summary.json").is_file() {
                let name = p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
                runs.push(load_run(p, name)?);
            } else {
                skipped.push(format!("{} (not finished)", p.display()));
            }
        } else if p.is_dir() {
            // A folder of runs or sweeps, one level down.
            let mut inner: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::io(p, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|d| d.join(MANIFEST).is_file() || d.join("config.toml").is_file())
                .collect();
            if inner.is_empty() {
                return Err(Error::data(p, "holds no run (config.toml) or sweep (manifest.json), nor do its subfolders"));
            }
            inner.sort();
            let (r, s) = load_runs_any(&inner)?;
            runs.extend(r);
            skipped.extend(s);
        } else {
            return Err(Error::data(p, "not a run directory (config.toml), a sweep directory (manifest.json) or a folder of them"));
        }
    }
    Ok((runs, skipped))
}
