//! Run directories are never overwritten. A new run goes into a directory that does not exist, an empty one,
//! or one whose run was killed before its first checkpoint (nothing there can be resumed or used); a
//! directory holding a finished or resumable run is refused with the ways forward named (`--resume`,
//! `--force`, another `output.dir`), and `--force` moves the old run aside instead of deleting it. A
//! process training a run holds the directory's lock, so a second process cannot start, resume or replace
//! it meanwhile.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The lock file inside a run directory.
pub const LOCK: &str = ".lock";

/// The files a run writes; a directory holding one of them holds a run.
pub const RUN_FILES: &[&str] = &[
    "config.toml",
    "metrics.jsonl",
    "summary.json",
    super::WEIGHTS_FILE,
    crate::export::files::PREPROCESS_FILE,
    super::checkpoint::DIR,
    "checkpoint.old",
    "checkpoint.tmp",
    crate::integrity::SUMS_FILE,
    LOCK,
];

/// What a directory holds, as far as starting a new run there is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Occupant {
    /// Missing or empty.
    Nothing,
    /// A run killed before its first checkpoint: its files can neither be resumed nor used.
    Unresumable,
    /// A run with a checkpoint and no summary: `--resume` continues it.
    Interrupted,
    /// A run with its summary or weights.
    Finished,
    /// Other files: not a trgl run directory.
    Foreign(String),
}

/// What `dir` holds.
pub fn occupant(dir: &Path) -> Result<Occupant> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Occupant::Nothing),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Err(Error::data(dir, "is a file, not a run directory")),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let names: Vec<String> = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    if names.is_empty() {
        return Ok(Occupant::Nothing);
    }
    if let Some(other) = names.iter().find(|n| !RUN_FILES.contains(&n.as_str()) && !n.starts_with(crate::export::files::SAFETENSORS_FILE)) {
        if !names.iter().any(|n| n == "config.toml") {
            return Ok(Occupant::Foreign(other.clone()));
        }
    }
    Ok(if dir.join("summary.json").is_file() || dir.join(super::WEIGHTS_FILE).is_file() {
        Occupant::Finished
    } else if super::checkpoint::find(dir).is_ok() {
        Occupant::Interrupted
    } else {
        Occupant::Unresumable
    })
}

/// Directories no run may be written into, whatever they hold: the filesystem root and the home folder.
fn forbidden(dir: &Path) -> Option<&'static str> {
    let canonical = dir.canonicalize().ok()?;
    if canonical.parent().is_none() {
        return Some("the filesystem root");
    }
    if dirs::home_dir().and_then(|h| h.canonicalize().ok()).is_some_and(|h| h == canonical) {
        return Some("the home folder");
    }
    None
}

/// Makes `dir` ready for a new run. With `force`, a run already there is renamed to `<dir>.replaced-<n>`
/// (returned); never is anything deleted but the files of a run killed before its first checkpoint.
pub fn claim_new(dir: &Path, force: bool) -> Result<Option<PathBuf>> {
    if let Some(what) = forbidden(dir) {
        return Err(Error::data(dir, format!("is {what}: set output.dir to a folder for this run")));
    }
    let what = match occupant(dir)? {
        Occupant::Nothing => return Ok(None),
        Occupant::Unresumable => {
            lock(dir)?;
            return Ok(None);
        }
        Occupant::Foreign(name) => {
            return Err(Error::data(
                dir,
                format!("is not empty (it holds `{name}`) and holds no trgl run: set output.dir to a new or empty folder"),
            ));
        }
        Occupant::Interrupted => "an interrupted run",
        Occupant::Finished => "a finished run",
    };
    if !force {
        return Err(Error::data(
            dir,
            format!(
                "holds {what}; nothing was written. `trgl train --resume {}` continues it, `--force` moves it aside to {}.replaced-N and starts anew, or set output.dir to a new folder",
                dir.display(),
                dir.display()
            ),
        ));
    }
    let _held = lock(dir)?;
    let aside = (1..).map(|n| PathBuf::from(format!("{}.replaced-{n}", dir.display()))).find(|p| !p.exists()).expect("a free name");
    std::fs::rename(dir, &aside).map_err(|e| Error::io(dir, e))?;
    Ok(Some(aside))
}

/// An exclusive lock on the run directory for as long as the returned file stays open.
pub fn lock(dir: &Path) -> Result<File> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let p = dir.join(LOCK);
    let f = OpenOptions::new().create(true).truncate(false).write(true).open(&p).map_err(|e| Error::io(&p, e))?;
    f.try_lock().map_err(|_| Error::data(dir, "another process is training this run now (its lock is held)"))?;
    Ok(f)
}

/// Whether another process holds `dir`'s run lock now.
pub fn is_locked(dir: &Path) -> bool {
    match File::open(dir.join(LOCK)) {
        Ok(f) => match f.try_lock() {
            Ok(()) => {
                let _ = f.unlock();
                false
            }
            Err(_) => true,
        },
        Err(_) => false,
    }
}
