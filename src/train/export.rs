//! Exporting a trained network for other tools, and what `predict` needs to preprocess images as training did.
//!
//! `model.safetensors` holds the assembled network — stem, every module's blocks, every module's head (the
//! last one is the network's own classifier; the others allow early exits) — with PyTorch's conventions:
//! `weight`/`bias` for BatchNorm's γ/β, `running_mean`/`running_var`, linear weights as [out, in], names
//! like `modules.0.blocks.1.conv1.weight` (no enum variant names). `preprocess.json` records the input shape,
//! the normalisation and the class names of the training data.

use std::path::Path;

use burn::module::Module;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};

use crate::data::ImageSet;
use crate::error::{Error, Result};
use crate::model::Network;
use crate::readback;

pub const PREPROCESS_FILE: &str = "preprocess.json";
/// The export `trgl export` writes into the run directory, and `predict` reads.
pub const SAFETENSORS_FILE: &str = "model.safetensors";
/// Beside it: which weights it was exported from, so that `predict` never uses a stale export.
pub const SOURCE_FILE: &str = "model.safetensors.json";

#[derive(Serialize, Deserialize)]
struct ExportSource {
    weights_sha256: String,
}

const MAX_CHANNELS: usize = 4;
const MAX_SIZE: usize = 4096;
const MAX_CLASSES: usize = 100_000;

/// How images were fed to the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    pub channels: usize,
    pub size: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub classes: Vec<String>,
}

impl Preprocess {
    pub fn of(train: &ImageSet) -> Self {
        let (mean, std) = train.channel_stats();
        Preprocess { channels: train.channels, size: train.height, mean, std, classes: train.classes.clone() }
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        let p = dir.join(PREPROCESS_FILE);
        std::fs::write(&p, serde_json::to_string_pretty(self).expect("serialises")).map_err(|e| Error::io(&p, e))
    }

    pub fn load(dir: &Path) -> Result<Self> {
        let p = dir.join(PREPROCESS_FILE);
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        let pre: Preprocess = serde_json::from_str(&text).map_err(|e| Error::data(&p, format!("corrupt: {e}")))?;
        pre.check().map_err(|m| Error::data(&p, m))?;
        Ok(pre)
    }

    /// Sizes are checked before anything is allocated from them: a corrupt or hostile file could ask for
    /// a network and image buffers of any size.
    fn check(&self) -> std::result::Result<(), String> {
        if !(1..=MAX_CHANNELS).contains(&self.channels) {
            return Err(format!("channels = {}: expected 1 to {MAX_CHANNELS}", self.channels));
        }
        if !(1..=MAX_SIZE).contains(&self.size) {
            return Err(format!("size = {}: expected 1 to {MAX_SIZE} pixels", self.size));
        }
        if !(1..=MAX_CLASSES).contains(&self.classes.len()) {
            return Err(format!("{} classes: expected 1 to {MAX_CLASSES}", self.classes.len()));
        }
        if self.mean.len() != self.channels || self.std.len() != self.channels {
            return Err(format!("{} means and {} standard deviations for {} channels", self.mean.len(), self.std.len(), self.channels));
        }
        if let Some(s) = self.std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(format!("standard deviation {s}: expected a positive number"));
        }
        if let Some(m) = self.mean.iter().find(|m| !m.is_finite()) {
            return Err(format!("mean {m}: expected a finite number"));
        }
        Ok(())
    }
}

/// Writes `network` (inference copy) to `path` as safetensors with PyTorch's names and layouts.
pub fn export_safetensors(network: &Network, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_file(path).with_to_adapter(BurnToPyTorchAdapter).skip_enum_variants(true).overwrite(true);
    network.valid().save_into(&mut store).map_err(|e| Error::Weights { path: path.to_path_buf(), message: e.to_string() })?;
    // The store creates its file owner-only (0600); an export is for other tools and people to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Where `trgl export` may write: the run's own export, or a path that is neither a file of the run nor an
/// existing file (unless `force`).
pub fn check_export_path(run_dir: &Path, out: &Path, force: bool) -> Result<()> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let in_run = parent.canonicalize().ok().zip(run_dir.canonicalize().ok()).is_some_and(|(p, r)| p == r);
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if in_run && name == SAFETENSORS_FILE {
        return Ok(());
    }
    if in_run && (super::run_dir::RUN_FILES.contains(&name.as_str()) || name == SOURCE_FILE) {
        return Err(Error::data(out, "is one of the run's own files: choose another --out"));
    }
    if out.is_dir() {
        return Err(Error::data(out, "is a folder: --out names the file to write"));
    }
    if out.exists() && !force {
        return Err(Error::data(out, "exists; nothing was written (--force replaces it)"));
    }
    Ok(())
}

/// Records, beside the run's export, the checksum of the weights it came from, and its own in the run's
/// `SHA256SUMS`.
pub fn record_export_source(run_dir: &Path) -> Result<()> {
    let source = ExportSource { weights_sha256: crate::integrity::sha256_file(&run_dir.join(super::WEIGHTS_FILE))? };
    let p = run_dir.join(SOURCE_FILE);
    std::fs::write(&p, serde_json::to_string_pretty(&source).expect("serialises")).map_err(|e| Error::io(&p, e))?;
    crate::integrity::record(run_dir, &[SAFETENSORS_FILE])
}

/// The run's export, checked: present, unchanged since it was written, and made from the run's current
/// weights (a run trained further after its export would otherwise predict with the old network).
fn checked_export(run_dir: &Path) -> Result<std::path::PathBuf> {
    let (st, sp) = (run_dir.join(SAFETENSORS_FILE), run_dir.join(SOURCE_FILE));
    if !st.is_file() {
        return Err(Error::data(&st, format!("no export: run `trgl export {}` first", run_dir.display())));
    }
    let text = std::fs::read_to_string(&sp).map_err(|_| {
        Error::data(&sp, format!("missing: which weights {SAFETENSORS_FILE} came from is unknown; run `trgl export {}` again", run_dir.display()))
    })?;
    let source: ExportSource = serde_json::from_str(&text).map_err(|e| Error::data(&sp, format!("corrupt: {e}")))?;
    crate::integrity::verify(run_dir, SAFETENSORS_FILE, true)?;
    if crate::integrity::sha256_file(&run_dir.join(super::WEIGHTS_FILE))? != source.weights_sha256 {
        return Err(Error::data(
            &st,
            format!("is stale: it was exported from other weights than the run's {} now; run `trgl export {}` again", super::WEIGHTS_FILE, run_dir.display()),
        ));
    }
    Ok(st)
}

/// Reads a network exported by [`export_safetensors`] into `network` (same architecture and split).
pub fn import_safetensors(network: Network, path: &Path) -> Result<Network> {
    let mut network = network;
    let mut store = SafetensorsStore::from_file(path).with_from_adapter(burn::store::PyTorchToBurnAdapter).skip_enum_variants(true);
    let result = network.load_from(&mut store).map_err(|e| Error::Weights { path: path.to_path_buf(), message: e.to_string() })?;
    if !result.missing.is_empty() || !result.errors.is_empty() {
        return Err(Error::Weights {
            path: path.to_path_buf(),
            message: format!("does not fit the run's network: missing {:?}, errors {:?}", result.missing, result.errors),
        });
    }
    Ok(network)
}

/// One image's predicted class: through the modules up to `exit` and that module's head.
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    pub path: std::path::PathBuf,
    pub class: usize,
    pub name: String,
    pub probability: f32,
}

/// Classifies image files with the network of `run_dir` (its `model.safetensors`, checked by `checked_export`), leaving at module `exit`
/// (from 1; default: the last).
pub fn predict(run_dir: &Path, images: &[std::path::PathBuf], exit: Option<usize>) -> Result<Vec<Prediction>> {
    use burn::prelude::*;
    let config = crate::config::Config::from_file(&run_dir.join("config.toml"), &[])?;
    let pre = Preprocess::load(run_dir)?;
    let (_, split, network) = super::session::network_from_config(&config, pre.channels, pre.size, pre.classes.len())?;
    let network = import_safetensors(network, &checked_export(run_dir)?)?;
    let device = crate::device::parse_device(&config.device)?;
    let k = split.len();
    let exit = exit.unwrap_or(k);
    if exit == 0 || exit > k {
        return Err(Error::config("exit", format!("module {exit} does not exist: the network has modules 1..={k}")));
    }
    let spec = crate::data::formats::decode::DecodeSpec { channels: pre.channels, resize: Some(pre.size) };
    let plane = pre.size * pre.size;
    let mut pixels = Vec::with_capacity(images.len() * pre.channels * plane);
    for p in images {
        let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        let (_, _, img) = crate::data::formats::decode::decode_one(p, &bytes, spec)?;
        pixels.extend(img.iter().enumerate().map(|(i, &v)| {
            let c = i / plane;
            (v as f32 / 255.0 - pre.mean[c]) / pre.std[c]
        }));
    }
    let mut x = Tensor::<4>::from_data(TensorData::new(pixels, [images.len(), pre.channels, pre.size, pre.size]), &device);
    for m in &network.modules[..exit] {
        x = m.features(x);
    }
    let probs = burn::tensor::activation::softmax(network.modules[exit - 1].head.forward(x), 1);
    let values: Vec<f32> = readback::read_f32(probs);
    let classes = pre.classes.len();
    Ok(images
        .iter()
        .zip(values.chunks_exact(classes))
        .map(|(p, row)| {
            let (class, &probability) = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).expect("classes");
            Prediction { path: p.clone(), class, name: pre.classes[class].clone(), probability }
        })
        .collect())
}
