//! `trgl predict`: image files through a run's exported network, leaving at any module's head.

use std::path::Path;

use serde::Serialize;

use super::preprocess::Preprocess;
use super::safetensors::{checked_export, import_safetensors};
use crate::error::{Error, Result};
use crate::readback;
use crate::train::build::network_from_config;

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
    let (_, split, network) = network_from_config(&config, pre.channels, pre.size, pre.classes.len())?;
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
