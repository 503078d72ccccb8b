//! Checkpoints: everything a run needs to continue exactly where it stopped.
//!
//! A run is a fixed sequence of *units* — one epoch of one module (sequential, multi-lap) or of all modules
//! (e2e, parallel, pipelined) — and every mode walks it in the same order. After each unit (every
//! `output.checkpoint_every` units, and always at the end of a module in the sequential modes) the run
//! directory's `checkpoint/` holds: the network (`network.bpk`, burnpack: BatchNorm statistics and parameter
//! ids included, so that optimizer state still matches its parameters), each optimizer's state
//! (`optim-<i>.bpk`), and `state.json` — units done, passes over the data (which fix the next epoch's order and
//! augmentation), each optimizer's step count (its LR-schedule position), the τ/Uzawa state, the last record
//! of each module and how many metrics records the checkpoint covers. There is no other randomness to keep:
//! initial weights come from the seed, and data order and augmentation from (seed, pass, batch).
//!
//! Writing is atomic: everything goes to `checkpoint.tmp/`, each file is synced, then the previous checkpoint
//! is renamed away and the new one renamed into place; a crash at any moment leaves a complete checkpoint
//! (`checkpoint/`, or `checkpoint.old/` if it came between the two renames). `--resume` refuses a checkpoint
//! of another model, split, head, mode or seed, one with a file that does not match its `SHA256SUMS` line,
//! and a config changed since the run started (but for [`MAY_CHANGE_ON_RESUME`]).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::Network;
use crate::report::Record;
use crate::transport::TransportWeights;

pub const DIR: &str = "checkpoint";
const NETWORK: &str = "network.bpk";
const STATE: &str = "state.json";

/// What identifies a run's model and schedule: a checkpoint only resumes a run with the same.
pub fn fingerprint(config: &Config) -> serde_json::Value {
    serde_json::json!({
        "model": config.model, "split": config.split, "head": config.head, "mode": config.train.mode,
        "seed": config.seed, "dataset": config.data.dataset,
    })
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    pub fingerprint: serde_json::Value,
    pub units_done: usize,
    pub data_epochs: u64,
    pub steps: Vec<usize>,
    pub optimizers: usize,
    /// As TOML text inside the JSON: JSON has no ∞, and VanGL's τ is ∞ (serde_json would write `null`
    /// and fail to read it back).
    #[serde(with = "toml_text")]
    pub weights: TransportWeights,
    pub last_records: Vec<Option<Record>>,
    pub metrics_records: usize,
    /// The resolved config the run started with (TOML): `--resume` compares the config it is given with it.
    /// Absent in checkpoints written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Wall-clock seconds the run had spent up to this checkpoint, over every process that trained it.
    #[serde(default)]
    pub seconds: f64,
}

/// Config fields that may differ on `--resume` because they change neither the computation nor its
/// results (where output goes, how often to report or checkpoint, loader threads, the decoded-set cache).
/// A change is recorded in the metrics as an event on the next record.
pub const MAY_CHANGE_ON_RESUME: &[&str] =
    &["output.dir", "output.progress", "output.checkpoint_every", "output.log_every", "output.timings", "data.workers", "data.cache"];

/// Compares the config a run started with (`started`, TOML) with the one `--resume` was given: the fields
/// that would change the computation are an error listing each; the others are returned as events.
pub fn compare_configs(started: &str, now: &Config, path: &Path) -> Result<Vec<String>> {
    let (old, new) = (crate::flat::flatten_toml(started), crate::flat::flatten_toml(&now.to_toml()));
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let (mut refused, mut events) = (Vec::new(), Vec::new());
    for k in keys {
        let (a, b) = (old.get(k).map_or("(absent)", String::as_str), new.get(k).map_or("(absent)", String::as_str));
        if a == b {
            continue;
        }
        let line = format!("{k}: {a} → {b}");
        if MAY_CHANGE_ON_RESUME.contains(&k.as_str()) {
            events.push(format!("resumed with {line}"));
        } else {
            refused.push(line);
        }
    }
    if !refused.is_empty() {
        return Err(Error::data(
            path,
            format!(
                "the run started with another config; resuming would mix two settings in one run. Changed since it started: {}. Undo the change (in the run directory's config.toml or --set), or start a new run",
                refused.join("; ")
            ),
        ));
    }
    Ok(events)
}

mod toml_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

    use crate::transport::TransportWeights;

    pub fn serialize<S: Serializer>(w: &TransportWeights, s: S) -> Result<S::Ok, S::Error> {
        toml::to_string(w).map_err(serde::ser::Error::custom)?.serialize(s)
    }

    /// Also reads the plain JSON object of older checkpoints (which held finite τ only).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TransportWeights, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Text(String),
            Object(TransportWeights),
        }
        match Stored::deserialize(d)? {
            Stored::Text(t) => toml::from_str(&t).map_err(D::Error::custom),
            Stored::Object(w) => Ok(w),
        }
    }
}

fn sync_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| Error::io(path, e))
}

fn sync_dir(dir: &Path) {
    // Makes the renames durable where the platform allows opening a directory.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes a checkpoint of `network`, `optims` and `state` into `run_dir/checkpoint/`, atomically.
pub fn save(run_dir: &Path, network: &Network, optims: &[ModuleOptimizer], state: &State) -> Result<()> {
    let tmp = run_dir.join("checkpoint.tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let net = tmp.join(NETWORK);
    network.valid().save_file(&net).map_err(|e| Error::Weights { path: net.clone(), message: e.to_string() })?;
    File::open(&net).and_then(|f| f.sync_all()).map_err(|e| Error::io(&net, e))?;
    for (i, o) in optims.iter().enumerate() {
        let p = tmp.join(format!("optim-{i}.bpk"));
        let bytes = o.into_bytes().map_err(|e| Error::Weights { path: p.clone(), message: e.to_string() })?;
        sync_write(&p, &bytes)?;
    }
    sync_write(&tmp.join(STATE), serde_json::to_string_pretty(state).expect("state serialises").as_bytes())?;
    let mut names = vec![NETWORK.to_string(), STATE.to_string()];
    names.extend((0..optims.len()).map(|i| format!("optim-{i}.bpk")));
    crate::integrity::record(&tmp, &names.iter().map(String::as_str).collect::<Vec<_>>())?;
    sync_dir(&tmp);
    let (current, old) = (run_dir.join(DIR), run_dir.join("checkpoint.old"));
    let _ = std::fs::remove_dir_all(&old);
    if current.exists() {
        std::fs::rename(&current, &old).map_err(|e| Error::io(&current, e))?;
    }
    std::fs::rename(&tmp, &current).map_err(|e| Error::io(&tmp, e))?;
    sync_dir(run_dir);
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The checkpoint folder of a run: `checkpoint/`, or `checkpoint.old/` when a crash came between renames.
pub fn find(run_dir: &Path) -> Result<PathBuf> {
    for name in [DIR, "checkpoint.old"] {
        let d = run_dir.join(name);
        if d.join(STATE).exists() {
            return Ok(d);
        }
    }
    Err(Error::data(run_dir.join(DIR), "no checkpoint to resume from (the run wrote none yet, or this is not a run directory)"))
}

/// A checkpoint read back, with the config changes `--resume` may make (events for the metrics).
pub struct Loaded {
    pub state: State,
    pub network: Network,
    pub optims: Vec<ModuleOptimizer>,
    pub events: Vec<String>,
}

/// Reads a checkpoint: its state (checked against `config`), the network loaded into `network`, and the
/// optimizers' states loaded into `optims`.
pub fn load(dir: &Path, config: &Config, network: Network) -> Result<Loaded> {
    // Before anything is read: a bit flip or truncation is refused by name rather than resumed from.
    crate::integrity::verify_all(dir).map_err(|e| match e {
        Error::Data { path, message } => Error::Data { path, message: format!("{message}; the checkpoint is refused") },
        other => other,
    })?;
    let sp = dir.join(STATE);
    let text = std::fs::read_to_string(&sp).map_err(|e| Error::io(&sp, e))?;
    let state: State = serde_json::from_str(&text).map_err(|e| Error::data(&sp, format!("corrupt checkpoint state: {e}")))?;
    let expected = fingerprint(config);
    if state.fingerprint != expected {
        let differs: Vec<String> = ["model", "split", "head", "mode", "seed", "dataset"]
            .iter()
            .filter(|k| state.fingerprint.get(**k) != expected.get(**k))
            .map(|k| format!("{k}: checkpoint {} vs config {}", state.fingerprint[*k], expected[*k]))
            .collect();
        return Err(Error::data(&sp, format!("checkpoint of another run: {}", differs.join("; "))));
    }
    let events = match &state.config {
        Some(started) => compare_configs(started, config, &sp)?,
        None => Vec::new(),
    };
    let np = dir.join(NETWORK);
    let network = network
        .try_load_file(&np)
        .map_err(|e| Error::Weights { path: np.clone(), message: format!("cannot load the checkpoint's network (truncated, or another model): {e}") })?;
    let mut optims = Vec::with_capacity(state.optimizers);
    for i in 0..state.optimizers {
        let p = dir.join(format!("optim-{i}.bpk"));
        let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        let o = crate::train::build_optimizer(&config.optim)
            .from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
            .map_err(|e| Error::Weights { path: p.clone(), message: format!("corrupt optimizer state: {e}") })?;
        optims.push(o);
    }
    Ok(Loaded { state, network, optims, events })
}
