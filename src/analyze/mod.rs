//! `trgl analyze`: measurements of each trained module as a map, the questions the paper's argument raises
//! but does not measure — is each module close to an optimal-transport map, how regular is it, how far does
//! it move its input, and does the representation get more separable with depth.
//!
//! Module k's map is its blocks: input the output of the modules before it (after its own stem, for the
//! first module, since the stem is not a residual map), output its features, both in inference mode. Where
//! the blocks change the shape (a stage change, a dense layer's new channels, a Swin patch merging), the
//! input is carried to the output's shape by the same parameter-free projections the transport term
//! measures displacement against (for the patch merging, which has no transport term, its token-grid
//! analogue), block after block (`projected`), and the displacement and optimality are measured there.

pub mod aggregate;
pub mod estimators;
pub mod jacobian;
pub mod probe;

use burn::module::Module;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::module::adaptive_avg_pool2d;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{Loader, LoaderSpec};
use crate::error::{Error, Result};
use crate::model::{Block, LocalModule};
use crate::model::layers::project;
use crate::readback::read_f32;
use crate::train::session::Session;
use crate::transport::cross_entropy_smoothed;
use estimators::{HolderFit, Optimality, Quantiles};
use jacobian::JacobianNorm;
use probe::ProbeResult;

/// What to measure on, and how much.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AnalyzeOptions {
    /// Test images the maps are measured on (the optimality ratio solves an N×N assignment).
    pub samples: usize,
    /// Random pairs of those images for the Lipschitz quantiles and the Hölder fit.
    pub pairs: usize,
    /// Near pairs: x' = x + noise of norm `near` · ‖x‖.
    pub near: f64,
    /// Training images (in order, unaugmented) the linear probe is fitted on.
    pub probe_train: usize,
    /// The probe's ridge penalty per sample.
    pub ridge: f64,
    /// Bins of the Hölder fit's envelope.
    pub holder_bins: usize,
    /// Sample points of the Jacobian's spectral norm, the power iteration's limit and tolerance (relative
    /// change of σ), and the central difference's ε (relative to ‖x‖).
    pub jacobian_points: usize,
    pub jacobian_iterations: usize,
    pub jacobian_tolerance: f64,
    pub jacobian_epsilon: f64,
    pub seed: u64,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions { samples: 256, pairs: 4000, near: 1e-3, probe_train: 2000, ridge: 1e-3, holder_bins: 12, jacobian_points: 8, jacobian_iterations: 40, jacobian_tolerance: 1e-3, jacobian_epsilon: 1e-4, seed: 0 }
    }
}

/// The measurements of one module.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModuleAnalysis {
    pub module: usize,
    /// Σ over its residual branches of mean(r²), on the samples: the transport term without its weight.
    pub kinetic_energy: f64,
    /// Mean of ‖T(x) − P(x)‖ / ‖P(x)‖.
    pub relative_displacement: f64,
    /// ‖T(x) − T(x')‖ / ‖x − x'‖ over random pairs of samples.
    pub lipschitz_pairs: Quantiles,
    /// The same over near pairs (x' = x + small noise): the local Lipschitz constant.
    pub lipschitz_near: Quantiles,
    /// The optimality ratio on all samples, then on the first N/4 and N/2 (how it moves with N).
    pub optimality: Optimality,
    pub optimality_by_samples: Vec<Optimality>,
    pub holder: HolderFit,
    /// The spectral norm of the Jacobian at the first `jacobian_points` samples.
    pub jacobian: JacobianNorm,
    /// Its head's cross-entropy (no label smoothing) and accuracy on the samples.
    pub head_loss: f64,
    pub head_accuracy: f64,
    /// A linear probe on its output pooled to 2×2 per channel.
    pub probe: ProbeResult,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunAnalysis {
    pub options: AnalyzeOptions,
    pub modules: Vec<ModuleAnalysis>,
}

/// Up to `n` images of `loader`'s first pass, and their labels.
fn images(loader: &Loader, n: usize, device: &Device) -> (Tensor<4>, Vec<usize>) {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut shape = [0, 0, 0, 0];
    for batch in loader.epoch(0) {
        let take = (n - labels.len()).min(batch.shape[0]);
        let per = batch.shape[1] * batch.shape[2] * batch.shape[3];
        pixels.extend_from_slice(&batch.images[..take * per]);
        labels.extend(batch.labels[..take].iter().map(|&l| l as usize));
        shape = batch.shape;
        if labels.len() == n {
            break;
        }
    }
    shape[0] = labels.len();
    (Tensor::from_data(TensorData::new(pixels, shape), device), labels)
}

/// Rows of a `[N, …]` tensor, flattened.
fn rows(t: Tensor<4>) -> Vec<Vec<f32>> {
    let n = t.dims()[0];
    let v = read_f32(t);
    let d = v.len() / n.max(1);
    v.chunks(d.max(1)).map(<[f32]>::to_vec).collect()
}

/// The module's blocks on `x`: the output, Σ mean(r²) over the residual branches, and `x` carried through
/// the blocks' parameter-free projections (what each block's displacement is measured against).
fn blocks(m: &LocalModule, mut x: Tensor<4>) -> (Tensor<4>, f64, Tensor<4>) {
    let mut energy = 0.0;
    let mut carried = x.clone();
    for block in &m.blocks {
        let out = block.forward(x);
        for r in out.residuals {
            energy += read_f32(r.square().mean())[0] as f64;
        }
        carried = projected(carried, block, &out.output);
        x = out.output;
    }
    (x, energy, carried)
}

/// `x` carried to `output`'s shape as `block`'s transport term does: a dense layer appends zero channels
/// (its input passes unchanged); a Swin patch merging, which has no transport term, keeps the top-left token
/// of each 2×2 neighbourhood with zero features on both sides (`PatchMerging::project`); every other block
/// uses the parameter-free projection (every other pixel, zero channels on both sides or the first
/// channels kept), the identity where the shapes agree.
fn projected(x: Tensor<4>, block: &Block, output: &Tensor<4>) -> Tensor<4> {
    let (a, b) = (x.dims(), output.dims());
    if a == b {
        return x;
    }
    match block {
        Block::Dense(_) => {
            let device = x.device();
            Tensor::cat(vec![x, Tensor::zeros([a[0], b[1] - a[1], a[2], a[3]], &device)], 1)
        }
        Block::PatchMerge(m) => m.project(x),
        _ => project(x, a[1], b[1], b[2]),
    }
}

/// The module's blocks on `x`, the output only.
fn blocks_map(m: &LocalModule, mut x: Tensor<4>) -> Tensor<4> {
    for block in &m.blocks {
        x = block.forward(x).output;
    }
    x
}

/// Each module's output pooled to 2×2 per channel, over `x`.
fn pooled_features(modules: &[LocalModule], x: Tensor<4>) -> Vec<Vec<Vec<f32>>> {
    let mut x = x;
    let mut out = Vec::with_capacity(modules.len());
    for m in modules {
        x = m.features(x);
        out.push(rows(adaptive_avg_pool2d(x.clone(), [2, 2])));
    }
    out
}

/// Measures every module of the session's network (its current weights) as the options say.
pub fn analyze(session: &Session, options: &AnalyzeOptions) -> Result<RunAnalysis> {
    let device = &session.trainer.infer_device;
    let modules: Vec<LocalModule> = session.trainer.network.modules.iter().map(|m| m.valid()).collect();
    let (images_test, labels) = images(&session.loaders.test, options.samples, device);
    let n = labels.len();
    if n < 4 {
        return Err(Error::config("analyze.samples", format!("{n} test images: at least 4 are needed")));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let targets = Tensor::<1, Int>::from_data(TensorData::new(labels.iter().map(|&l| l as i64).collect::<Vec<_>>(), [n]), device);
    let in_order = session.loaders.train.with_spec(LoaderSpec { shuffle: false, drop_last: false, augment: None, ..session.loaders.train.spec().clone() });
    let (images_train, train_labels) = images(&in_order, options.probe_train, device);
    let classes = session.loaders.test.set().classes.len();
    let train_features = pooled_features(&modules, images_train);
    let mut x = images_test;
    let mut out = Vec::with_capacity(modules.len());
    for (k, m) in modules.iter().enumerate() {
        let input = match &m.stem {
            Some(stem) => stem.forward(x.clone()),
            None => x.clone(),
        };
        let (y, kinetic_energy, xp) = blocks(m, input.clone());
        if xp.dims() != y.dims() {
            return Err(Error::config("model.arch", format!("module {} maps {:?} to {:?}: no parameter-free projection carries one to the other", k + 1, input.dims(), y.dims())));
        }
        let logits = m.head.forward(y.clone());
        let head_loss = read_f32(cross_entropy_smoothed(logits.clone(), targets.clone(), 0.0))[0] as f64;
        let hits = read_f32(logits.argmax(1).flatten::<1>(0, 1).equal(targets.clone()).int().sum().float())[0] as f64;
        // Near pairs: noise of norm `near`·‖x‖ on each sample.
        let noise = Tensor::<4>::random(input.dims(), Distribution::Normal(0.0, 1.0), device);
        let scale = jacobian::norms(input.clone()) / jacobian::norms(noise.clone()).clamp_min(1e-12) * options.near;
        let nudged = input.clone() + noise * scale;
        let y_near = blocks_map(m, nudged.clone());
        let (in_rows, out_rows, xp_rows) = (rows(input.clone()), rows(y.clone()), rows(xp));
        let near_rows = (rows(nudged), rows(y_near));
        let near: Vec<(f64, f64)> =
            (0..n).map(|i| (estimators::distance(&in_rows[i], &near_rows.0[i]), estimators::distance(&out_rows[i], &near_rows.1[i]))).filter(|(dx, _)| *dx > 0.0).collect();
        let pairs = estimators::pair_distances(&in_rows, &out_rows, &estimators::random_pairs(n, options.pairs, &mut rng));
        let optimality = estimators::optimality(&xp_rows, &out_rows)?;
        let optimality_by_samples = [n / 4, n / 2].iter().filter(|&&s| s >= 2).map(|&s| estimators::optimality(&xp_rows[..s], &out_rows[..s])).collect::<Result<Vec<_>>>()?;
        // The module on the autodiff device, frozen: BatchNorm in inference mode, no parameter on the graph.
        let frozen = session.trainer.network.modules[k].clone().freeze();
        let points = options.jacobian_points.clamp(1, n);
        let jacobian = jacobian::spectral_norms(
            |t| blocks_map(&frozen, t),
            input.clone().slice(0..points).autodiff(),
            options.jacobian_iterations,
            options.jacobian_tolerance,
            options.jacobian_epsilon,
            options.seed,
        );
        let test_features = rows(adaptive_avg_pool2d(y.clone(), [2, 2]));
        let probe = probe::ridge_probe(&train_features[k], &train_labels, &test_features, &labels, classes, options.ridge);
        out.push(ModuleAnalysis {
            module: k + 1,
            kinetic_energy,
            relative_displacement: estimators::relative_displacement(&xp_rows, &out_rows),
            lipschitz_pairs: estimators::quantiles(&estimators::lipschitz_ratios(&pairs)),
            lipschitz_near: estimators::quantiles(&estimators::lipschitz_ratios(&near)),
            optimality,
            optimality_by_samples,
            holder: estimators::holder_fit(&pairs, options.holder_bins),
            jacobian,
            head_loss,
            head_accuracy: hits / n as f64,
            probe,
        });
        x = y;
    }
    Ok(RunAnalysis { options: options.clone(), modules: out })
}
