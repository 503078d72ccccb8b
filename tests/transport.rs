//! The method's numbers: kinetic energy, label-smoothed CE and τ schedules against hand computations.

use burn::prelude::*;
use trgl::model::{BasicBlock, Init, ShortcutKind};
use trgl::transport::{TauSchedule, TransportSpec, TransportWeights, cross_entropy_smoothed, kinetic_energy, local_loss};

fn device() -> Device {
    Device::flex()
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f32>() as f64
}

#[test]
fn kinetic_energy_is_the_sum_over_blocks_of_mean_squares() {
    let d = device();
    // r1: mean of squares = (1 + 4 + 9 + 16) / 4 = 7.5; r2: (0.25 + 0.25) / 2 = 0.25.
    let r1 = Tensor::<4>::from_data(TensorData::new(vec![1f32, -2., 3., -4.], [1, 1, 2, 2]), &d);
    let r2 = Tensor::<4>::from_data(TensorData::new(vec![0.5f32, -0.5], [2, 1, 1, 1]), &d);
    let ke = scalar(kinetic_energy(&[r1.clone(), r2.clone()]).unwrap());
    assert!((ke - 7.75).abs() < 1e-6, "{ke}");
    assert!(kinetic_energy(&[]).is_none());

    // In the loss, weight w multiplies it: total = CE + w·KE.
    let logits = Tensor::<2>::from_data(TensorData::new(vec![0f32, 0.], [1, 2]), &d);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64], [1]), &d);
    let l = local_loss(logits, y, &[r1, r2], 0.25, 0.0);
    let (total, ce) = (scalar(l.total), scalar(l.ce));
    assert!((ce - 2f64.ln()).abs() < 1e-6);
    assert!((total - (2f64.ln() + 0.25 * 7.75)).abs() < 1e-5, "{total}");
}

#[test]
fn kinetic_energy_has_the_gradient_of_a_mean_square() {
    let d = device();
    let values: Vec<f32> = (0..24).map(|i| (i as f32 - 11.5) / 3.0).collect();
    let r = Tensor::<4>::from_data(TensorData::new(values.clone(), [2, 3, 2, 2]), &d).autodiff().require_grad();
    let s = Tensor::<4>::from_data(TensorData::new(vec![0.5f32; 6], [1, 1, 3, 2]), &d).autodiff().require_grad();
    let ke = kinetic_energy(&[r.clone(), s.clone()]).unwrap();
    let by_hand = values.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / 24.0 + 0.25;
    assert!((ke.clone().inner().into_scalar::<f32>() as f64 - by_hand).abs() < 1e-5, "value");
    let grads = (ke * 3.0).backward();
    let dr: Vec<f32> = r.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
    for (g, v) in dr.iter().zip(&values) {
        // d/dr of 3·mean(r²) = 6r/N, N = 24
        assert!((g - 6.0 * v / 24.0).abs() < 1e-6, "{g} vs {}", 6.0 * v / 24.0);
    }
    let ds: Vec<f32> = s.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
    assert!(ds.iter().all(|g| (g - 6.0 * 0.5 / 6.0).abs() < 1e-6), "{ds:?}");
}

#[test]
fn a_tiny_block_reports_its_residual_branch_before_the_skip() {
    let d = device();
    d.seed(3);
    let block = BasicBlock::new(2, 2, 1, ShortcutKind::A, &Init::default(), &d);
    let x = Tensor::<4>::random([2, 2, 3, 3], burn::tensor::Distribution::Normal(0.0, 1.0), &d);
    let out = block.forward(x.clone());
    assert_eq!(out.residuals.len(), 1);
    let r = out.residuals[0].clone();
    // identity shortcut: out = relu(x + r)
    let expect: Vec<f32> = (x + r.clone()).clamp_min(0.0).into_data().try_to_vec::<f32>().unwrap();
    let got: Vec<f32> = out.output.into_data().try_to_vec::<f32>().unwrap();
    for (a, b) in expect.iter().zip(&got) {
        assert!((a - b).abs() < 1e-6);
    }
    // the kinetic energy of the block, by hand from r's values
    let values: Vec<f32> = r.clone().into_data().try_to_vec::<f32>().unwrap();
    let by_hand = values.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / values.len() as f64;
    let ke = scalar(kinetic_energy(&[r]).unwrap());
    assert!((ke - by_hand).abs() < 1e-5 * by_hand.max(1.0), "{ke} vs {by_hand}");
}

#[test]
fn option_a_shortcut_subsamples_and_zero_pads_channels() {
    let d = device();
    let block = BasicBlock::new(2, 4, 2, ShortcutKind::A, &Init::default(), &d);
    let x = Tensor::<4>::ones([1, 2, 4, 4], &d);
    let out = block.forward(x);
    assert_eq!(out.output.dims(), [1, 4, 2, 2]);
    assert_eq!(out.residuals[0].dims(), [1, 4, 2, 2]);
    assert_eq!(trgl::model::trainable_params(&block), 2 * 4 * 9 + 4 * 4 * 9 + 4 * 4);
    let b = BasicBlock::new(2, 4, 2, ShortcutKind::B, &Init::default(), &d);
    // option B adds a 1×1 conv (2·4) and its BatchNorm (2·4)
    assert_eq!(trgl::model::trainable_params(&b), 2 * 4 * 9 + 4 * 4 * 9 + 4 * 4 + 8 + 8);
}

#[test]
fn label_smoothing_matches_pytorch_definition() {
    let d = device();
    let logits = [1.0f64, 2.0, 0.5];
    let lse = logits.iter().map(|v| v.exp()).sum::<f64>().ln();
    let logp: Vec<f64> = logits.iter().map(|v| v - lse).collect();
    let eps = 0.1;
    let expect = -(1.0 - eps) * logp[1] - eps * logp.iter().sum::<f64>() / 3.0;
    let t = Tensor::<2>::from_data(TensorData::new(logits.iter().map(|&v| v as f32).collect::<Vec<_>>(), [1, 3]), &d);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64], [1]), &d);
    let got = scalar(cross_entropy_smoothed(t, y, eps));
    assert!((got - expect).abs() < 1e-6, "{got} vs {expect}");
}

#[test]
fn tau_schedules() {
    let spec = TransportSpec { tau: 2.0, ..TransportSpec::default() };
    let w = TransportWeights::new(spec, 4);
    assert_eq!(w.weight(0), 0.25);
    assert_eq!(w.weight(3), 0.25);

    let w = TransportWeights::new(TransportSpec { schedule: TauSchedule::Varying, ..spec }, 4);
    assert_eq!((w.tau(0), w.tau(1), w.tau(2), w.tau(3)), (1.0, 1.0, 2.0, 2.0));
    assert_eq!(w.weight(0), 0.5);

    let vangl = TransportWeights::new(TransportSpec { tau: f64::INFINITY, ..spec }, 4);
    assert_eq!(vangl.weight(2), 0.0);

    // Uzawa: λ_k = λ0·k^p, weight 1/λ_k, λ_k += ρ·mean(CE) every s steps.
    let uz = TransportSpec { schedule: TauSchedule::Uzawa, uzawa_lambda0: 0.5, uzawa_power: 2.0, uzawa_rho: 0.1, uzawa_every: 2, ..spec };
    let mut w = TransportWeights::new(uz, 3);
    assert_eq!(w.weight(0), 1.0 / 0.5);
    assert_eq!(w.weight(2), 1.0 / 4.5);
    w.observe(2, 1.0);
    assert_eq!(w.weight(2), 1.0 / 4.5, "no update before s steps");
    w.observe(2, 3.0);
    assert!((w.weight(2) - 1.0 / (4.5 + 0.1 * 2.0)).abs() < 1e-12);
    assert_eq!(w.weight(0), 2.0, "other modules untouched");
}

/// The published Uzawa (`method.uzawa_variant = "published"`): modules from 0, so the first module's λ is 0
/// and its weight 1/λ0 until its first update; at the s-th step λ_k += ρ·CE of that batch alone, and the new
/// 1/λ_k already weighs that step's loss (the paper's published `train_par`).
#[test]
fn the_published_uzawa_updates_from_the_s_th_batch_and_weighs_it_at_once() {
    use trgl::transport::{EnergyWeight, UzawaVariant};
    let spec = TransportSpec {
        tau: 1.0,
        schedule: TauSchedule::Uzawa,
        uzawa_lambda0: 0.5,
        uzawa_power: 2.0,
        uzawa_rho: 0.1,
        uzawa_every: 3,
        uzawa_variant: UzawaVariant::Published,
        p: 2.0,
        ..TransportSpec::default()
    };
    // Host state: λ = 0.5·[0, 1, 4]; module 0 weighs 1/λ0 until its first update.
    let mut w = TransportWeights::new(spec, 3);
    assert_eq!((w.weight(0), w.weight(1), w.weight(2)), (2.0, 2.0, 0.5));
    for ce in [1.0, 2.0, 4.0] {
        w.observe(1, ce);
        w.observe(0, ce);
    }
    // Only the third batch's CE (4.0) counts: λ_1 = 0.5 + 0.1·4 = 0.9, λ_0 = 0 + 0.4.
    assert!((w.weight(1) - 1.0 / 0.9).abs() < 1e-12, "{}", w.weight(1));
    assert!((w.weight(0) - 1.0 / 0.4).abs() < 1e-12, "{}", w.weight(0));
    // trgl's rule on the same CEs: λ_1 (modules from 1: 0.5·2² = 2) += 0.1·mean = 0.1·7/3.
    let mut t = TransportWeights::new(TransportSpec { uzawa_variant: UzawaVariant::Trgl, ..spec }, 3);
    for ce in [1.0, 2.0, 4.0] {
        t.observe(1, ce);
    }
    assert!((t.weight(1) - 1.0 / (2.0 + 0.1 * 7.0 / 3.0)).abs() < 1e-12);

    // On the device, as training runs it: the third step's loss is weighed by 1/(λ + ρ·CE of that step).
    let d = device();
    let mut dw = TransportWeights::new(spec, 3).to_device(0..3, &d);
    let r = Tensor::<4>::from_data(TensorData::new(vec![1f32, -2., 3., -4.], [1, 1, 2, 2]), &d); // kinetic 7.5
    let logits = Tensor::<2>::from_data(TensorData::new(vec![2f32, 0.5, -1.0], [1, 3]), &d);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64], [1]), &d);
    let ce = scalar(cross_entropy_smoothed(logits.clone(), y.clone(), 0.0));
    let loss_at = |dw: &trgl::transport::DeviceWeights| {
        let l = local_loss(logits.clone(), y.clone(), std::slice::from_ref(&r), dw.weight(1), 0.0);
        (scalar(l.total), matches!(dw.weight(1), EnergyWeight::UzawaUpdate { .. }))
    };
    for step in 1..=3 {
        let (total, updating) = loss_at(&dw);
        let lambda = if step < 3 { 0.5 } else { 0.5 + 0.1 * ce };
        assert_eq!(updating, step == 3, "step {step}");
        assert!((total - (ce + 7.5 / lambda)).abs() < 1e-5, "step {step}: {total} against {}", ce + 7.5 / lambda);
        let ce_t = Tensor::<1>::from_data(TensorData::new(vec![ce as f32], [1]), &d);
        dw.observe(1, ce_t);
    }
    let (total, _) = loss_at(&dw);
    assert!((total - (ce + 7.5 / (0.5 + 0.1 * ce))).abs() < 1e-5, "after the update the new λ stays");
}

#[test]
fn the_transport_cost_of_method_p_against_hand_computations() {
    use trgl::transport::{LossSpec, transport_cost};
    let d = device();
    let r = |v: Vec<f32>, shape: [usize; 4]| Tensor::<4>::from_data(TensorData::new(v, shape), &d);
    let (r1, r2) = (r(vec![1., -2., 3., -4.], [1, 1, 2, 2]), r(vec![0.5, -0.5], [2, 1, 1, 1]));
    // p = 2 is the kinetic energy itself, the same operations: equal to the bit.
    let (two, ke) = (transport_cost(&[r1.clone(), r2.clone()], 2.0).unwrap(), kinetic_energy(&[r1.clone(), r2.clone()]).unwrap());
    assert_eq!(scalar(two).to_bits(), scalar(ke).to_bits());
    // p = 1: (1 + 2 + 3 + 4) / 4 + (0.5 + 0.5) / 2 = 3; p = 3: (1 + 8 + 27 + 64) / 4 + 0.125 = 25.125.
    assert!((scalar(transport_cost(&[r1.clone(), r2.clone()], 1.0).unwrap()) - 3.0).abs() < 1e-6);
    assert!((scalar(transport_cost(&[r1.clone(), r2.clone()], 3.0).unwrap()) - 25.125).abs() < 1e-5);
    // Its gradient, p = 3: d mean(|r|³)/dr = 3·|r|·r / N = [0.75, −3, 6.75, −12] for r1 (N = 4).
    let at = r1.clone().autodiff().require_grad();
    let g = at.grad(&transport_cost(&[at.clone()], 3.0).unwrap().backward()).unwrap().into_data().try_to_vec::<f32>().unwrap();
    for (got, want) in g.iter().zip([0.75f32, -3.0, 6.75, -12.0]) {
        assert!((got - want).abs() < 1e-5, "{g:?}");
    }
    // In the loss: total = CE + w · Σ mean(|r|^p), the reported kinetic term being that cost.
    let logits = Tensor::<2>::from_data(TensorData::new(vec![0f32, 0.], [1, 2]), &d);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64], [1]), &d);
    let l = local_loss(logits, y, &[r1, r2], 0.25, LossSpec { smoothing: 0.0, p: 1.0 });
    assert!((scalar(l.kinetic) - 3.0).abs() < 1e-6);
    assert!((scalar(l.total) - (2f64.ln() + 0.75)).abs() < 1e-6);
}

#[test]
fn method_p_below_one_is_refused_by_name() {
    for p in [0.5, f64::INFINITY, f64::NAN] {
        let spec = TransportSpec { p, ..TransportSpec::default() };
        let e = spec.validate().unwrap_err().to_string();
        assert!(e.contains("method.p"), "{e}");
    }
    assert!(TransportSpec { p: 1.0, ..TransportSpec::default() }.validate().is_ok());
}
