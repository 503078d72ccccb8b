//! The sweep file: a base config plus axes over config fields, expanded into named runs.
//!
//! ```toml
//! base = "../fashion-mnist.toml"     # relative to this file; or an inline [config] table, or both
//! dir = "runs/sweeps/fmnist"         # default: runs/sweeps/<this file's stem>
//! set = ["train.epochs=2"]           # overrides every run gets, in --set syntax
//!
//! [axes]                             # a product, in this order (the first varies slowest)
//! seed = [0, 1, 2]
//!
//! [[zip]]                            # fields that move together: one factor of the product
//! label = ["vangl", "trgl"]          # `label` names the runs and sets nothing
//! "method.tau" = [inf, 2.0]
//! ```
//!
//! Zip groups come before the axes in the product, so a run's name reads `trgl_seed-0`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};

/// A zip or axis key that names runs and sets no config field.
pub const LABEL: &str = "label";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// The base config file, relative to the sweep file.
    #[serde(default)]
    pub base: Option<PathBuf>,
    /// A base config written inline; merged over `base` when both are given.
    #[serde(default)]
    pub config: Option<toml::Table>,
    /// Where the sweep's manifest and run directories go (relative to the working directory).
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Overrides every run gets, before the axes' values.
    #[serde(default)]
    pub set: Vec<String>,
    #[serde(default)]
    pub axes: toml::Table,
    #[serde(default)]
    pub zip: Vec<toml::Table>,
}

/// One run of a sweep: its name, the overrides that make it, its resolved config.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    pub name: String,
    /// The axes' assignments (`key=value`, --set syntax), the sweep's `set` not included.
    pub assignments: Vec<String>,
    pub config: Config,
}

/// A sweep file read and expanded: every run resolved and validated.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub file: PathBuf,
    pub spec: SweepFile,
    /// The base config as a TOML tree (base file merged with the inline table).
    pub base: toml::Table,
    pub dir: PathBuf,
    pub runs: Vec<PlannedRun>,
}

/// One factor of the product: a single axis, or a zip group of equal-length lists.
struct Factor {
    keys: Vec<String>,
    /// values[i][j]: key j's value at position i.
    values: Vec<Vec<toml::Value>>,
}

fn sweep_error(file: &Path, message: impl Into<String>) -> Error {
    Error::ConfigParse { path: file.display().to_string(), message: message.into() }
}

/// A value as `--set` reads it back (TOML syntax: `inf`, `"text"`, `[1, 2]`).
pub fn toml_literal(value: &toml::Value) -> String {
    let mut t = toml::Table::new();
    t.insert("v".into(), value.clone());
    let line = toml::to_string(&t).expect("a TOML value serialises");
    line.trim().trim_start_matches("v = ").to_string()
}

pub use crate::flat::toml_json;

/// The part of a run name a value gives: readable, and safe in a file name.
fn name_value(value: &toml::Value) -> String {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) if f.is_infinite() => if *f > 0.0 { "inf".into() } else { "-inf".into() },
        toml::Value::Float(f) => format!("{f}"),
        toml::Value::Array(a) => a.iter().map(name_value).collect::<Vec<_>>().join(","),
        other => toml_literal(other),
    };
    text.chars().map(|c| if c.is_ascii_alphanumeric() || "._+,-".contains(c) { c } else { '_' }).collect()
}

/// Deep merge: tables merge key by key, anything else in `over` replaces what `into` holds.
fn merge(into: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (into.get_mut(k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

impl Sweep {
    pub fn from_file(file: &Path) -> Result<Sweep> {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        Sweep::from_str(&text, file)
    }

    /// Parses and expands a sweep file's text; `file` locates `base` and names the sweep in errors.
    pub fn from_str(text: &str, file: &Path) -> Result<Sweep> {
        let spec: SweepFile = toml::from_str(text).map_err(|e| sweep_error(file, e.to_string()))?;
        let mut base = toml::Table::new();
        if let Some(b) = &spec.base {
            let path = file.parent().unwrap_or(Path::new("")).join(b);
            let t = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            base = toml::from_str(&t).map_err(|e| Error::ConfigParse { path: path.display().to_string(), message: e.to_string() })?;
        }
        if let Some(inline) = &spec.config {
            merge(&mut base, inline);
        }
        let dir = match &spec.dir {
            Some(d) => d.clone(),
            None => {
                let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "sweep".into());
                PathBuf::from("runs/sweeps").join(stem)
            }
        };
        let factors = factors(&spec, file)?;
        let mut runs = Vec::new();
        let base_text = toml::to_string(&base).expect("a TOML table serialises");
        let total: usize = factors.iter().map(|f| f.values.len()).product();
        for index in 0..total {
            // Mixed radix, the first factor most significant: it varies slowest.
            let mut rest = index;
            let mut picks = vec![0; factors.len()];
            for (i, f) in factors.iter().enumerate().rev() {
                picks[i] = rest % f.values.len();
                rest /= f.values.len();
            }
            let mut name_parts = Vec::new();
            let mut assignments = Vec::new();
            for (f, &p) in factors.iter().zip(&picks) {
                let row = &f.values[p];
                match f.keys.iter().position(|k| k == LABEL) {
                    Some(l) => name_parts.push(name_value(&row[l])),
                    None => name_parts.extend(f.keys.iter().zip(row).map(|(k, v)| format!("{}-{}", short_key(k, &factors), name_value(v)))),
                }
                for (k, v) in f.keys.iter().zip(row) {
                    if k != LABEL {
                        assignments.push(format!("{k}={}", toml_literal(v)));
                    }
                }
            }
            let name = if name_parts.is_empty() { "run".to_string() } else { name_parts.join("_") };
            let mut overrides = spec.set.clone();
            overrides.extend(assignments.iter().cloned());
            overrides.push(format!("output.dir={}", toml_literal(&toml::Value::String(dir.join("runs").join(&name).display().to_string()))));
            overrides.push("output.progress=false".into());
            let config = Config::from_toml_str(&base_text, &format!("{} (run {name})", file.display()), &overrides)?;
            runs.push(PlannedRun { name, assignments, config });
        }
        let mut seen = BTreeSet::new();
        for r in &runs {
            if !seen.insert(r.name.as_str()) {
                return Err(sweep_error(file, format!("two runs would be named `{}`: give the axes distinct values, or a `label`", r.name)));
            }
        }
        Ok(Sweep { file: file.to_path_buf(), spec, base, dir, runs })
    }

    /// The sweep as the manifest records it, to tell later whether the file changed.
    pub fn spec_json(&self) -> serde_json::Value {
        let mut v = toml_json(&toml::Value::try_from(&self.spec).expect("a sweep file serialises"));
        v["resolved_base"] = toml_json(&toml::Value::Table(self.base.clone()));
        v
    }
}

/// The key's last segment, or the whole key where two keys of the sweep share it.
fn short_key(key: &str, factors: &[Factor]) -> String {
    let last = key.rsplit('.').next().unwrap_or(key);
    let shared = factors.iter().flat_map(|f| &f.keys).filter(|k| k.rsplit('.').next() == Some(last)).count() > 1;
    if shared { key.to_string() } else { last.to_string() }
}

fn factors(spec: &SweepFile, file: &Path) -> Result<Vec<Factor>> {
    let list = |key: &str, v: &toml::Value, place: &str| -> Result<Vec<toml::Value>> {
        match v {
            toml::Value::Array(a) if !a.is_empty() => Ok(a.clone()),
            toml::Value::Array(_) => Err(sweep_error(file, format!("{place} `{key}`: an empty list makes no runs"))),
            _ => Err(sweep_error(file, format!("{place} `{key}`: expected a list of values, e.g. {key} = [0, 1, 2]"))),
        }
    };
    let mut out = Vec::new();
    let mut keys_seen = BTreeSet::new();
    let mut claim = |key: &str| -> Result<()> {
        if key != LABEL && !keys_seen.insert(key.to_string()) {
            return Err(sweep_error(file, format!("`{key}` is swept twice (in two axes or zip groups)")));
        }
        Ok(())
    };
    for (g, group) in spec.zip.iter().enumerate() {
        let mut keys = Vec::new();
        let mut columns = Vec::new();
        for (k, v) in group {
            claim(k)?;
            keys.push(k.clone());
            columns.push(list(k, v, &format!("zip group {}", g + 1))?);
        }
        let Some(len) = columns.first().map(Vec::len) else {
            return Err(sweep_error(file, format!("zip group {} is empty", g + 1)));
        };
        if let Some((k, c)) = keys.iter().zip(&columns).find(|(_, c)| c.len() != len) {
            return Err(sweep_error(file, format!("zip group {}: `{k}` has {} values, `{}` has {len}: a zip group's lists move together and must be equally long", g + 1, c.len(), keys[0])));
        }
        out.push(Factor { keys, values: (0..len).map(|i| columns.iter().map(|c| c[i].clone()).collect()).collect() });
    }
    for (k, v) in &spec.axes {
        claim(k)?;
        out.push(Factor { keys: vec![k.clone()], values: list(k, v, "axis")?.into_iter().map(|x| vec![x]).collect() });
    }
    Ok(out)
}

/// Shell-style pattern: `*` any run of characters, `?` one character.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}
