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
        serde_json::from_str(&text).map_err(|e| Error::data(&p, format!("corrupt: {e}")))
    }
}

/// Writes `network` (inference copy) to `path` as safetensors with PyTorch's names and layouts.
pub fn export_safetensors(network: &Network, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_file(path).with_to_adapter(BurnToPyTorchAdapter).skip_enum_variants(true).overwrite(true);
    network.valid().save_into(&mut store).map_err(|e| Error::Weights { path: path.to_path_buf(), message: e.to_string() })
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

/// Classifies image files with the network of `run_dir` (its `model.safetensors`), leaving at module `exit`
/// (from 1; default: the last).
pub fn predict(run_dir: &Path, images: &[std::path::PathBuf], exit: Option<usize>) -> Result<Vec<Prediction>> {
    use burn::prelude::*;
    let config = crate::config::Config::from_file(&run_dir.join("config.toml"), &[])?;
    let pre = Preprocess::load(run_dir)?;
    let (_, split, network) = super::session::network_from_config(&config, pre.channels, pre.size, pre.classes.len())?;
    let network = import_safetensors(network, &run_dir.join("model.safetensors"))?;
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
