//! DenseNet-BC: the published parameter count, the transport term of a dense layer (its appended channels)
//! and of a transition (against the parameter-free projection), and its splits.

mod common;

use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use trgl::config::Config;
use trgl::model::dense::{DenseLayer, Transition};
use trgl::model::{HeadKind, Init, InitScheme, Network, split_balanced, split_even};
use trgl::model::registry::plan_for;
use trgl::transport::kinetic_energy;

fn init() -> Init {
    Init { scheme: InitScheme::Kaiming, gain: 1.0 }
}

fn values(t: Tensor<4>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn densenet_bc_100_with_growth_12_has_the_published_size() {
    let mut config = Config::default();
    config.model.arch = "densenet-bc-100".into();
    let plan = plan_for(&config.model, 3, 32, 10).unwrap();
    // Counted from the architecture, not from the code: stem 3×3 (3 → 24); each bottleneck layer on c
    // channels: BN(c) + conv1×1 (c → 48) + BN(48) + conv3×3 (48 → 12); each transition on c channels:
    // BN(c) + conv1×1 (c → c/2); the classifier: linear 342 → 10 with bias.
    let mut want = 3 * 24 * 9;
    let mut c = 24;
    for stage in 0..3 {
        for _ in 0..16 {
            want += 2 * c + c * 48 + 2 * 48 + 48 * 12 * 9;
            c += 12;
        }
        if stage < 2 {
            want += 2 * c + c * (c / 2);
            c /= 2;
        }
    }
    assert_eq!(c, 342);
    want += 342 * 10 + 10;
    let mut head = config.head.clone();
    head.kind = HeadKind::Linear;
    let split = split_even(&plan, 1).unwrap();
    let network = Network::new(&plan, &split, &head, &init(), &Device::flex());
    let got = trgl::model::trainable_params(&network);
    assert_eq!(got, want);
    // The paper's table: 0.8 M.
    assert!((760_000..800_000).contains(&got), "{got}");
    assert_eq!(plan.num_blocks(), 3 * 16 + 2);
}

/// Zeroes the dense layer's last convolution ([k, 4k, 3, 3]): its new channels are then zero.
struct ZeroNewChannels(usize);

impl ModuleMapper for ZeroNewChannels {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let dims = param.val().dims();
        if D == 4 && dims[0] == self.0 && dims[1] == 4 * self.0 {
            param.map(|t| t.zeros_like())
        } else {
            param
        }
    }
}

#[test]
fn a_dense_layers_displacement_is_its_appended_channels() {
    let device = Device::flex();
    let (c, k) = (6, 4);
    let layer = DenseLayer::new(c, k, &init(), &device);
    let x = Tensor::<4>::random([3, c, 5, 5], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let out = layer.forward(x.clone());
    assert_eq!(out.output.dims(), [3, c + k, 5, 5]);
    // The input's channels pass unchanged; the kinetic term is the mean square of [0, new] over the output.
    assert_eq!(values(out.output.clone().slice(s![.., 0..c as isize, .., ..])), values(x.clone()));
    let zero_padded_input = Tensor::cat(vec![x.clone(), Tensor::zeros([3, k, 5, 5], &device)], 1);
    let displacement = (out.output.clone() - zero_padded_input).square().mean();
    let energy = kinetic_energy(&out.residuals).unwrap();
    let (a, b) = (values(displacement.reshape([1, 1, 1, 1]))[0], values(energy.reshape([1, 1, 1, 1]))[0]);
    assert!(a > 0.0 && ((a - b) / a).abs() < 1e-5, "mean square of the displacement {a}, kinetic energy {b}");
    // No new channels, no transport cost.
    let zeroed = layer.map(&mut ZeroNewChannels(k));
    let out = zeroed.forward(x);
    assert_eq!(values(kinetic_energy(&out.residuals).unwrap().reshape([1, 1, 1, 1]))[0], 0.0);
}

#[test]
fn a_transition_is_measured_against_the_parameter_free_projection() {
    let device = Device::flex();
    let t = Transition::new(8, 4, &init(), &device);
    let x = Tensor::<4>::random([2, 8, 6, 6], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let out = t.forward(x.clone());
    assert_eq!(out.output.dims(), [2, 4, 3, 3]);
    // P(x): every other pixel of the first 4 channels.
    let p = x.slice(s![.., 0..4, 0..6;2, 0..6;2]);
    let r = values(out.residuals[0].clone());
    let want = values(out.output - p);
    assert!(r.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6));
}

#[test]
fn densenet_splits_into_2_4_and_8_modules() {
    let mut config = Config::default();
    config.model.arch = "densenet-bc-40".into();
    let plan = plan_for(&config.model, 1, 28, 10).unwrap();
    assert_eq!(plan.num_blocks(), 3 * 6 + 2);
    for k in [2, 4, 8] {
        for split in [split_even(&plan, k).unwrap(), split_balanced(&plan, k, &config.head).unwrap()] {
            assert_eq!(split.len(), k);
            assert_eq!(split.blocks_per_module().iter().sum::<usize>(), plan.num_blocks());
        }
    }
    assert!(plan_for(&{ let mut m = config.model.clone(); m.arch = "densenet-bc-41".into(); m }, 1, 28, 10).is_err());
}


#[test]
fn densenet_learns_fashion_mnist_in_every_mode() {
    // The embedded Fashion-MNIST subset (no files needed): DenseNet-BC-16, growth 12, K = 4, τ = 8 (the
    // demo's), 2 048 training images, two epochs per module (multi-lap: two laps of one). Measured: every
    // module's final test accuracy 39.8–75.6 % on 500 test images (e2e 60.4 %, parallel's last module 39.8 %);
    // the rule is 20 points above chance (10 %). About a minute on 2 cores.
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/demo.toml");
    let set: Vec<String> = [
        "model.arch=\"densenet-bc-16\"",
        "data.train_limit=2048",
        "data.test_limit=500",
        "data.val_fraction=0",
        "train.epochs=2",
        "train.ne1=2",
        "train.ne2=0",
        "output.progress=false",
        "output.timings=false",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let base = Config::from_file(std::path::Path::new(demo), &set).unwrap();
    let data = trgl::data::open(&base.data).unwrap();
    for mode in [trgl::train::Mode::E2e, trgl::train::Mode::Sequential, trgl::train::Mode::Multilap, trgl::train::Mode::Parallel, trgl::train::Mode::Pipelined] {
        let mut c = base.clone();
        c.train.mode = mode;
        if mode == trgl::train::Mode::Multilap {
            (c.train.ne1, c.train.laps) = (1, 2);
        }
        let out = trgl::train::run(&c, &data, None, "densenet").unwrap();
        let finals: Vec<f64> = out.summary.modules.iter().filter_map(|m| m.final_acc).collect();
        eprintln!("{mode:?}: final test accuracy per module {finals:?}");
        assert!(!finals.is_empty() && finals.iter().all(|a| *a >= 0.30), "{mode:?}: {finals:?} (chance 0.10)");
    }
}
