//! Experiment configuration: one TOML file (see `configs/`), overridable with `--set key=value`, every
//! field validated before anything trains. Unknown fields are errors, so a typo never silently falls back
//! to a default.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::config::DataConfig;
use crate::error::{Error, Result};
use crate::model::config::{HeadSpec, ModelConfig, SplitConfig, validate_split_and_head};
use crate::train::config::{Mode, OutputConfig, TrainConfig};
use crate::train::optim::config::{LrScheduleConfig, OptimConfig};
use crate::transport::config::TransportSpec;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Seeds weights, data order and augmentation: the same seed gives the same run on CPU (one training per
    /// process: concurrent ones share Flex's thread pool, and its work splitting changes float sum order).
    pub seed: u64,
    /// `cpu`, `vulkan:N` (feature `vulkan`; `trgl devices` lists the other spellings) or `cuda:N` (feature `tch`).
    pub device: String,
    pub data: DataConfig,
    pub model: ModelConfig,
    pub split: SplitConfig,
    pub head: HeadSpec,
    pub method: TransportSpec,
    pub train: TrainConfig,
    pub optim: OptimConfig,
    pub lr_schedule: LrScheduleConfig,
    pub output: OutputConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0,
            device: "cpu".into(),
            data: DataConfig::default(),
            model: ModelConfig::default(),
            split: SplitConfig::default(),
            head: HeadSpec::default(),
            method: TransportSpec::default(),
            train: TrainConfig::default(),
            optim: OptimConfig::default(),
            lr_schedule: LrScheduleConfig::default(),
            output: OutputConfig::default(),
        }
    }
}

/// A `--set` value: read as TOML (`0.1`, `true`, `inf`, `[1, 2]`, `"text"`), or a bare string when it is
/// not valid TOML.
pub fn parse_value(value: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {value}")) {
        Ok(mut t) => t.remove("v").expect("parsed table has v"),
        Err(_) => toml::Value::String(value.trim().to_string()),
    }
}

/// Sets `key` (dotted path, e.g. `optim.lr`) to `value` in a TOML tree. The value is read as TOML
/// (`0.1`, `true`, `inf`, `[1, 2]`, `"text"`), or taken as a bare string when it is not valid TOML.
pub fn apply_override(tree: &mut toml::Table, assignment: &str) -> Result<()> {
    let (key, value) = assignment
        .split_once('=')
        .ok_or_else(|| Error::config(assignment, "an override is written key=value, e.g. --set optim.lr=0.01"))?;
    let key = key.trim();
    let value = parse_value(value);
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().filter(|s| !s.is_empty()).ok_or_else(|| Error::config(key, "empty key"))?;
    let mut table = tree;
    for (i, part) in parts.iter().enumerate() {
        let entry = table.entry(part.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry
            .as_table_mut()
            .ok_or_else(|| Error::config(parts[..=i].join("."), "is a value, not a section"))?;
    }
    table.insert(last.to_string(), value);
    Ok(())
}

/// A config that does not deserialise: the error names the file when the file alone is wrong, else the
/// first `--set` after which it stops deserialising (not the file, which was fine).
fn blame(
    file_tree: &toml::Table,
    origin: &str,
    overrides: &[String],
    error: toml::de::Error,
    parse: impl Fn(&toml::Table) -> std::result::Result<Config, toml::de::Error>,
) -> Error {
    let mut tree = file_tree.clone();
    if let Err(e) = parse(&tree) {
        return Error::ConfigParse { path: origin.into(), message: e.to_string() };
    }
    for o in overrides {
        if apply_override(&mut tree, o).is_ok() {
            if let Err(e) = parse(&tree) {
                return Error::ConfigParse { path: format!("--set {o} (over {origin})"), message: e.to_string() };
            }
        }
    }
    Error::ConfigParse { path: origin.into(), message: error.to_string() }
}

impl Config {
    /// Parses TOML text (`origin` names it in errors), applies overrides, validates.
    pub fn from_toml_str(text: &str, origin: &str, overrides: &[String]) -> Result<Config> {
        let mut tree: toml::Table =
            toml::from_str(text).map_err(|e| Error::ConfigParse { path: origin.into(), message: e.to_string() })?;
        let file_tree = tree.clone();
        for o in overrides {
            apply_override(&mut tree, o)?;
        }
        let parse = |t: &toml::Table| -> std::result::Result<Config, toml::de::Error> { toml::Value::Table(t.clone()).try_into() };
        let mut config = parse(&tree).map_err(|e| blame(&file_tree, origin, overrides, e, parse))?;
        let crop_set = tree.get("data").and_then(|d| d.get("augment")).and_then(|a| a.get("crop_padding")).is_some();
        if !crop_set {
            config.data.augment.crop_padding = config.data.default_crop_padding();
        }
        config.validate()?;
        Ok(config)
    }

    pub fn from_file(path: &Path, overrides: &[String]) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Config::from_toml_str(&text, &path.display().to_string(), overrides)
    }

    pub fn to_toml(&self) -> String {
        // ∞ is valid TOML (`inf`), so the resolved config round-trips.
        toml::to_string_pretty(self).expect("a config always serialises")
    }

    /// Checks every field against what the run can use; the error names the first bad field. Each section
    /// checks its own fields; what involves two sections is checked here, in between, so that the first bad
    /// field is the one named.
    pub fn validate(&self) -> Result<()> {
        if crate::device::parse_devices(&self.device)?.len() > 1 && self.train.mode != Mode::Pipelined {
            return Err(Error::config("device", "a list of devices is for train.mode = \"pipelined\" only"));
        }
        self.train.validate_pipeline()?;
        self.data.validate_source()?;
        if self.train.cache_prefix && (self.data.augment.crop_padding > 0 || self.data.augment.flip) {
            return Err(Error::config(
                "train.cache_prefix",
                "needs augmentation off (data.augment.crop_padding = 0, flip = false): the cache holds one output per image, so it cannot follow new random crops and flips",
            ));
        }
        self.data.validate()?;
        self.model.validate()?;
        validate_split_and_head(&self.split, &self.head)?;
        self.method.validate()?;
        self.train.validate()?;
        self.optim.validate()?;
        self.lr_schedule.validate()?;
        if self.lr_schedule.min_lr > self.optim.lr {
            return Err(Error::config("lr_schedule.min_lr", "must not exceed optim.lr"));
        }
        self.output.validate()?;
        Ok(())
    }
}
