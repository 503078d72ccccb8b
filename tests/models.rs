//! Every architecture of the registry: parameter counts against the reference models, shapes, the VGG
//! transport term, and training in each mode on a learnable task.

mod common;

use burn::prelude::*;
use trgl::model::config::ModelConfig;
use trgl::model::block::project;
use trgl::model::registry::plan_for;
use trgl::model::{Init, Network, Pool, VggLayer, split_even, trainable_params};
use trgl::train::Mode;

fn model(arch: &str, width: Option<usize>) -> ModelConfig {
    ModelConfig { arch: arch.into(), width, ..ModelConfig::default() }
}

fn params(arch: &str, width: Option<usize>, size: usize, classes: usize) -> usize {
    let plan = plan_for(&model(arch, width), 3, size, classes).unwrap();
    let split = split_even(&plan, 1).unwrap();
    let net = Network::new(&plan, &split, &Default::default(), &Init::default(), &Device::flex());
    net.modules.iter().map(trainable_params).sum()
}

#[test]
fn imagenet_resnets_have_the_reference_parameter_counts() {
    // torchvision's resnet18 … resnet152 with a 1000-class head.
    for (arch, expected) in [("resnet18", 11_689_512), ("resnet34", 21_797_672), ("resnet50", 25_557_032), ("resnet101", 44_549_160), ("resnet152", 60_192_808)] {
        assert_eq!(params(arch, None, 224, 1000), expected, "{arch}");
    }
}

#[test]
fn vgg_parameter_count_follows_its_layers() {
    // VGG-11-BN: conv 3×3 layers (weight, BN γ and β), then GAP + linear 512 → 10.
    let widths = [(3, 64), (64, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512), (512, 512)];
    let expected: usize = widths.iter().map(|(i, o)| i * o * 9 + 2 * o).sum::<usize>() + 512 * 10 + 10;
    assert_eq!(params("vgg11", None, 32, 10), expected);
    // Deeper VGGs only add layers.
    assert!(params("vgg13", None, 32, 10) < params("vgg16", None, 32, 10));
    assert!(params("vgg16", None, 32, 10) < params("vgg19", None, 32, 10));
}

#[test]
fn shapes_and_residual_branches_of_each_model() {
    let device = Device::flex();
    for (arch, width, size, blocks, side) in [
        ("resnet18", Some(8), 32, 8, 4),
        ("resnet50", Some(4), 32, 16, 4),
        ("resnet18", Some(8), 64, 8, 4),
        ("vgg11", Some(8), 32, 7, 1),
        ("vgg19", Some(8), 32, 15, 1),
        ("resnet20", None, 32, 9, 8),
        ("vit-mini", Some(32), 32, 6, 8),
        ("swin-mini", Some(16), 32, 8, 4),
    ] {
        let plan = plan_for(&model(arch, width), 3, size, 10).unwrap();
        assert_eq!(plan.num_blocks(), blocks, "{arch}");
        assert_eq!(plan.units.last().unwrap().out_size, side, "{arch} at {size}");
        let split = split_even(&plan, 4).unwrap();
        let net = Network::new(&plan, &split, &Default::default(), &Init::default(), &device);
        let x = Tensor::<4>::random([2, 3, size, size], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let (logits, residuals) = net.forward(x);
        assert_eq!(logits.dims(), [2, 10], "{arch}");
        // A transformer block has two branches; Swin's two patch mergings (blocks too) have none.
        let branches = if arch.starts_with("vit") { 2 * blocks } else if arch.starts_with("swin") { 2 * (blocks - 2) } else { blocks };
        assert_eq!(residuals.len(), branches, "{arch}: residual branches");
    }
    // The stem follows the input: 7×7 stride 2 at 64 pixels, and with the max-pool above.
    let at = |size: usize| plan_for(&model("resnet18", None), 3, size, 10).unwrap().units[0].out_size;
    assert_eq!((at(32), at(64), at(224)), (32, 32, 56));
}

/// A tensor's values, for comparisons on the host.
fn values(t: Tensor<4>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

#[test]
fn vgg_transport_term_is_the_distance_to_the_projected_input() {
    let device = Device::flex();
    let init = Init::default();
    let x = Tensor::<4>::random([2, 4, 8, 8], burn::tensor::Distribution::Normal(0.0, 1.0), &device);

    // Same shape: P is the identity.
    let same = VggLayer::new(4, 4, Pool::None, &init, &device);
    let out = same.forward(x.clone());
    let expected = values(out.output.clone() - x.clone());
    assert_eq!(values(out.residuals[0].clone()), expected);

    // 4 → 8 channels and a max-pool: P subsamples by 2 and pads 2 zero channels on each side.
    let grow = VggLayer::new(4, 8, Pool::Max2, &init, &device);
    let out = grow.forward(x.clone());
    assert_eq!(out.output.dims(), [2, 8, 4, 4]);
    let xs = values(x.clone());
    let p: Vec<f32> = (0..2)
        .flat_map(|n| (0..8).flat_map(move |c| (0..4).flat_map(move |i| (0..4).map(move |j| (n, c, i, j)))))
        .map(|(n, c, i, j)| if (2..6).contains(&c) { xs[((n * 4 + c - 2) * 8 + 2 * i) * 8 + 2 * j] } else { 0.0 })
        .collect();
    let r = values(out.residuals[0].clone());
    let o = values(out.output.clone());
    for ((r, o), p) in r.iter().zip(&o).zip(&p) {
        assert!((r - (o - p)).abs() < 1e-6);
    }
    // Fewer channels: the first ones are kept.
    let shrink = project(x.clone(), 4, 2, 8);
    assert_eq!(values(shrink), values(x.slice([0..2, 0..2, 0..8, 0..8])));
}

#[test]
fn every_model_trains_in_every_mode() {
    let data = common::learnable_data();
    // DenseNet at τ = 8: at the tiny config's τ = 0.5 its modules 3–4 do not learn in parallel mode (head
    // accuracy 0.33–0.68 after 3 epochs, module 3's loss 2.69 → 1.33 → 2.62; VanGL: 0.98–0.99, τ = 8:
    // 0.83–0.95). A dense layer's displacement is its new channels, so a heavy kinetic weight holds back the
    // very features the network grows by. At τ = 8 a dense layer's energy may grow as it learns (module 4,
    // sequential: 0.77 → 0.93), so its kinetic energy is not required to fall here; the term's value is
    // checked against the displacement in tests/densenet.rs, and its sign, shared by every model, above.
    for (arch, width, tau) in [("resnet18", 4, 0.5), ("resnet50", 2, 0.5), ("vgg11", 4, 0.5), ("vit-mini", 16, 0.5), ("swin-mini", 8, 0.5), ("densenet-bc-16", 4, 8.0)] {
        for mode in [Mode::E2e, Mode::Sequential, Mode::Multilap, Mode::Parallel] {
            let mut c = common::tiny_config(mode);
            c.model.arch = arch.into();
            c.model.width = Some(width);
            c.method.tau = tau;
            c.train.epochs = 3;
            c.train.ne1 = 3;
            c.train.ne2 = 0;
            c.train.laps = 1;
            let outcome = trgl::train::run(&c, &data, None, arch).unwrap();
            let recs = &outcome.session.record.metrics.records;
            assert!(!recs.is_empty() && recs.iter().all(|r| r.train_loss.is_finite()), "{arch} {mode:?}");
            // Measured (3 epochs of 12 steps): mean head accuracy 0.58–1.00 and the loss down to 0.22–0.74 of
            // its first epoch, except end-to-end ResNet-18 (width 4) and ResNet-50 (width 2), which do not
            // learn this task in 36 steps at lr 0.05 (0.35 and 0.33, the loss ratio 0.72 and 1.13): their
            // end-to-end training is asserted by tests/modes.rs on ResNet-14.
            if !(mode == Mode::E2e && arch.starts_with("resnet")) {
                common::assert_learns_to(&outcome, mode != Mode::E2e && !arch.starts_with("densenet"), 0.5, &format!("{arch} {mode:?}"));
            }
            if mode != Mode::E2e {
                assert!(recs.iter().any(|r| r.kinetic_energy > 0.0), "{arch} {mode:?}: the transport term is computed");
            }
        }
    }
}

#[test]
fn a_transformer_block_has_two_branches_in_its_kinetic_energy() {
    let device = Device::flex();
    let block = trgl::model::vit::TransformerBlock::new(16, 2, &device);
    let x = Tensor::<4>::random([2, 5, 16, 1], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let out = block.forward(x.clone());
    assert_eq!(out.residuals.len(), 2);
    let (a, m) = (out.residuals[0].clone(), out.residuals[1].clone());
    // out = x + a + m: the two branches are what moves the tokens.
    let moved = values(out.output.clone() - x);
    let sum = values(a.clone() + m.clone());
    for (p, q) in moved.iter().zip(&sum) {
        assert!((p - q).abs() < 1e-5);
    }
    let energy = trgl::transport::kinetic_energy(&out.residuals).unwrap().into_scalar::<f32>();
    let expected = values(a.square()).iter().sum::<f32>() / 160.0 + values(m.square()).iter().sum::<f32>() / 160.0;
    assert!((energy - expected).abs() < 1e-4 * expected.max(1.0), "{energy} vs {expected}");

    // Class-token pooling adds a token; heads are LN → pool → linear on every module.
    let mut cls = model("vit-mini", Some(16));
    cls.token_pool = trgl::model::vit::TokenPool::Cls;
    let plan = plan_for(&cls, 3, 16, 10).unwrap();
    let split = split_even(&plan, 3).unwrap();
    let net = Network::new(&plan, &split, &Default::default(), &Init::default(), &device);
    let (logits, _) = net.forward(Tensor::<4>::zeros([2, 3, 16, 16], &device));
    assert_eq!(logits.dims(), [2, 10]);
    assert!(net.modules.iter().all(|m| matches!(m.head, trgl::model::Head::Token(_))));
}

/// `head.pool_kernel`: the 1cnn head's pooled side follows the module's resolution (the published code's
/// AvgPool2d(apc)), where `head.pool` is one side for every module: ResNet-20 on 32 px, K = 3 — module 1
/// ends at 32×32 with 16 channels, module 2 at 16×16 with 32: kernel 8 pools them to 4×4 and 2×2.
#[test]
fn a_pool_kernel_makes_the_pooled_side_follow_the_resolution() {
    let params = |set: &[&str]| -> Vec<usize> {
        let mut o: Vec<String> = vec!["model.arch=\"resnet20\"".into(), "split.modules=3".into(), "head.kind=\"1cnn\"".into()];
        o.extend(set.iter().map(|s| s.to_string()));
        let config = trgl::config::Config::from_toml_str("", "test", &o).unwrap();
        let (_, _, network) = trgl::train::build::network_from_config(&config, 3, 32, 10).unwrap();
        network.modules.iter().map(|m| trgl::model::trainable_params(&m.head)).collect()
    };
    let one = params(&["head.pool=1"]);
    let kernel = params(&["head.pool_kernel=8"]);
    // Only the linear layer differs: channels × (side² − 1) × classes more weights.
    assert_eq!(kernel[0] - one[0], 16 * (4 * 4 - 1) * 10);
    assert_eq!(kernel[1] - one[1], 32 * (2 * 2 - 1) * 10);
    assert_eq!(kernel[2], one[2], "the last module has the network's own head");
}

/// `head.last = "aux"`: the last module gets the aux head of the others (the published code gives it the same
/// 1CNN head), not the network's GAP + linear classifier. ResNet-20, K = 3, 32 px: the last module ends at 8×8
/// with 64 channels; a 1CNN head there has a 3×3 conv (64·64·9), BN (2·64) and a linear layer from the pooled
/// map (64·side²·10 + 10); the network's head is 64·10 + 10.
#[test]
fn the_last_module_can_take_the_aux_head() {
    let heads = |set: &[&str]| -> Vec<usize> {
        let mut o: Vec<String> = vec!["model.arch=\"resnet20\"".into(), "split.modules=3".into(), "head.kind=\"1cnn\"".into(), "head.pool=2".into()];
        o.extend(set.iter().map(|s| s.to_string()));
        let config = trgl::config::Config::from_toml_str("", "test", &o).unwrap();
        let (_, _, network) = trgl::train::build::network_from_config(&config, 3, 32, 10).unwrap();
        network.modules.iter().map(|m| trgl::model::trainable_params(&m.head)).collect()
    };
    let network = heads(&[]);
    let aux = heads(&["head.last=\"aux\""]);
    assert_eq!(network[2], 64 * 10 + 10);
    assert_eq!(aux[2], 64 * 64 * 9 + 2 * 64 + 64 * 2 * 2 * 10 + 10);
    assert_eq!(&aux[..2], &network[..2], "the other modules' heads are unchanged");
    // A 1CNN head on module 2 (32 channels at 16×16, pooled 2×2) counts the same way: the formula is the head's.
    assert_eq!(aux[1], 32 * 32 * 9 + 2 * 32 + 32 * 2 * 2 * 10 + 10);
}
