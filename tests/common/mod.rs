#![allow(dead_code)]

use trgl::config::Config;
use trgl::train::Mode;

/// A config for a network small enough to train in a second: resnet14 (stem + 6 blocks), width 4, on
/// 8×8 synthetic images, K = 4 (2/2/1/1 blocks).
pub fn tiny_config(mode: Mode) -> Config {
    let mut c = Config::default();
    c.model.arch = "resnet14".into();
    c.model.width = Some(4);
    c.split.modules = 4;
    c.data.batch_size = 16;
    c.data.test_batch_size = 32;
    c.data.augment.crop_padding = 1;
    c.head.pool = 2;
    c.head.hidden = 8;
    c.train.mode = mode;
    c.train.epochs = 2;
    c.train.ne1 = 1;
    c.train.ne2 = 1;
    c.train.laps = 2;
    c.optim.lr = 0.05;
    c.method.tau = 0.5;
    c.output.progress = false;
    c.output.timings = false;
    c
}

pub fn tiny_data() -> trgl::data::Splits {
    trgl::data::synthetic(96, 48, 1, 8, 3, 7)
}

/// The learnable synthetic task of the "trains" tests: 3 classes, each brightening its own square of a
/// noisy 8×8 image; 192 training images (12 steps of 16) and 96 test images, so that a test accuracy is
/// not decided by a handful of images.
pub fn learnable_data() -> trgl::data::Splits {
    trgl::data::synthetic(192, 96, 1, 8, 3, 7)
}

/// Mean final test accuracy over the heads (one per module; e2e has one) that a trained run of
/// tests/modes.rs must reach on [`learnable_data`]: chance is 1/3. Measured there: 0.68–1.00 (the linear
/// head, 6 epochs, the lowest); with the learning rate planted at 0, 0.28–0.45.
pub const LEARNED_ACC: f64 = 0.55;

/// The last epoch's mean training loss over the first's, for the module where it fell most, that a trained
/// run must reach. Measured: 0.19–0.74 (AdamW at lr 0.003 and vit-mini the slowest); with the learning
/// rate planted at 0, 0.95–1.05 (batch order and BatchNorm statistics alone) — except under Uzawa's
/// schedule, whose kinetic weight changes the loss by itself (0.66): there the other checks catch it.
pub const LEARNED_LOSS_RATIO: f64 = 0.85;

/// [`assert_learns_to`] with [`LEARNED_ACC`].
pub fn assert_learns(out: &trgl::train::RunOutcome, kinetic: bool, what: &str) {
    assert_learns_to(out, kinetic, LEARNED_ACC, what);
}

/// What "this run trained" means, asserted from its records, for a run on a learnable set (`what` names
/// it in the messages): (1) the mean of its heads' final test accuracies is at least `min_acc`;
/// (2) every module trained for two epochs or more ends with a lower mean training loss than it started
/// with, and the best of them ends at most [`LEARNED_LOSS_RATIO`] of its start; (3) with the transport
/// term on (`kinetic` true: a local mode, τ finite), every module with residual branches and two epochs or
/// more ends with a lower kinetic energy than it started with: the term is minimised, not maximised.
pub fn assert_learns_to(out: &trgl::train::RunOutcome, kinetic: bool, min_acc: f64, what: &str) {
    let recs = &out.session.record.metrics.records;
    let modules: std::collections::BTreeSet<usize> = recs.iter().map(|r| r.module).collect();
    let finals: Vec<f64> = modules
        .iter()
        .filter_map(|&k| recs.iter().filter(|r| r.module == k && r.phase == "final").last().or_else(|| recs.iter().filter(|r| r.module == k).last()))
        .map(|r| r.test_acc.unwrap_or_else(|| panic!("{what}: module {} has no test accuracy", r.module)))
        .collect();
    let mean_acc = finals.iter().sum::<f64>() / finals.len() as f64;
    assert!(mean_acc >= min_acc, "{what}: mean final test accuracy {mean_acc:.3} over the heads {finals:?} is below {min_acc} (chance 1/3)");
    let mut best_ratio = f64::INFINITY;
    for &k in &modules {
        let train: Vec<_> = recs.iter().filter(|r| r.module == k && r.phase == "train").collect();
        if train.len() < 2 {
            continue;
        }
        let (first, last) = (train[0], train[train.len() - 1]);
        assert!(last.train_loss < first.train_loss, "{what}: module {k}'s training loss went from {} to {}", first.train_loss, last.train_loss);
        best_ratio = best_ratio.min(last.train_loss / first.train_loss);
        if kinetic && first.kinetic_energy > 0.0 {
            assert!(
                last.kinetic_energy < first.kinetic_energy,
                "{what}: module {k}'s kinetic energy went from {} to {}: the transport term is not minimised",
                first.kinetic_energy,
                last.kinetic_energy
            );
        }
    }
    eprintln!("{what}: mean final test accuracy {mean_acc:.3} {finals:?}, best loss ratio {best_ratio:.3}");
    assert!(best_ratio.is_finite(), "{what}: no module trained for two epochs");
    assert!(best_ratio <= LEARNED_LOSS_RATIO, "{what}: the best module's training loss only fell to {best_ratio:.3} of its first epoch's (at most {LEARNED_LOSS_RATIO})");
}

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;

struct Snap(Vec<Vec<f32>>);
impl ModuleVisitor for Snap {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
    }
}

/// Every float tensor of a module (parameters and BatchNorm running statistics), in visit order.
/// Read through `valid()`, which folds in burn's lazily applied running-statistics updates.
pub fn snapshot<M: Module>(m: &M) -> Vec<Vec<f32>> {
    let mut s = Snap(Vec::new());
    m.valid().visit(&mut s);
    s.0
}

/// A fresh, empty path under the system's temp dir for a run directory.
pub fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("trgl-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `n` pseudo-random values in [offset − ½, offset + ½), each exactly representable in f32 (so that a
/// kernel run in f32 or f64 sees exactly the inputs of an f64 reference); deterministic in `seed`.
pub fn f32_exact_values(n: usize, seed: u64, offset: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5 + offset) as f32 as f64
        })
        .collect()
}

/// A sweep file: VanGL and TRGL (τ), seeds 0 and 1 — four tiny runs of a few steps on the embedded data,
/// `epochs` epochs each, into `dir`.
pub fn tiny_sweep_text(dir: &std::path::Path, tau: f64, epochs: usize) -> String {
    format!(
        r#"dir = "{}"
set = ["train.epochs={epochs}"]

[config]
seed = 0
[config.data]
dataset = "fashion-mnist-demo"
train_limit = 256
test_limit = 64
batch_size = 32
test_batch_size = 64
workers = 1
[config.model]
arch = "resnet8"
width = 4
[config.split]
modules = 2
[config.head]
pool = 2
[config.train]
mode = "parallel"
max_steps_per_epoch = 4
[config.output]
timings = false

[[zip]]
label = ["vangl", "trgl"]
"method.tau" = [inf, {tau:?}]

[axes]
seed = [0, 1]
"#,
        dir.display()
    )
}

/// One random damage to a valid file: truncation, flipped bytes, extreme values in the header (where
/// lengths live), or inserted garbage. For the parsers' mutation tests.
pub fn mutate(rng: &mut rand_chacha::ChaCha8Rng, valid: &[u8]) -> Vec<u8> {
    use rand::Rng;
    let mut b = valid.to_vec();
    match rng.random_range(0..4) {
        0 => b.truncate(rng.random_range(0..=b.len())),
        1 => {
            for _ in 0..rng.random_range(1..8) {
                if !b.is_empty() {
                    let i = rng.random_range(0..b.len());
                    b[i] = rng.random();
                }
            }
        }
        2 => {
            // Header words are where lengths live: hit the first 256 bytes hardest.
            for _ in 0..4 {
                let i = rng.random_range(0..b.len().min(256).max(1));
                if i < b.len() {
                    b[i] = *[0u8, 0xff, 0x7f, 0x80, 1].get(rng.random_range(0..5)).unwrap();
                }
            }
        }
        _ => {
            let at = rng.random_range(0..=b.len());
            let extra: Vec<u8> = (0..rng.random_range(1..64)).map(|_| rng.random()).collect();
            b.splice(at..at, extra);
        }
    }
    b
}
