//! The Swin transformer: the cyclic shift, the shifted-window mask and the relative-position index against
//! hand-computed cases, both residual branches in the kinetic energy, Swin-T's parameter count and plan,
//! its splits, `trgl analyze` through patch merging, and learning in every mode.

mod common;

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use trgl::config::Config;
use trgl::error::Error;
use trgl::model::plan::UnitKind;
use trgl::model::registry::plan_for;
use trgl::model::swin::window::{MASKED, attention_mask, partition, relative_position_index, reverse, shift, unshift};
use trgl::model::swin::{PatchMerging, SwinBlock};
use trgl::model::{Init, Network, split_balanced, split_even, trainable_params};
use trgl::transport::kinetic_energy;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

fn model(arch: &str, width: Option<usize>) -> trgl::model::ModelConfig {
    trgl::model::ModelConfig { arch: arch.into(), width, ..Default::default() }
}

/// A 4×4 grid whose token at (r, c) holds 4r + c.
fn numbered_grid(device: &Device) -> Tensor<4> {
    Tensor::<1>::from_data(TensorData::new((0..16).map(|v| v as f32).collect::<Vec<_>>(), [16]), device).reshape([1, 4, 4, 1])
}

#[test]
fn the_cyclic_shift_and_its_mask_match_a_hand_computed_4x4_grid() {
    let device = Device::flex();
    // Window 2, shift 1. Rolled up and left by 1, the token at (r, c) moves to (r − 1, c − 1) mod 4, so the
    // shifted grid's row r is the old row r + 1 shifted left by one:
    //    5  6  7  4
    //    9 10 11  8
    //   13 14 15 12
    //    1  2  3  0
    // and its 2×2 windows, in row-major order, hold (row-major inside each):
    let windows = partition(shift(numbered_grid(&device), 1), 2);
    assert_eq!(windows.dims(), [4, 4, 1]);
    assert_eq!(values(windows), [5., 6., 9., 10., 7., 4., 11., 8., 13., 14., 1., 2., 15., 12., 3., 0.]);

    // The official construction cuts the shifted grid by rows and by columns into [0, 2), [2, 3), [3, 4)
    // (P − window = 2, P − shift = 3): region 3·(row band) + (column band):
    //   0 0 1 2
    //   0 0 1 2
    //   3 3 4 5
    //   6 6 7 8
    // Window 0 is one region; window 1 holds regions [1, 2, 1, 2] (old columns 3 and 0, not neighbours
    // before the roll); window 2 [3, 3, 6, 6] (old rows 3 and 0); window 3 [4, 5, 7, 8]. Two tokens may
    // attend to each other (0) only within one region, otherwise −100.
    let m = MASKED;
    #[rustfmt::skip]
    let want = [
        // window 0
        0., 0., 0., 0.,
        0., 0., 0., 0.,
        0., 0., 0., 0.,
        0., 0., 0., 0.,
        // window 1: regions [1, 2, 1, 2]
        0., m, 0., m,
        m, 0., m, 0.,
        0., m, 0., m,
        m, 0., m, 0.,
        // window 2: regions [3, 3, 6, 6]
        0., 0., m, m,
        0., 0., m, m,
        m, m, 0., 0.,
        m, m, 0., 0.,
        // window 3: regions [4, 5, 7, 8]
        0., m, m, m,
        m, 0., m, m,
        m, m, 0., m,
        m, m, m, 0.,
    ];
    assert_eq!(m, -100.0);
    assert_eq!(attention_mask(4, 2, 1).unwrap(), want);
    // Regular windows on a grid the window divides: no mask.
    assert_eq!(attention_mask(4, 2, 0), None);
}

#[test]
fn padding_positions_are_masked_as_keys() {
    // A 3×3 grid, window 2, no shift: padded to 4×4, the padding (row 3, column 3) a region of its own.
    // Window 0 (rows 0–1, columns 0–1) is all real; window 1 holds (0,2) (0,3) (1,2) (1,3): real, pad,
    // real, pad; window 2 holds (2,0) (2,1) (3,0) (3,1): real, real, pad, pad; window 3 only (2,2) real.
    let m = MASKED;
    #[rustfmt::skip]
    let want = [
        0., 0., 0., 0.,  0., 0., 0., 0.,  0., 0., 0., 0.,  0., 0., 0., 0.,
        0., m, 0., m,    m, 0., m, 0.,    0., m, 0., m,    m, 0., m, 0.,
        0., 0., m, m,    0., 0., m, m,    m, m, 0., 0.,    m, m, 0., 0.,
        0., m, m, m,     m, 0., 0., 0.,   m, 0., 0., 0.,   m, 0., 0., 0.,
    ];
    assert_eq!(attention_mask(3, 2, 0).unwrap(), want);
}

#[test]
fn partition_then_reverse_and_shift_then_unshift_are_the_identity() {
    let device = Device::flex();
    let x = Tensor::<4>::random([2, 8, 8, 3], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    for window in [1, 2, 4, 8] {
        let windows = partition(x.clone(), window);
        assert_eq!(windows.dims(), [2 * (8 / window) * (8 / window), window * window, 3]);
        assert_eq!(values(reverse(windows, window, 8, 8)), values(x.clone()), "window {window}");
    }
    for s in [0, 1, 2, 5] {
        assert_eq!(values(unshift(shift(x.clone(), s), s)), values(x.clone()), "shift {s}");
    }
    // A 4×4 grid in windows of 2: window 1 (top right) holds tokens 2, 3, 6, 7.
    let w = values(partition(numbered_grid(&device), 2));
    assert_eq!(&w[4..8], [2., 3., 6., 7.]);
}

#[test]
fn the_relative_position_index_of_a_2x2_window() {
    // Tokens (row, column) of the window: 0 = (0,0), 1 = (0,1), 2 = (1,0), 3 = (1,1). Entry (i, j) is
    // (Δrow + 1)·3 + Δcol + 1 with Δ = position of i − position of j: e.g. (0, 3): Δ = (−1, −1) → 0;
    // (3, 0): Δ = (1, 1) → 8; (1, 2): Δ = (−1, 1) → 2; the diagonal Δ = (0, 0) → 4.
    #[rustfmt::skip]
    let want: [i64; 16] = [
        4, 3, 1, 0,
        5, 4, 2, 1,
        7, 6, 4, 3,
        8, 7, 5, 4,
    ];
    assert_eq!(relative_position_index(2), want);
    // Every offset of a window of w has its own row of the (2w − 1)² rows.
    let index = relative_position_index(4);
    assert_eq!(index.iter().copied().collect::<std::collections::BTreeSet<_>>().len(), 49);
}

/// Zeroes every parameter of the modules the branches end with: the attention's output projection and the
/// MLP's second layer.
struct ZeroBranchOutputs(Vec<String>);

impl ModuleMapper for ZeroBranchOutputs {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.0.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.0.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.0.join("/");
        if path.contains("attn/proj") || path.contains("fc2") { param.map(|t| t.zeros_like()) } else { param }
    }
}

#[test]
fn both_branches_of_a_swin_block_enter_the_kinetic_energy() {
    let device = Device::flex();
    // Regular, shifted, and shifted on a grid the window does not divide (padded).
    for (side, window, s) in [(4, 2, 0), (4, 2, 1), (6, 4, 2), (3, 2, 1)] {
        let block = SwinBlock::new(16, 2, side, window, s, &device);
        let x = Tensor::<4>::random([2, side * side, 16, 1], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let out = block.forward(x.clone());
        assert_eq!(out.output.dims(), x.dims());
        assert_eq!(out.residuals.len(), 2, "attention and MLP");
        let (a, m) = (out.residuals[0].clone(), out.residuals[1].clone());
        // out = x + a + m: the two branches are what moves the tokens, and the energy is both mean squares.
        let moved = values(out.output.clone() - x.clone());
        let sum = values(a.clone() + m.clone());
        assert!(moved.iter().zip(&sum).all(|(p, q)| (p - q).abs() < 1e-5));
        let energy = values(kinetic_energy(&out.residuals).unwrap())[0];
        let elems = (2 * side * side * 16) as f32;
        let expected = values(a.square()).iter().sum::<f32>() / elems + values(m.square()).iter().sum::<f32>() / elems;
        assert!(energy > 0.0 && (energy - expected).abs() < 1e-4 * expected.max(1.0), "{energy} vs {expected}");
        // Zero branch outputs: each branch is 0, the block the identity, no transport cost.
        let zeroed = block.map(&mut ZeroBranchOutputs(Vec::new()));
        let out = zeroed.forward(x.clone());
        for r in &out.residuals {
            assert!(values(r.clone()).iter().all(|v| *v == 0.0));
        }
        assert_eq!(values(kinetic_energy(&out.residuals).unwrap())[0], 0.0);
        assert_eq!(values(out.output), values(x));
    }
}

#[test]
fn patch_merging_halves_the_grid_and_has_no_transport_term() {
    let device = Device::flex();
    // A 3×3 grid is padded to 4×4 and merged to 2×2, twice the width; no residual branch.
    let merge = PatchMerging::new(4, 3, &device);
    let x = Tensor::<4>::random([2, 9, 4, 1], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let out = merge.forward(x.clone());
    assert_eq!(out.output.dims(), [2, 4, 8, 1]);
    assert!(out.residuals.is_empty());
    // `trgl analyze`'s projection: the top-left token of each 2×2 neighbourhood, its 4 features centred in 8.
    let p = values(merge.project(x.clone()));
    let xs = values(x);
    for (n, t, f) in (0..2).flat_map(|n| (0..4).flat_map(move |t| (0..8).map(move |f| (n, t, f)))) {
        let (r, c) = (2 * (t / 2), 2 * (t % 2));
        let want = if (2..6).contains(&f) && r < 3 && c < 3 { xs[(n * 9 + r * 3 + c) * 4 + f - 2] } else { 0.0 };
        assert_eq!(p[(n * 4 + t) * 8 + f], want, "sample {n}, token {t}, feature {f}");
    }
}

#[test]
fn swin_t_has_the_parameters_its_architecture_counts() {
    // Counted from the architecture, not from the code. Patch embedding: conv 2×2 (3 → 96, with bias) and
    // LN(96). A block of width d, h heads, windows of w: LN(d), qkv d → 3d and projection d → d (with
    // biases), the bias table (2w − 1)² × h, LN(d), MLP d → 4d → d (with biases): 12d² + 13d + (2w − 1)²h.
    // Patch merging of width d: LN(4d) and 4d → 2d without bias: 8d² + 8d. The head: LN(768), 768 → classes.
    let count = |patch: usize, windows: [usize; 4], classes: usize| {
        let mut n = 3 * patch * patch * 96 + 96 + 2 * 96;
        for (stage, (depth, w)) in [2, 2, 6, 2].into_iter().zip(windows).enumerate() {
            let (d, h) = (96 << stage, 3 << stage);
            n += depth * (12 * d * d + 13 * d + (2 * w - 1) * (2 * w - 1) * h);
            if stage < 3 {
                n += 8 * d * d + 8 * d;
            }
        }
        n + 2 * 768 + 768 * classes + classes
    };
    let params = |size: usize, classes: usize| {
        let plan = plan_for(&model("swin-t", None), 3, size, classes).unwrap();
        let net = Network::new(&plan, &split_even(&plan, 1).unwrap(), &Default::default(), &Init::default(), &Device::flex());
        (plan, trainable_params(&net))
    };
    // 32 px: 2-px patches, grids 16, 8, 4, 2; windows 4, 4, 4 (= the side) and 2 (= the side).
    let (plan, got) = params(32, 10);
    assert_eq!(got, count(2, [4, 4, 4, 2], 10));
    eprintln!("swin-t, 32 px, 10 classes: {got} parameters");
    // 224 px: 4-px patches, windows of 7 — torchvision's swin_t (1000 classes) has 28 288 354.
    assert_eq!(count(4, [7; 4], 1000), 28_288_354);
    assert_eq!(params(224, 1000).1, 28_288_354);

    // The plan: the stem, then per stage its blocks (regular, shifted, …) and a patch merging.
    let swin = |heads, window, shift, c, side| (UnitKind::Swin { heads, window, shift }, c, c, side);
    let merge = |side, c: usize| (UnitKind::PatchMerge { side }, c, 2 * c, side / 2);
    let mut want = vec![(UnitKind::SwinEmbed { patch: 2 }, 3, 96, 16)];
    want.extend([swin(3, 4, 0, 96, 16), swin(3, 4, 2, 96, 16), merge(16, 96)]);
    want.extend([swin(6, 4, 0, 192, 8), swin(6, 4, 2, 192, 8), merge(8, 192)]);
    // The grid side equals the window from here on: one window, no shift.
    want.extend((0..6).map(|_| swin(12, 4, 0, 384, 4)));
    want.push(merge(4, 384));
    want.extend([swin(24, 2, 0, 768, 2), swin(24, 2, 0, 768, 2)]);
    let got: Vec<_> = plan.units.iter().map(|u| (u.kind.clone(), u.in_channels, u.out_channels, u.out_size)).collect();
    assert_eq!(got, want);
    assert_eq!(plan.stage_positions[3], (1, 2), "a merging is the last unit of its stage");
}

#[test]
fn swin_splits_into_2_4_and_8_modules() {
    let config = Config::default();
    for (arch, size, blocks) in [("swin-mini", 28, 6 + 2), ("swin-t", 32, 12 + 3)] {
        let plan = plan_for(&model(arch, None), 1, size, 10).unwrap();
        assert_eq!(plan.num_blocks(), blocks, "{arch}");
        for k in [2, 4, 8] {
            for split in [split_even(&plan, k).unwrap(), split_balanced(&plan, k, &config.head).unwrap()] {
                assert_eq!(split.len(), k, "{arch}");
                assert_eq!(split.blocks_per_module().iter().sum::<usize>(), blocks, "{arch}");
                assert_eq!(split.modules.first().unwrap().start, 0);
                assert_eq!(split.modules.last().unwrap().end, plan.units.len());
            }
        }
    }
    // 28-px images (Fashion-MNIST): grids 14 (windows of 4, padded to 16), 7 (padded to 8), 4 (one window).
    let plan = plan_for(&model("swin-mini", None), 1, 28, 10).unwrap();
    let sides: Vec<usize> = plan.units.iter().map(|u| u.out_size).collect();
    assert_eq!(sides, [14, 14, 14, 7, 7, 7, 4, 4, 4]);
    // A split with a module of patch merging and shifted blocks runs forward, every module with a token head.
    let device = Device::flex();
    let split = split_even(&plan, 8).unwrap();
    let net = Network::new(&plan, &split, &config.head, &Init::default(), &device);
    let (logits, residuals) = net.forward(Tensor::<4>::zeros([2, 1, 28, 28], &device));
    assert_eq!(logits.dims(), [2, 10]);
    assert_eq!(residuals.len(), 2 * 6, "two branches per Swin block, none per patch merging");
    assert!(net.modules.iter().all(|m| matches!(m.head, trgl::model::Head::Token(_))));
}

#[test]
fn bad_swin_settings_are_errors_naming_the_field() {
    let field = |r: trgl::error::Result<_>| match r {
        Err(Error::Config { field, .. }) => field,
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("accepted"),
    };
    // Swin-T merges three times: 8-px images give a 4×4 grid, merged to 2, 1, and then nothing.
    assert_eq!(field(plan_for(&model("swin-t", None), 3, 8, 10)), "model.arch");
    assert!(plan_for(&model("swin-mini", None), 3, 8, 10).is_ok(), "4 → 2 → 1");
    let mut cls = model("swin-mini", None);
    cls.token_pool = trgl::model::vit::TokenPool::Cls;
    assert_eq!(field(plan_for(&cls, 3, 32, 10)), "model.token_pool");
    assert_eq!(field(plan_for(&model("swin-mini", Some(0)), 3, 32, 10)), "model.width");
    // Through the config: the same errors, before training.
    let err = Config::from_toml_str("", "test", &["model.arch=\"swin-mini\"".into(), "model.token_pool=\"cls\"".into()]).unwrap_err();
    assert!(err.to_string().contains("model.token_pool"), "{err}");
    // Any width works: the heads keep a width that divides it.
    for w in [8, 17, 48] {
        let plan = plan_for(&model("swin-mini", Some(w)), 3, 32, 10).unwrap();
        let net = Network::new(&plan, &split_even(&plan, 2).unwrap(), &Default::default(), &Init::default(), &Device::flex());
        assert_eq!(net.forward(Tensor::<4>::zeros([1, 3, 32, 32], &Device::flex())).0.dims(), [1, 10]);
    }
}

#[test]
fn analyze_measures_swin_modules_through_patch_merging() {
    // swin-mini, width 8, on the 8-px learnable task, K = 4: modules [2 blocks], [merging, block],
    // [block, merging], [2 blocks].
    let mut config = common::tiny_config(trgl::train::Mode::Parallel);
    config.model.arch = "swin-mini".into();
    config.model.width = Some(8);
    let out = trgl::train::run(&config, &common::learnable_data(), None, "analyze-swin").unwrap();
    let options = trgl::analyze::AnalyzeOptions { samples: 32, pairs: 200, probe_train: 64, jacobian_points: 2, ..Default::default() };
    let a = trgl::analyze::analyze(&out.session, &options).unwrap();
    assert_eq!(a.modules.len(), 4);
    for m in &a.modules {
        assert!(m.kinetic_energy > 0.0 && m.kinetic_energy.is_finite(), "{m:?}");
        assert!(m.relative_displacement > 0.0 && m.relative_displacement.is_finite(), "{m:?}");
        assert!(m.optimality.ratio > 0.0 && m.optimality.ratio <= 1.0 + 1e-9, "{m:?}");
    }
}

#[test]
fn swin_learns_fashion_mnist_in_every_mode() {
    // The embedded Fashion-MNIST subset (no files needed), as tests/densenet.rs: swin-mini at width 32,
    // K = 4 (the demo's), τ = 8 (the demo's), AdamW 0.003, batches of 16, no random crop, 1 024
    // training images, two epochs per module (multi-lap: two laps of one). At width 16 the first module of
    // K = 4 (the patch embedding and two blocks) reached 26.8 % in this budget. Measured on 2 cores at width
    // 32: every module's final test accuracy 41.0–71.4 % on 500 test images (e2e 46.6 %; multi-lap module 1
    // 41.0 %), about 120 s for the five runs; the rule is 20 points above chance (10 %).
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/demo.toml");
    let set: Vec<String> = [
        "model.arch=\"swin-mini\"",
        "model.width=32",
        "split.modules=4",
        "optim.kind=\"adamw\"",
        "optim.lr=0.003",
        "optim.weight_decay=0.05",
        "data.batch_size=16",
        "data.augment.crop_padding=0",
        "data.train_limit=1024",
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
        let start = std::time::Instant::now();
        let out = trgl::train::run(&c, &data, None, "swin").unwrap();
        let finals: Vec<f64> = out.summary.modules.iter().filter_map(|m| m.final_acc).collect();
        eprintln!("{mode:?}: final test accuracy per module {finals:?} ({:.1} s)", start.elapsed().as_secs_f64());
        assert!(!finals.is_empty() && finals.iter().all(|a| *a >= 0.30), "{mode:?}: {finals:?} (chance 0.10)");
    }
}
