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
