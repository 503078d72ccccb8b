//! The local losses besides CE (`method.local_loss`): InfoPro's and PredSim's terms against the published
//! code's own operations run in PyTorch on the same tensors (benches/reference/local_losses.py printed the
//! reference values, with torch 2.15.0 in float64), InfoPro's per-module weights, InfoPro without its
//! reconstruction = the CE run bit for bit, and each loss training the embedded Fashion-MNIST.

mod common;

use burn::prelude::*;
use trgl::config::Config;
use trgl::local_loss::infopro::{reconstruction_bce, upsample};
use trgl::local_loss::predsim::similarity_loss;
use trgl::local_loss::{AuxObjective, LocalLossKind, SimilarityProjector, infopro_weights};
use trgl::model::Init;
use trgl::train::Mode;

fn filled<const D: usize>(shape: [usize; D], f: impl Fn(usize) -> f64) -> Tensor<D> {
    let n = shape.iter().product();
    Tensor::from_data(TensorData::new((0..n).map(|i| f(i) as f32).collect::<Vec<f32>>(), shape), &Device::flex())
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f32>() as f64
}

#[test]
fn infopros_reconstruction_loss_is_pytorchs_bce_of_the_sigmoid() {
    let z = filled([2, 1, 3, 3], |i| 3.0 * (i as f64).sin());
    let t = filled([2, 1, 3, 3], |i| ((i as f64).cos() + 1.0) / 2.0);
    // torch.nn.BCELoss()(torch.sigmoid(z), t)
    let got = scalar(reconstruction_bce(z, t));
    assert!((got - 1.1052475492848126).abs() < 1e-5, "{got}");
}

#[test]
fn infopros_resize_is_bilinear_with_aligned_corners() {
    let x = filled([1, 2, 2, 3], |i| 0.5 * i as f64 - 1.0);
    // F.interpolate(x, size=[4, 4], mode='bilinear', align_corners=True)
    let want = [
        -1.0, -0.6666666667, -0.3333333333, 0.0, -0.5, -0.1666666667, 0.1666666667, 0.5, 0.0, 0.3333333333, 0.6666666667, 1.0, 0.5, 0.8333333333, 1.1666666667, 1.5, 2.0,
        2.3333333333, 2.6666666667, 3.0, 2.5, 2.8333333333, 3.1666666667, 3.5, 3.0, 3.3333333333, 3.6666666667, 4.0, 3.5, 3.8333333333, 4.1666666667, 4.5,
    ];
    let got = upsample(x.clone(), 4).into_data().try_to_vec::<f32>().unwrap();
    for (g, w) in got.iter().zip(want) {
        assert!((*g as f64 - w).abs() < 1e-5, "{got:?}");
    }
    // At the image's side already: untouched.
    let square = filled([1, 2, 3, 3], |i| i as f64);
    assert_eq!(upsample(square.clone(), 3).into_data(), square.into_data());
}

#[test]
fn predsims_similarity_loss_is_the_published_codes() {
    let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 0, 2], [4]), &Device::flex());
    // F.mse_loss(similarity_matrix(h), similarity_matrix(one_hot(y, 3))) with train.py's similarity_matrix:
    // 5 channels of 3×3 (per-channel standard deviations), a spread of its own for each sample and channel …
    let h = filled([4, 5, 3, 3], |i| (0.7 * i as f64).sin() * (1.0 + (((i / 9 % 5 + 1) * (i / 45 + 2)) % 7) as f64 / 3.0));
    let got = scalar(similarity_loss(h, &labels, 3));
    assert!((got - 0.21587198822810724).abs() < 1e-5, "{got}");
    // … and 3 channels (the flattened map).
    let g = filled([4, 3, 2, 2], |i| (0.3 * i as f64).cos() + 0.1 * (i % 7) as f64);
    let got = scalar(similarity_loss(g, &labels, 3));
    assert!((got - 0.1787237490508426).abs() < 1e-5, "{got}");
}

#[test]
fn infopro_weights_interpolate_the_published_ones_over_the_auxiliary_modules() {
    // ResNet-32, CIFAR-10, K = 4: --ixx_1 6 --ixy_1 0 --ixx_2 1 --ixy_2 2, ratio i / (K − 2).
    assert_eq!(infopro_weights(4, None).unwrap(), vec![(6.0, 0.0), (3.5, 1.0), (1.0, 2.0)]);
    // K = 2: one auxiliary module, the first pair.
    assert_eq!(infopro_weights(2, None).unwrap(), vec![(5.0, 1.0)]);
    let w8 = infopro_weights(8, None).unwrap();
    assert_eq!((w8.len(), w8[0], w8[6]), (7, (5.0, 0.0), (0.0, 2.0)));
    // No published weights for K = 3: the error names the field to set.
    let e = infopro_weights(3, None).unwrap_err().to_string();
    assert!(e.contains("method.infopro_lambdas"), "{e}");
    assert_eq!(infopro_weights(3, Some([1.0, 2.0, 3.0, 4.0])).unwrap(), vec![(1.0, 2.0), (3.0, 4.0)]);
}

#[test]
fn the_head_learns_at_full_weight_and_the_body_gets_the_weighted_ce() {
    let device = Device::flex().autodiff();
    let projector = AuxObjective::PredSim(SimilarityProjector::new(2, 0.75, &Init::default(), &device));
    let h = Tensor::<4>::ones([1, 2, 2, 2], &device).require_grad();
    // Value h; gradient (1 − β) = 0.25 into the body.
    let read = projector.head_input(h.clone());
    assert_eq!(read.clone().inner().into_data().try_to_vec::<f32>().unwrap(), vec![1.0; 8]);
    let grads = (read * 3.0).sum().backward();
    let g = h.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
    assert!(g.iter().all(|v| (v - 0.75).abs() < 1e-6), "{g:?}");
}

#[test]
fn bad_local_loss_settings_are_refused_naming_the_field() {
    let mut c = Config::default();
    c.method.predsim_beta = 1.5;
    assert!(c.validate().unwrap_err().to_string().contains("method.predsim_beta"));
    let mut c = Config::default();
    c.method.infopro_lambdas = Some([1.0, -1.0, 0.0, 0.0]);
    assert!(c.validate().unwrap_err().to_string().contains("method.infopro_lambdas"));
    // A token model has no feature map for the decoder.
    let mut c = Config::default();
    c.model.arch = "vit-mini".into();
    c.method.local_loss = LocalLossKind::Predsim;
    let e = trgl::train::build::network_from_config(&c, 3, 32, 10).unwrap_err().to_string();
    assert!(e.contains("method.local_loss"), "{e}");
}

#[test]
fn infopro_without_reconstruction_is_the_ce_run_bit_for_bit() {
    let data = common::learnable_data();
    let ce = common::tiny_config(Mode::Sequential);
    let mut infopro = ce.clone();
    infopro.method.local_loss = LocalLossKind::Infopro;
    infopro.method.infopro_lambdas = Some([0.0, 1.0, 0.0, 1.0]);
    let a = trgl::train::run(&ce, &data, None, "ce").unwrap();
    let b = trgl::train::run(&infopro, &data, None, "infopro").unwrap();
    // The decoders are there (modules 1–3), and trained nothing else.
    let decoders = b.session.trainer.network.modules.iter().filter(|m| m.aux.is_some()).count();
    assert_eq!(decoders, 3);
    let records = |o: &trgl::train::RunOutcome| serde_json::to_string(&o.session.record.metrics.records.iter().map(|r| (r.train_loss, r.ce, r.kinetic_energy, r.train_acc, r.test_acc)).collect::<Vec<_>>()).unwrap();
    assert_eq!(records(&a), records(&b));
    let weights = |o: &trgl::train::RunOutcome| common::snapshot(&o.session.trainer.network.clone().without_aux());
    assert!(weights(&a) == weights(&b), "the body and heads differ");
}

#[test]
fn an_exported_network_leaves_the_decoders_out_and_reads_back() {
    let mut c = Config::default();
    c.model.arch = "resnet14".into();
    c.model.width = Some(4);
    c.method.local_loss = LocalLossKind::Infopro;
    let (_, _, network) = trgl::train::build::network_from_config(&c, 1, 8, 3).unwrap();
    let dir = common::tmp("local_loss_export");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    trgl::export::safetensors::export_safetensors(&network, &path).unwrap();
    let (_, _, fresh) = trgl::train::build::network_from_config(&c, 1, 8, 3).unwrap();
    let back = trgl::export::safetensors::import_safetensors(fresh, &path).unwrap();
    assert_eq!(common::snapshot(&back), common::snapshot(&network.without_aux()));
}

/// Each local loss, with and without the transport term, puts the last module ≥ 20 points above chance
/// (10 %) on the embedded Fashion-MNIST subset (the demo recipe: resnet14, K = 4, sequential, 1 epoch per
/// module, 2 048 images).
#[test]
fn each_local_loss_learns_fashion_mnist() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/demo.toml");
    let set: Vec<String> = ["data.train_limit=2048", "data.test_limit=500", "data.val_fraction=0", "output.progress=false", "output.timings=false"].iter().map(|s| s.to_string()).collect();
    let base = Config::from_file(std::path::Path::new(demo), &set).unwrap();
    let data = trgl::data::open(&base.data).unwrap();
    for (kind, tau) in [(LocalLossKind::Infopro, f64::INFINITY), (LocalLossKind::Infopro, 8.0), (LocalLossKind::Predsim, f64::INFINITY), (LocalLossKind::Predsim, 8.0)] {
        let mut c = base.clone();
        c.method.local_loss = kind;
        c.method.tau = tau;
        let out = trgl::train::run(&c, &data, None, kind.name()).unwrap();
        let finals: Vec<f64> = out.summary.modules.iter().filter_map(|m| m.final_acc).collect();
        eprintln!("{} τ = {tau}: final test accuracy per module {finals:?}", kind.name());
        assert!(finals.last().is_some_and(|a| *a >= 0.30), "{}, τ = {tau}: {finals:?} (chance 0.10)", kind.name());
    }
}

/// The local step's loss is the CE plus the local loss's own term, computed apart on the same module output
/// (τ = ∞: no transport term): a term that never reached the loss would leave InfoPro equal to CE.
#[test]
fn the_local_step_adds_each_local_losss_term_to_the_ce() {
    for kind in [LocalLossKind::Infopro, LocalLossKind::Predsim] {
        let mut c = Config::default();
        c.model.arch = "resnet14".into();
        c.model.width = Some(4);
        c.method.local_loss = kind;
        c.method.infopro_lambdas = Some([2.0, 0.5, 2.0, 0.5]);
        let ad = Device::flex().autodiff();
        let plan = trgl::train::build::plan_from_config(&c, 1, 8, 3).unwrap();
        let split = trgl::train::build::split_from_config(&c, &plan).unwrap();
        let aux = trgl::local_loss::aux_objectives(&c.method, &plan, &split, &Init::default(), &ad).unwrap();
        let network = trgl::model::Network::new(&plan, &split, &c.head, &Init::default(), &ad).with_aux(aux);
        let module = network.modules[0].clone();
        let x = filled([4, 1, 8, 8], |i| (0.37 * i as f64).sin()).to_device(&ad);
        let image = ((x.clone() + 1.0) / 2.0).detach();
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 0], [4]), &ad);
        let targets = trgl::local_loss::Targets { labels, images: Some(image) };
        let features = module.forward(x.clone()).features;
        let term = scalar(module.aux.as_ref().unwrap().term(features, &targets, 3).inner());
        let mut optim = trgl::train::optim::build_optimizer(&c.optim);
        let (_, _, stats) = trgl::train::step::local_step(module, &mut optim, x, &targets, 0.0, 0.0, 0.0);
        let v = stats.values.into_data().try_to_vec::<f32>().unwrap();
        let (loss, ce) = (v[0] as f64, v[1] as f64);
        assert!(term > 0.01, "{}: {term}", kind.name());
        assert!((loss - ce - term).abs() < 1e-5 * loss.abs().max(1.0), "{}: loss {loss} − CE {ce} ≠ term {term}", kind.name());
    }
}

/// InfoPro's images travel down the pipeline with the labels: a pipelined pass computes what the parallel
/// pass computes (one worker: bit for bit, as for CE in tests/pipelined.rs).
#[test]
fn pipelined_infopro_computes_what_parallel_infopro_computes() {
    let data = common::learnable_data();
    let mut parallel = common::tiny_config(Mode::Parallel);
    parallel.method.local_loss = LocalLossKind::Infopro;
    let mut pipelined = parallel.clone();
    pipelined.train.mode = Mode::Pipelined;
    pipelined.train.pipeline_workers = 1;
    let a = trgl::train::run(&parallel, &data, None, "parallel").unwrap();
    let b = trgl::train::run(&pipelined, &data, None, "pipelined").unwrap();
    let records = |o: &trgl::train::RunOutcome| serde_json::to_string(&o.session.record.metrics.records.iter().map(|r| (r.module, r.train_loss, r.ce, r.test_acc)).collect::<Vec<_>>()).unwrap();
    assert_eq!(records(&a), records(&b));
    assert!(common::snapshot(&a.session.trainer.network) == common::snapshot(&b.session.trainer.network));
}
