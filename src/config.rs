//! Experiment configuration: one TOML file (see `configs/`), overridable with `--set key=value`, every
//! field validated before anything trains. Unknown fields are errors, so a typo never silently falls back
//! to a default.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::AugmentSpec;
use crate::error::{Error, Result};
use crate::model::{HeadSpec, InitScheme, ShortcutKind, SplitMethod};
use crate::train::{LrScheduleKind, Mode, OptimKind};
use crate::transport::{TauSchedule, TransportSpec};

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// `fashion-mnist-demo` (embedded) or a name of `trgl data list`: mnist, fashion-mnist, idx, cifar10,
    /// cifar100, cifar100-coarse, stl10, svhn, svhn-extra, tiny-imagenet, image-folder.
    pub dataset: String,
    /// Folder holding the dataset's files (an ImageFolder may also be a .tar/.tar.gz archive); default:
    /// `$TRGL_DATA_DIR/<dataset>`, else the platform cache folder's `trgl/data/<dataset>`.
    pub dir: Option<PathBuf>,
    /// Image channels for JPEG/PNG datasets: 1 (grey), 3 (RGB) or 0 (from the first image).
    pub channels: usize,
    /// Resize JPEG/PNG images to resize×resize (bilinear); required when their sizes differ.
    pub resize: Option<usize>,
    /// Keep decoded JPEG/PNG datasets in `$TRGL_CACHE_DIR` (default: the platform cache's `trgl/decoded`).
    pub cache: bool,
    /// Use only the first N training images (0 = all). On a set stored class by class this keeps only the
    /// first classes: `train_per_class` / `train_fraction` keep every class.
    pub train_limit: usize,
    /// Use N training images of each class, picked at random per seed (0 = all); refused when a class has
    /// fewer (see `data::subset`).
    pub train_per_class: usize,
    /// Use this fraction of each class's training images, picked at random per seed (1 = all).
    pub train_fraction: f64,
    /// Hold out this fraction of each class's training images as a validation set, picked per seed and
    /// before the training subset; its accuracy is recorded beside the test accuracy (`val_acc`), so that
    /// epochs and settings can be chosen on it (`trgl report --select-on val`). 0 = none.
    pub val_fraction: f64,
    /// Use only the first N test images (0 = all).
    pub test_limit: usize,
    pub batch_size: usize,
    pub test_batch_size: usize,
    pub workers: usize,
    pub prefetch: usize,
    pub augment: AugmentSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// See `trgl info --models`: resnet20/32/56/110 (CIFAR, any 6n+2), resnet18/34/50/101/152
    /// (ImageNet-style), vgg11/13/16/19.
    pub arch: String,
    /// Base width; default: the architecture's (16 for CIFAR ResNets, 64 for the others).
    pub width: Option<usize>,
    /// ImageNet-style ResNets: `auto` (conv3 up to 32 px, conv7 up to 64, conv7-maxpool above), `conv3`,
    /// `conv7` (stride 2, no max-pool), `conv7-maxpool`.
    pub stem: crate::model::imagenet_resnet::StemKind,
    /// ViTs: how heads reduce the tokens, `mean` or `cls` (a class token).
    pub token_pool: crate::model::vit::TokenPool,
    pub shortcut: ShortcutKind,
    pub init: InitScheme,
    /// Gain of the orthogonal initialisation.
    pub init_gain: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitConfig {
    /// K.
    pub modules: usize,
    pub method: SplitMethod,
    /// For method `cuts`: `[stage, i]` = after block i of stage `stage` (stage 0 = the stem).
    pub cuts: Vec<[usize; 2]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub mode: Mode,
    /// Epochs of `e2e` and `parallel`.
    pub epochs: usize,
    /// `sequential`/`multilap`: module k (from 0) trains ne1 + k·ne2 epochs (per lap).
    pub ne1: usize,
    pub ne2: usize,
    /// `multilap`: rounds R of the sequential pass.
    pub laps: usize,
    /// Cap on the steps of one epoch (0 = the whole training set); for quick runs and tests.
    pub max_steps_per_epoch: usize,
    pub label_smoothing: f64,
    /// Sequential/multi-lap: keep the frozen prefix's output for the whole training set instead of running
    /// the prefix on every batch (see `train::prefix_cache`). Needs augmentation off.
    pub cache_prefix: bool,
    /// `pipelined`: worker threads, each training a contiguous group of modules (capped at K). With a device
    /// list (`device = "vulkan:0,vulkan:1"`), worker w runs on device w mod (list length).
    pub pipeline_workers: usize,
    /// `pipelined`: batches that may wait between two workers.
    pub pipeline_queue: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimConfig {
    pub kind: OptimKind,
    pub lr: f64,
    pub momentum: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    /// AdamW's β1, β2 and ε.
    pub betas: [f64; 2],
    pub eps: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LrScheduleConfig {
    pub kind: LrScheduleKind,
    /// Linear warm-up from 0, in epochs (cosine and multistep).
    pub warmup_epochs: usize,
    /// Multistep: epochs at which the rate is multiplied by `gamma`.
    pub milestones: Vec<usize>,
    pub gamma: f64,
    /// Cosine: the rate reached at the end.
    pub min_lr: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Run directory: resolved config, metrics.jsonl, summary.
    pub dir: PathBuf,
    /// Write measurements (wall-clock seconds, peak memory) into the metrics (off: the file is byte-identical
    /// between runs of a seed).
    pub timings: bool,
    pub progress: bool,
    /// Write a checkpoint (see `train::checkpoint`) every N units — an epoch of a module, or of all modules
    /// in e2e/parallel modes — and at the end of every module in sequential modes; 0 = never.
    pub checkpoint_every: usize,
    /// Read the training statistics back from the device every N steps (progress line, early stop on a
    /// non-finite loss); 0 = once per epoch. Steps between two reads never wait for the device.
    pub log_every: usize,
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

impl DataConfig {
    /// The side of the images the network will see, where it is known before reading the data.
    pub fn image_side(&self) -> Option<usize> {
        if self.resize.is_some() {
            return self.resize;
        }
        if self.dataset == crate::data::EMBEDDED {
            return Some(28);
        }
        crate::data::catalog::find(&self.dataset).ok().and_then(|d| d.image_size)
    }
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            dataset: "fashion-mnist-demo".into(),
            dir: None,
            channels: 0,
            resize: None,
            cache: true,
            train_limit: 0,
            train_per_class: 0,
            train_fraction: 1.0,
            val_fraction: 0.0,
            test_limit: 0,
            batch_size: 128,
            test_batch_size: 500,
            workers: 2,
            prefetch: 2,
            augment: AugmentSpec::default(),
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig { arch: "resnet20".into(), width: None, stem: crate::model::imagenet_resnet::StemKind::Auto, token_pool: crate::model::vit::TokenPool::Mean, shortcut: ShortcutKind::A, init: InitScheme::Kaiming, init_gain: 1.0 }
    }
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig { modules: 4, method: SplitMethod::Even, cuts: Vec::new() }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig { mode: Mode::Sequential, epochs: 10, ne1: 2, ne2: 0, laps: 2, max_steps_per_epoch: 0, label_smoothing: 0.1, cache_prefix: false, pipeline_workers: 2, pipeline_queue: 1 }
    }
}

impl Default for OptimConfig {
    fn default() -> Self {
        OptimConfig { kind: OptimKind::Sgd, lr: 0.05, momentum: 0.9, nesterov: false, weight_decay: 2e-4, betas: [0.9, 0.999], eps: 1e-8 }
    }
}

impl Default for LrScheduleConfig {
    fn default() -> Self {
        LrScheduleConfig { kind: LrScheduleKind::Constant, warmup_epochs: 0, milestones: Vec::new(), gamma: 0.1, min_lr: 0.0 }
    }
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig { dir: PathBuf::from("runs/latest"), timings: true, progress: true, checkpoint_every: 1, log_every: 20 }
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
            config.data.augment.crop_padding = crate::data::augment::default_crop_padding(config.data.image_side());
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

    /// Checks every field against what the run can use; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        let positive = |field: &str, v: usize| if v == 0 { Err(Error::config(field, "must be at least 1")) } else { Ok(()) };
        let finite_nonneg = |field: &str, v: f64| {
            if !v.is_finite() || v < 0.0 { Err(Error::config(field, format!("must be a finite number ≥ 0, got {v}"))) } else { Ok(()) }
        };
        if crate::device::parse_devices(&self.device)?.len() > 1 && self.train.mode != crate::train::Mode::Pipelined {
            return Err(Error::config("device", "a list of devices is for train.mode = \"pipelined\" only"));
        }
        positive("train.pipeline_workers", self.train.pipeline_workers)?;
        positive("train.pipeline_queue", self.train.pipeline_queue)?;
        if self.data.dataset != crate::data::EMBEDDED {
            let info = crate::data::catalog::find(&self.data.dataset)?;
            if info.remote.is_empty() && self.data.dir.is_none() {
                return Err(Error::config("data.dir", format!("dataset `{}` is read from your files: set data.dir to their folder", info.name)));
            }
        }
        if self.train.cache_prefix && (self.data.augment.crop_padding > 0 || self.data.augment.flip) {
            return Err(Error::config(
                "train.cache_prefix",
                "needs augmentation off (data.augment.crop_padding = 0, flip = false): the cache holds one output per image, so it cannot follow new random crops and flips",
            ));
        }
        if ![0, 1, 3].contains(&self.data.channels) {
            return Err(Error::config("data.channels", format!("must be 0 (from the images), 1 or 3, got {}", self.data.channels)));
        }
        if let Some(side) = self.data.resize {
            if !(4..=4096).contains(&side) {
                return Err(Error::config("data.resize", format!("must be between 4 and 4096 pixels, got {side}")));
            }
        }
        let d = &self.data;
        if !(d.train_fraction > 0.0 && d.train_fraction <= 1.0) {
            return Err(Error::config("data.train_fraction", format!("must be in (0, 1], got {}", d.train_fraction)));
        }
        if !(0.0..1.0).contains(&d.val_fraction) {
            return Err(Error::config("data.val_fraction", format!("must be in [0, 1), got {}", d.val_fraction)));
        }
        if d.train_per_class > 0 && d.train_fraction < 1.0 {
            return Err(Error::config("data.train_per_class", "give train_per_class or train_fraction, not both"));
        }
        if d.train_limit > 0 && (d.train_per_class > 0 || d.train_fraction < 1.0 || d.val_fraction > 0.0) {
            return Err(Error::config("data.train_limit", "keeps the first N images; with train_per_class, train_fraction or val_fraction, leave it 0"));
        }
        if self.data.batch_size < 2 {
            return Err(Error::config("data.batch_size", "must be at least 2 (BatchNorm needs more than one sample)"));
        }
        positive("data.test_batch_size", self.data.test_batch_size)?;
        positive("data.workers", self.data.workers)?;
        positive("data.prefetch", self.data.prefetch)?;
        if self.data.augment.crop_padding > 16 {
            return Err(Error::config("data.augment.crop_padding", "must be at most 16 pixels"));
        }
        // The plan for a nominal input: only the name and width are checked here.
        crate::model::registry::plan_for(&self.model, 3, 32, 10)?;
        if let Some(w) = self.model.width {
            positive("model.width", w)?;
        }
        if !(self.model.init_gain.is_finite() && self.model.init_gain > 0.0) {
            return Err(Error::config("model.init_gain", "must be a finite number > 0"));
        }
        positive("split.modules", self.split.modules)?;
        let kernels = &self.head.pool_kernels;
        if !kernels.is_empty() && kernels.len() != self.split.modules {
            return Err(Error::config("head.pool_kernels", format!("{} kernels for {} modules: give one per module", kernels.len(), self.split.modules)));
        }
        if kernels.as_vec().contains(&0) {
            return Err(Error::config("head.pool_kernels", "a pooling kernel must be at least 1"));
        }
        match self.split.method {
            SplitMethod::Cuts if self.split.cuts.len() + 1 != self.split.modules => {
                return Err(Error::config(
                    "split.cuts",
                    format!("{} cuts make {} modules, but split.modules = {}", self.split.cuts.len(), self.split.cuts.len() + 1, self.split.modules),
                ));
            }
            SplitMethod::Cuts => {}
            _ if !self.split.cuts.is_empty() => {
                return Err(Error::config("split.cuts", "is only used with split.method = \"cuts\""));
            }
            _ => {}
        }
        positive("head.pool", self.head.pool)?;
        positive("head.hidden", self.head.hidden)?;
        let m = &self.method;
        if m.tau.is_nan() || m.tau <= 0.0 {
            return Err(Error::config("method.tau", format!("must be > 0 (inf = VanGL), got {}", m.tau)));
        }
        if m.schedule == TauSchedule::Uzawa {
            finite_nonneg("method.uzawa_rho", m.uzawa_rho)?;
            positive("method.uzawa_every", m.uzawa_every)?;
            if !(m.uzawa_lambda0.is_finite() && m.uzawa_lambda0 > 0.0) {
                return Err(Error::config("method.uzawa_lambda0", "must be a finite number > 0"));
            }
            if m.uzawa_variant == crate::transport::UzawaVariant::Published && m.uzawa_power < 0.0 {
                return Err(Error::config("method.uzawa_power", "the published Uzawa counts modules from 0 and grows λ with the index: p ≥ 0"));
            }
            if !m.uzawa_power.is_finite() {
                return Err(Error::config("method.uzawa_power", "must be finite"));
            }
        }
        let t = &self.train;
        match t.mode {
            Mode::E2e | Mode::Parallel | Mode::Pipelined => positive("train.epochs", t.epochs)?,
            Mode::Sequential | Mode::Multilap => {
                if t.ne1 == 0 && t.ne2 == 0 {
                    return Err(Error::config("train.ne1", "ne1 and ne2 are both 0: no module would train"));
                }
                if t.ne1 == 0 {
                    return Err(Error::config("train.ne1", "must be at least 1: module 1 would not train"));
                }
            }
        }
        if t.mode == Mode::Multilap {
            positive("train.laps", t.laps)?;
        }
        if !(0.0..1.0).contains(&t.label_smoothing) {
            return Err(Error::config("train.label_smoothing", format!("must be in [0, 1), got {}", t.label_smoothing)));
        }
        let o = &self.optim;
        if !(o.lr.is_finite() && o.lr > 0.0) {
            return Err(Error::config("optim.lr", format!("must be a finite number > 0, got {}", o.lr)));
        }
        if !(0.0..1.0).contains(&o.momentum) {
            return Err(Error::config("optim.momentum", format!("must be in [0, 1), got {}", o.momentum)));
        }
        if o.nesterov && o.momentum == 0.0 {
            return Err(Error::config("optim.nesterov", "Nesterov needs optim.momentum > 0"));
        }
        finite_nonneg("optim.weight_decay", o.weight_decay)?;
        for (i, b) in o.betas.iter().enumerate() {
            if !(0.0..1.0).contains(b) {
                return Err(Error::config(format!("optim.betas[{i}]"), format!("must be in [0, 1), got {b}")));
            }
        }
        if !(o.eps.is_finite() && o.eps > 0.0) {
            return Err(Error::config("optim.eps", "must be a finite number > 0"));
        }
        let s = &self.lr_schedule;
        if s.milestones.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::config("lr_schedule.milestones", "must be strictly increasing"));
        }
        if !(s.gamma.is_finite() && s.gamma > 0.0) {
            return Err(Error::config("lr_schedule.gamma", "must be a finite number > 0"));
        }
        finite_nonneg("lr_schedule.min_lr", s.min_lr)?;
        if s.min_lr > o.lr {
            return Err(Error::config("lr_schedule.min_lr", "must not exceed optim.lr"));
        }
        if self.output.dir.as_os_str().is_empty() {
            return Err(Error::config("output.dir", "must name a directory"));
        }
        Ok(())
    }
}
