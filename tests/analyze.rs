//! `trgl analyze`: each estimator on maps whose constants are known, then the whole analysis on trained
//! networks (a run, and a directory of runs through the CLI).

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use trgl::analyze::estimators::{holder_fit, lipschitz_ratios, optimality, pair_distances, quantiles, random_pairs};
use trgl::analyze::probe::ridge_probe;
use trgl::analyze::{AnalyzeOptions, analyze};
use trgl::train::Mode;

fn cloud(n: usize, d: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect()).collect()
}

fn map(x: &[Vec<f32>], f: impl Fn(&[f32]) -> Vec<f32>) -> Vec<Vec<f32>> {
    x.iter().map(|r| f(r)).collect()
}

fn lipschitz(x: &[Vec<f32>], y: &[Vec<f32>]) -> trgl::analyze::estimators::Quantiles {
    let pairs = random_pairs(x.len(), 2000, &mut ChaCha8Rng::seed_from_u64(1));
    quantiles(&lipschitz_ratios(&pair_distances(x, y, &pairs)))
}

#[test]
fn the_identity_has_lipschitz_one_optimality_one_and_holder_exponent_one() {
    let x = cloud(64, 10, 0);
    let q = lipschitz(&x, &x);
    for v in [q.median, q.p99, q.max] {
        assert!((v - 1.0).abs() < 1e-6, "{q:?}");
    }
    assert_eq!(optimality(&x, &x).unwrap().ratio, 1.0);
    let pairs = random_pairs(64, 2000, &mut ChaCha8Rng::seed_from_u64(2));
    let h = holder_fit(&pair_distances(&x, &x, &pairs), 12);
    assert!((h.eta - 1.0).abs() < 1e-6 && (h.constant - 1.0).abs() < 1e-5, "{h:?}");
}

#[test]
fn a_scaled_map_has_its_scale_as_lipschitz_constant_and_is_optimal() {
    let x = cloud(64, 10, 3);
    let y = map(&x, |r| r.iter().map(|v| 2.5 * v).collect());
    let q = lipschitz(&x, &y);
    for v in [q.median, q.p99, q.max] {
        assert!((v - 2.5).abs() < 1e-5, "{q:?}");
    }
    // x ↦ 2.5x is the gradient of a convex function: the optimal coupling of its clouds (Brenier).
    let o = optimality(&x, &y).unwrap();
    assert!((o.ratio - 1.0).abs() < 1e-9, "{o:?}");
}

#[test]
fn a_linear_map_stays_within_its_singular_values() {
    // A = diag(3, 0.5) rotated by 30°: singular values 3 and 0.5 (by construction, not estimated).
    let (c, s) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
    let a = |r: &[f32]| {
        let (u, v) = (3.0 * r[0], 0.5 * r[1]);
        vec![c * u - s * v, s * u + c * v]
    };
    let x = cloud(400, 2, 4);
    let y = map(&x, a);
    let q = lipschitz(&x, &y);
    assert!(q.max <= 3.0 + 1e-5, "no ratio above the largest singular value: {q:?}");
    assert!(q.max > 2.97, "2000 random directions come within 1 % of it: {q:?}");
    let pairs = random_pairs(400, 2000, &mut ChaCha8Rng::seed_from_u64(1));
    let min = lipschitz_ratios(&pair_distances(&x, &y, &pairs)).into_iter().fold(f64::INFINITY, f64::min);
    assert!(min >= 0.5 - 1e-5 && min < 0.55, "the smallest ratio approaches the smallest singular value: {min}");
}

#[test]
fn a_permutation_like_map_is_not_optimal() {
    // Each point sent to where another one was: the clouds are the same (W₂ = 0), the map's own cost is not.
    let x = cloud(50, 6, 5);
    let y: Vec<Vec<f32>> = (0..50).map(|i| x[(i + 17) % 50].clone()).collect();
    let o = optimality(&x, &y).unwrap();
    assert!(o.w2_squared < 1e-9 && o.own_cost > 0.5, "{o:?}");
    assert!(o.ratio < 1e-6);
    // A small shuffle on top of a translation: still below 1, and W₂ is the translation's cost.
    let shifted: Vec<Vec<f32>> = y.iter().map(|r| r.iter().map(|v| v + 0.1).collect()).collect();
    let o = optimality(&x, &shifted).unwrap();
    assert!(o.ratio < 1.0 && (o.w2_squared - 6.0 * 0.01).abs() < 1e-5, "{o:?}");
}

#[test]
fn the_holder_fit_recovers_the_exponent_of_a_signed_power() {
    // The map is Hölder, not Lipschitz, only at 0: samples of both signs at every scale around it
    // (|x| log-uniform over 10⁻⁴…1), so that every distance bin holds pairs that straddle 0.
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let x: Vec<Vec<f32>> = (0..400).map(|i| vec![if i % 2 == 0 { 1.0 } else { -1.0 } * 10f32.powf(rng.random_range(-4.0f32..0.0))]).collect();
    for eta in [0.3f32, 0.5, 0.8] {
        let y = map(&x, |r| vec![r[0].signum() * r[0].abs().powf(eta)]);
        let pairs = random_pairs(400, 20000, &mut ChaCha8Rng::seed_from_u64(7));
        let h = holder_fit(&pair_distances(&x, &y, &pairs), 12);
        // The envelope is 2^(1-η)·d^η, reached by pairs placed symmetrically about 0; pairs on one side
        // of 0 stay below d^η.
        assert!((h.eta - eta as f64).abs() < 0.05, "η = {eta}: fitted {h:?}");
        assert!(h.r_squared > 0.98, "{h:?}");
    }
}

#[test]
fn the_ridge_probe_separates_what_is_linearly_separable_and_not_noise() {
    let x = cloud(600, 8, 8);
    let label = |r: &Vec<f32>| if r[0] + 0.5 * r[3] > 0.1 { 1 } else if r[2] > 0.3 { 2 } else { 0 };
    let labels: Vec<usize> = x.iter().map(label).collect();
    let p = ridge_probe(&x[..400], &labels[..400], &x[400..], &labels[400..], 3, 1e-4);
    assert!(p.test_accuracy > 0.8, "{p:?}");
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let noise: Vec<usize> = (0..600).map(|_| rng.random_range(0..3)).collect();
    let p = ridge_probe(&x[..400], &noise[..400], &x[400..], &noise[400..], 3, 1e-4);
    assert!(p.test_accuracy < 0.45, "random labels stay near chance (1/3) on test: {p:?}");
}

#[test]
fn a_trained_network_is_measured_module_by_module() {
    let config = common::tiny_config(Mode::Parallel);
    let out = trgl::train::run(&config, &common::learnable_data(), None, "analyze").unwrap();
    let options = AnalyzeOptions { samples: 48, pairs: 500, probe_train: 96, ..AnalyzeOptions::default() };
    let a = analyze(&out.session, &options).unwrap();
    assert_eq!(a.modules.len(), out.session.modules());
    for m in &a.modules {
        assert!(m.kinetic_energy > 0.0 && m.kinetic_energy.is_finite(), "{m:?}");
        assert!(m.optimality.ratio > 0.0 && m.optimality.ratio <= 1.0 + 1e-9, "{m:?}");
        assert_eq!(m.optimality.samples, 48);
        assert_eq!(m.optimality_by_samples.iter().map(|o| o.samples).collect::<Vec<_>>(), [12, 24]);
        assert!(m.lipschitz_pairs.max >= m.lipschitz_pairs.median && m.lipschitz_pairs.median > 0.0, "{m:?}");
        assert!(m.lipschitz_near.count == 48 && m.lipschitz_near.median > 0.0, "{m:?}");
        assert!((0.0..=1.0).contains(&m.head_accuracy) && (0.0..=1.0).contains(&m.probe.test_accuracy));
        assert!(m.head_loss.is_finite() && m.relative_displacement > 0.0);
    }
    // The heads are the trained ones: the last classifies better than chance (1/3).
    assert!(a.modules.last().unwrap().head_accuracy > 0.5, "{:?}", a.modules.last());
}

#[test]
fn the_cli_analyzes_a_run_and_every_run_of_a_directory() {
    let root = std::env::temp_dir().join(format!("trgl-analyze-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let trgl = env!("CARGO_BIN_EXE_trgl");
    for tau in ["inf", "8.0"] {
        let dir = root.join(format!("tau-{tau}"));
        let status = std::process::Command::new(trgl)
            .args(["train", "--config", concat!(env!("CARGO_MANIFEST_DIR"), "/configs/demo.toml")])
            .args(["--set", &format!("output.dir=\"{}\"", dir.display()), "--set", &format!("method.tau={tau}")])
            .args(["--set", "data.train_limit=256", "--set", "data.test_limit=64", "--set", "data.val_fraction=0", "--set", "train.max_steps_per_epoch=2"])
            .args(["--set", "output.progress=false"])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let json = root.join("analysis.json");
    let by_setting = root.join("by-setting");
    let out = std::process::Command::new(trgl)
        .args(["analyze", root.to_str().unwrap(), "--samples", "32", "--pairs", "300", "--probe-train", "64", "--json", json.to_str().unwrap()])
        .args(["--out", by_setting.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "both runs of the directory");
    for r in runs {
        assert_eq!(r["analysis"]["modules"].as_array().unwrap().len(), 4, "{r}");
    }
    // By setting: one group per τ, one run each, so each mean is that run's own value.
    let groups: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(by_setting.join("analysis_groups.json")).unwrap()).unwrap();
    let groups = groups.as_array().unwrap();
    let mut labels: Vec<&str> = groups.iter().map(|g| g["label"].as_str().unwrap()).collect();
    labels.sort();
    assert_eq!(labels, ["method.tau=8.0", "method.tau=inf"]);
    for g in groups {
        let run = runs.iter().find(|r| g["runs"][0].as_str() == r["run"].as_str()).expect("the group's run");
        for (j, m) in g["measurements"]["kinetic_energy"].as_array().unwrap().iter().enumerate() {
            assert_eq!(m["n"], 1);
            assert_eq!(m["mean"], run["analysis"]["modules"][j]["kinetic_energy"], "{}", g["label"]);
        }
    }
    for f in ["analysis.md", "analysis.json", "analysis_kinetic_energy.svg", "analysis_optimality_ratio.png", "analysis_probe_accuracy.svg"] {
        assert!(by_setting.join(f).is_file(), "{f}");
    }
    // One run alone, and the table names it.
    let one = std::process::Command::new(trgl).args(["analyze", root.join("tau-8.0").to_str().unwrap(), "--samples", "16", "--pairs", "100", "--probe-train", "32"]).output().unwrap();
    assert!(one.status.success() && String::from_utf8_lossy(&one.stdout).contains("tau-8.0"));
    let _ = std::fs::remove_dir_all(&root);
}

/// The eigenvalues of a symmetric matrix (row-major, n×n), by cyclic Jacobi rotations in f64.
fn symmetric_eigenvalues(mut a: Vec<f64>, n: usize) -> Vec<f64> {
    for _sweep in 0..100 {
        let off: f64 = (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i * n + j].powi(2)).sum();
        if off < 1e-24 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p * n + q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * a[p * n + q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
            }
        }
    }
    (0..n).map(|i| a[i * n + i]).collect()
}

#[test]
fn the_power_iteration_matches_the_largest_singular_value_of_the_explicit_jacobian() {
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;
    use burn::prelude::*;
    use burn::tensor::activation::relu;
    let device = Device::flex().autodiff();
    device.seed(11);
    let conv = Conv2dConfig::new([2, 3], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(&device);
    let block = |x: Tensor<4>| relu(conv.forward(x));
    let x = Tensor::<4>::random([3, 2, 5, 5], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    // Independently: each point's explicit 75×50 Jacobian, one backward pass per output unit, then the
    // largest eigenvalue of JᵀJ (Jacobi rotations) — the square of the largest singular value.
    let mut want = Vec::new();
    for p in 0..3 {
        let point = x.clone().slice(p..p + 1).detach();
        let (outputs, inputs) = (75, 50);
        let mut jac = vec![0f64; outputs * inputs];
        for o in 0..outputs {
            let at = point.clone().require_grad();
            let y = block(at.clone()).flatten::<1>(0, 3).slice(o..o + 1).sum();
            let g = at.grad(&y.backward()).unwrap().into_data().try_to_vec::<f32>().unwrap();
            for (i, v) in g.iter().enumerate() {
                jac[o * inputs + i] = *v as f64;
            }
        }
        let jtj: Vec<f64> = (0..inputs).flat_map(|i| (0..inputs).map(move |j| (i, j))).map(|(i, j)| (0..outputs).map(|o| jac[o * inputs + i] * jac[o * inputs + j]).sum()).collect();
        want.push(symmetric_eigenvalues(jtj, inputs).into_iter().fold(0.0, f64::max).sqrt());
    }
    want.sort_by(f64::total_cmp);
    let got = trgl::analyze::jacobian::spectral_norms(block, x, 500, 1e-7, 1e-4, 0);
    eprintln!("explicit σ_max per point {want:?}; power iteration {got:?}");
    assert_eq!(got.converged, 3, "{got:?}");
    for (g, w) in [(got.sigma.median, want[1]), (got.sigma.max, want[2])] {
        assert!(((g - w) / w).abs() < 1e-3, "power iteration σ {g} against the explicit Jacobian's {w}");
    }
}

#[test]
fn the_ridge_probe_on_raw_fashion_mnist_pixels_matches_scikit_learn() {
    // The real data, where CI has it (../shared/data); a fresh machine without it skips, saying so.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/fashion-mnist");
    if !dir.join("train-images-idx3-ubyte.gz").is_file() {
        println!("skipped: {} not found", dir.display());
        return;
    }
    let classes: Vec<String> = (0..10).map(|c| c.to_string()).collect();
    let names: Vec<&str> = classes.iter().map(String::as_str).collect();
    let data = trgl::data::load_idx_dir("fashion-mnist", &dir, &names).unwrap();
    let rows = |set: &trgl::data::ImageSet, n: usize| -> (Vec<Vec<f32>>, Vec<usize>) {
        let n = n.min(set.len());
        ((0..n).map(|i| set.image(i).iter().map(|&p| p as f32).collect()).collect(), set.labels[..n].iter().map(|&l| l as usize).collect())
    };
    let (xtr, ytr) = rows(&data.train, 10_000);
    let (xte, yte) = rows(&data.test, 10_000);
    let p = ridge_probe(&xtr, &ytr, &xte, &yte, 10, 1e-3);
    eprintln!("ridge probe on raw pixels: {p:?}");
    // scikit-learn 1.9.1 on the same split (the first 10 000 training images, the 10 000 test images, raw
    // pixels): StandardScaler, then RidgeClassifier(alpha = 1e-3 · 10 000), gave test 0.8013, train 0.8580.
    assert!((p.test_accuracy - 0.8013).abs() < 0.01, "{p:?}");
    assert!((p.train_accuracy - 0.8580).abs() < 0.01, "{p:?}");
}
