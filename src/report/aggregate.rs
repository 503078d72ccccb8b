//! Runs gathered from run and sweep directories, grouped by their setting (every config field but the
//! seed and `output.*`), each module's figures over seeds as mean ± 95 % CI, and paired per-seed
//! differences between two values of one field (TRGL − VanGL by default).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::metrics::Record;
use super::stats::MeanCi;
use super::summary::RunSummary;
use crate::config::Config;
use crate::error::{Error, Result};
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

/// Fields that do not make a setting: the seed, and where the output went.
fn is_setting(key: &str) -> bool {
    key != "seed" && !key.starts_with("output.")
}

#[derive(Clone, Debug, Serialize)]
pub struct ModuleStats {
    pub module: usize,
    /// Test accuracy of the module's head at the end of training.
    pub final_acc: Option<MeanCi>,
    /// Its best test accuracy over its epochs.
    pub best_acc: Option<MeanCi>,
    /// Training accuracy of its last epoch (on augmented batches, while it trained).
    pub train_acc: Option<MeanCi>,
    /// train_acc − final_acc: how much the module overfits.
    pub gap: Option<MeanCi>,
    /// Kinetic energy of its last epoch.
    pub kinetic_energy: Option<MeanCi>,
    /// Validation accuracy at the end of training (runs with `data.val_fraction`).
    pub final_val_acc: Option<MeanCi>,
    /// Test accuracy at the epoch of the module's best validation accuracy: the epoch chosen on
    /// validation, scored on test.
    pub val_selected_test_acc: Option<MeanCi>,
}

/// One epoch of a per-module curve, over the group's seeds.
#[derive(Clone, Debug, Serialize)]
pub struct CurvePoint {
    /// Epoch of the whole run: sequential and multi-lap count every module's epochs one after the other.
    pub epoch: usize,
    pub value: MeanCi,
}

#[derive(Clone, Debug, Serialize)]
pub struct Group {
    /// The fields whose values set this group apart from the others (`key=value`).
    pub label: String,
    pub settings: BTreeMap<String, String>,
    pub runs: Vec<String>,
    pub seeds: Vec<u64>,
    pub modules: Vec<ModuleStats>,
    pub seconds: Option<MeanCi>,
    pub peak_alloc_bytes: Option<MeanCi>,
    pub peak_rss_bytes: Option<MeanCi>,
    /// Training images per second over the run's epochs (absent with `output.timings = false`).
    pub images_per_second: Option<MeanCi>,
    /// Per module, test accuracy against the run's epoch (the stagnation curve).
    pub test_acc_curves: Vec<Vec<CurvePoint>>,
    /// Per module, the kinetic energy of each epoch.
    pub kinetic_curves: Vec<Vec<CurvePoint>>,
    #[serde(skip)]
    pub key: BTreeMap<String, String>,
    #[serde(skip)]
    members: Vec<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModuleDifference {
    pub module: usize,
    pub final_acc: Option<MeanCi>,
    pub best_acc: Option<MeanCi>,
    /// `above 0`, `below 0` or `inconclusive` by the final accuracy's 95 % CI; `n = 1` without one.
    pub verdict: String,
}

/// Paired per-seed differences: `group` − `baseline`, seeds present in both.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub field: String,
    pub group: String,
    pub baseline: String,
    pub seeds: Vec<u64>,
    pub modules: Vec<ModuleDifference>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub groups: Vec<Group>,
    pub comparisons: Vec<Comparison>,
    /// Values of a swept field chosen on validation (where the runs have a validation split).
    pub selections: Vec<Selection>,
    pub skipped: Vec<String>,
}

/// Among groups that differ only in `field`, the one whose last module has the best mean final validation
/// accuracy, and its test accuracy.
#[derive(Clone, Debug, Serialize)]
pub struct Selection {
    pub field: String,
    /// The other settings the candidates share.
    pub among: String,
    pub candidates: usize,
    pub chosen: String,
    pub val_acc: MeanCi,
    pub test_acc: Option<MeanCi>,
}

/// The last training record of each module (its last epoch).
fn last_train(records: &[Record], module: usize) -> Option<&Record> {
    records.iter().filter(|r| r.phase == "train" && r.module == module).next_back()
}

fn final_record(records: &[Record], module: usize) -> Option<&Record> {
    records.iter().filter(|r| r.phase == "final" && r.module == module).next_back()
}

/// The test accuracy of the module's epoch with the best validation accuracy (the first such epoch).
fn val_selected(records: &[Record], module: usize) -> Option<f64> {
    let mut best: Option<(f64, Option<f64>)> = None;
    for r in records.iter().filter(|r| r.phase == "train" && r.module == module) {
        if let Some(v) = r.val_acc {
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, r.test_acc));
            }
        }
    }
    best.and_then(|(_, t)| t)
}

/// Each training record's epoch of the whole run: e2e/parallel/pipelined train every module in one epoch,
/// sequential and multi-lap one module per epoch.
pub fn run_epochs(records: &[Record]) -> Vec<(usize, &Record)> {
    let mut out = Vec::new();
    let mut epoch = 0;
    let mut prev: Option<&Record> = None;
    for r in records.iter().filter(|r| r.phase == "train") {
        let together = matches!(r.mode.as_str(), "e2e" | "parallel" | "pipelined");
        let new = match prev {
            None => true,
            Some(p) => !together || p.epoch != r.epoch || p.lap != r.lap || r.module <= p.module,
        };
        if new {
            epoch += 1;
        }
        out.push((epoch, r));
        prev = Some(r);
    }
    out
}

/// Training images per second of a run: every epoch's steps × batch over their seconds (an epoch of the
/// modes that train all modules together counted once).
fn images_per_second(run: &LoadedRun) -> Option<f64> {
    let mut seen = std::collections::BTreeSet::new();
    let (mut images, mut seconds) = (0.0, 0.0);
    for (e, r) in run_epochs(&run.records) {
        if seen.insert(e) {
            images += (r.steps * run.config.data.batch_size) as f64;
            seconds += r.seconds?;
        }
    }
    (seconds > 0.0).then(|| images / seconds)
}

/// Module m's value at each epoch of the runs, over the runs that have it.
fn curve(runs: &[&LoadedRun], m: usize, value: impl Fn(&Record) -> Option<f64>) -> Vec<CurvePoint> {
    let mut by_epoch: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for r in runs {
        for (e, rec) in run_epochs(&r.records) {
            if let (true, Some(v)) = (rec.module == m, value(rec)) {
                by_epoch.entry(e).or_default().push(v);
            }
        }
    }
    by_epoch.into_iter().filter_map(|(epoch, v)| MeanCi::of(&v).map(|value| CurvePoint { epoch, value })).collect()
}

fn stat(values: impl Iterator<Item = Option<f64>>) -> Option<MeanCi> {
    let v: Option<Vec<f64>> = values.collect();
    v.and_then(|v| MeanCi::of(&v))
}

/// Parses `field=value` as `--set` does, into the flattened form of a config value.
pub fn flat_value(value: &str) -> String {
    crate::sweep::spec::toml_json(&crate::config::parse_value(value)).to_string()
}

/// Groups `runs` and computes every figure; `compare` = (field, baseline value) for the paired
/// differences (default: `method.tau = inf` where the runs vary τ and hold VanGL).
pub fn build(runs: &[LoadedRun], skipped: Vec<String>, compare: Option<(&str, &str)>) -> Report {
    let mut groups: Vec<Group> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let key: BTreeMap<String, String> = r.flat.iter().filter(|(k, _)| is_setting(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.members.push(i),
            None => groups.push(Group {
                label: String::new(),
                settings: BTreeMap::new(),
                runs: Vec::new(),
                seeds: Vec::new(),
                modules: Vec::new(),
                seconds: None,
                peak_alloc_bytes: None,
                peak_rss_bytes: None,
                images_per_second: None,
                test_acc_curves: Vec::new(),
                kinetic_curves: Vec::new(),
                key,
                members: vec![i],
            }),
        }
    }
    let varying: Vec<String> = {
        let mut keys: Vec<String> = groups.iter().flat_map(|g| g.key.keys().cloned()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter().filter(|k| groups.iter().any(|g| g.key.get(k) != groups[0].key.get(k))).collect()
    };
    for g in &mut groups {
        g.settings = varying.iter().map(|k| (k.clone(), g.key.get(k).cloned().unwrap_or_else(|| "(absent)".into()))).collect();
        g.label = if varying.is_empty() { "all runs".into() } else { g.settings.iter().map(|(k, v)| format!("{k}={}", v.trim_matches('"'))).collect::<Vec<_>>().join(", ") };
        let members: Vec<&LoadedRun> = g.members.iter().map(|&i| &runs[i]).collect();
        g.runs = members.iter().map(|r| r.name.clone()).collect();
        g.seeds = members.iter().map(|r| r.config.seed).collect();
        let k = members.iter().map(|r| r.summary.modules.len()).max().unwrap_or(0);
        g.modules = (1..=k)
            .map(|m| {
                let module = |r: &&LoadedRun| r.summary.modules.get(m - 1).cloned();
                let last = |r: &&LoadedRun| last_train(&r.records, m).cloned();
                ModuleStats {
                    module: m,
                    final_acc: stat(members.iter().map(|r| module(r).and_then(|s| s.final_acc))),
                    best_acc: stat(members.iter().map(|r| module(r).and_then(|s| s.best_acc))),
                    train_acc: stat(members.iter().map(|r| last(r).map(|l| l.train_acc))),
                    gap: stat(members.iter().map(|r| Some(last(r)?.train_acc - module(r)?.final_acc?))),
                    kinetic_energy: stat(members.iter().map(|r| last(r).as_ref().and_then(measured_kinetic))),
                    final_val_acc: stat(members.iter().map(|r| final_record(&r.records, m).and_then(|f| f.val_acc))),
                    val_selected_test_acc: stat(members.iter().map(|r| val_selected(&r.records, m))),
                }
            })
            .collect();
        g.seconds = stat(members.iter().map(|r| Some(r.summary.seconds)));
        g.peak_alloc_bytes = stat(members.iter().map(|r| r.summary.peak_alloc_bytes.map(|b| b as f64)));
        g.peak_rss_bytes = stat(members.iter().map(|r| r.summary.peak_rss_bytes.map(|b| b as f64)));
        g.images_per_second = stat(members.iter().map(|r| images_per_second(r)));
        g.test_acc_curves = (1..=k).map(|m| curve(&members, m, |r| r.test_acc)).collect();
        g.kinetic_curves = (1..=k).map(|m| curve(&members, m, measured_kinetic)).collect();
    }
    let default_compare = varying.iter().any(|k| k == "method.tau") && groups.iter().any(|g| g.key.get("method.tau").map(String::as_str) == Some("\"inf\""));
    let compare: Option<(String, String)> = match compare {
        Some((f, v)) => Some((f.to_string(), flat_value(v))),
        None if default_compare => Some(("method.tau".into(), "\"inf\"".into())),
        None => None,
    };
    let comparisons = compare.map(|(field, base)| comparisons(runs, &groups, &field, &base)).unwrap_or_default();
    let selections = if varying.iter().any(|k| k == "method.tau") { select_on_val(&groups, "method.tau") } else { Vec::new() };
    Report { groups, comparisons, selections, skipped }
}

/// For each family of groups equal but in `field`, the member with the best mean final validation
/// accuracy at the last module (families without validation figures are left out).
pub fn select_on_val(groups: &[Group], field: &str) -> Vec<Selection> {
    let mut families: Vec<(BTreeMap<String, String>, Vec<&Group>)> = Vec::new();
    for g in groups {
        let mut rest = g.key.clone();
        rest.remove(field);
        match families.iter_mut().find(|(k, _)| *k == rest) {
            Some((_, members)) => members.push(g),
            None => families.push((rest, vec![g])),
        }
    }
    let mut out = Vec::new();
    for (_, members) in families.into_iter().filter(|(_, m)| m.len() > 1) {
        let last_val = |g: &Group| g.modules.last().and_then(|m| m.final_val_acc.clone());
        let Some(best) = members.iter().filter(|g| last_val(g).is_some()).max_by(|a, b| last_val(a).unwrap().mean.total_cmp(&last_val(b).unwrap().mean)) else { continue };
        let among: Vec<String> = best.settings.iter().filter(|(k, _)| *k != field).map(|(k, v)| format!("{k}={}", v.trim_matches('"'))).collect();
        out.push(Selection {
            field: field.to_string(),
            among: if among.is_empty() { "all runs".into() } else { among.join(", ") },
            candidates: members.len(),
            chosen: best.key.get(field).map_or("(absent)".into(), |v| v.trim_matches('"').to_string()),
            val_acc: last_val(best).expect("filtered on it"),
            test_acc: best.modules.last().and_then(|m| m.final_acc.clone()),
        });
    }
    out
}

fn comparisons(runs: &[LoadedRun], groups: &[Group], field: &str, base: &str) -> Vec<Comparison> {
    let mut out = Vec::new();
    for g in groups.iter().filter(|g| g.key.get(field).is_some_and(|v| v != base)) {
        let mut wanted = g.key.clone();
        wanted.insert(field.to_string(), base.to_string());
        let Some(b) = groups.iter().find(|b| b.key == wanted) else { continue };
        let by_seed = |grp: &Group| -> BTreeMap<u64, &LoadedRun> { grp.members.iter().map(|&i| (runs[i].config.seed, &runs[i])).collect() };
        let (gs, bs) = (by_seed(g), by_seed(b));
        let seeds: Vec<u64> = gs.keys().filter(|s| bs.contains_key(s)).copied().collect();
        let k = g.modules.len().min(b.modules.len());
        let modules = (0..k)
            .map(|m| {
                let diff = |pick: fn(&super::summary::ModuleSummary) -> Option<f64>| {
                    stat(seeds.iter().map(|s| Some(pick(gs[s].summary.modules.get(m)?)? - pick(bs[s].summary.modules.get(m)?)?)))
                };
                let final_acc = diff(|s| s.final_acc);
                let verdict = match &final_acc {
                    Some(d) if d.half_width.is_none() => "n = 1".into(),
                    Some(d) if d.low().is_some_and(|l| l > 0.0) => "above 0".into(),
                    Some(d) if d.high().is_some_and(|h| h < 0.0) => "below 0".into(),
                    Some(_) => "inconclusive".into(),
                    None => "no pairs".into(),
                };
                ModuleDifference { module: m + 1, final_acc, best_acc: diff(|s| s.best_acc), verdict }
            })
            .collect();
        out.push(Comparison { field: field.to_string(), group: g.label.clone(), baseline: b.label.clone(), seeds, modules });
    }
    out
}

/// A record's kinetic energy, where training measured one: end-to-end training's loss has no transport
/// term, and its records' 0 means "not measured", not "no motion".
fn measured_kinetic(r: &Record) -> Option<f64> {
    (r.mode != "e2e").then_some(r.kinetic_energy)
}
