//! No gradient crosses a module boundary; τ = ∞ is exactly VanGL.

mod common;

use burn::optim::GradientsParams;
use burn::prelude::*;
use common::{snapshot, tiny_config, tiny_data};
use trgl::train::{Mode, Optimizers, Pass, Session, build_optimizer, local_step, train_pass};
use trgl::transport::{TransportSpec, TransportWeights, cross_entropy_smoothed};

#[test]
fn sequential_training_leaves_earlier_modules_bit_for_bit_unchanged() {
    let config = tiny_config(Mode::Sequential);
    let mut s = Session::new(&config, &tiny_data(), None).unwrap();
    let mut optims = Optimizers::per_module(&s, |_| 1);
    train_pass(&mut s, &Pass::Local(0..1), &mut optims, "m1").unwrap();
    let frozen: Vec<_> = (0..1).map(|k| snapshot(&s.trainer.network.modules[k])).collect();
    for k in 1..s.modules() {
        let before = snapshot(&s.trainer.network.modules[k]);
        train_pass(&mut s, &Pass::Local(k..k + 1), &mut optims, &format!("m{k}")).unwrap();
        assert_ne!(before, snapshot(&s.trainer.network.modules[k]), "module {k} trained");
        for (j, f) in frozen.iter().enumerate() {
            assert_eq!(f, &snapshot(&s.trainer.network.modules[j]), "module {j} changed while module {k} trained");
        }
    }
}

#[test]
fn a_local_loss_has_no_gradient_for_earlier_modules() {
    let config = tiny_config(Mode::Parallel);
    let s = Session::new(&config, &tiny_data(), None).unwrap();
    let x = Tensor::<4>::random([4, 1, 8, 8], burn::tensor::Distribution::Default, &s.trainer.device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 0], [4]), &s.trainer.device);
    let (m0, m1) = (&s.trainer.network.modules[0], &s.trainer.network.modules[1]);
    let f0 = m0.forward(x).features;
    // what parallel mode passes on: the detached output
    let out1 = m1.forward(f0.detach());
    let loss = cross_entropy_smoothed(m1.head.forward(out1.features), y.clone(), 0.1);
    let mut grads = loss.backward();
    assert!(GradientsParams::from_module(&mut grads, m0).is_empty(), "module 1 received a gradient");
    assert!(!GradientsParams::from_module(&mut grads, m1).is_empty());
}

#[test]
fn tau_infinity_is_exactly_vangl() {
    let config = tiny_config(Mode::Parallel);
    let s = Session::new(&config, &tiny_data(), None).unwrap();
    let weights = TransportWeights::new(TransportSpec { tau: f64::INFINITY, ..config.method }, 4);
    assert_eq!(weights.weight(1), 0.0);

    let module = s.trainer.network.modules[1].clone();
    let (mut opt_a, mut opt_b, mut opt_c) = (build_optimizer(&config.optim), build_optimizer(&config.optim), build_optimizer(&config.optim));
    let (mut trgl_inf, mut vangl, mut trgl_finite) = (module.clone(), module.clone(), module);
    for step in 0..3u64 {
        s.trainer.device.seed(step);
        let x = Tensor::<4>::random([8, 4, 8, 8], burn::tensor::Distribution::Default, &s.trainer.device);
        let y = Tensor::<1, Int>::from_data(TensorData::new((0..8).map(|i| (i % 3) as i64).collect::<Vec<_>>(), [8]), &s.trainer.device);
        trgl_inf = local_step(trgl_inf, &mut opt_a, x.clone(), &y.clone().into(), weights.weight(1), 0.1, 0.05).0;
        trgl_finite = local_step(trgl_finite, &mut opt_c, x.clone(), &y.clone().into(), 1.0, 0.1, 0.05).0;
        // VanGL written out by hand: cross-entropy of the aux head, nothing else.
        let logits = vangl.head.forward(vangl.forward(x).features);
        let loss = cross_entropy_smoothed(logits, y, 0.1);
        let grads = GradientsParams::from_grads(loss.backward(), &vangl);
        vangl = opt_b.step(0.05, vangl, grads);
    }
    assert_eq!(snapshot(&trgl_inf), snapshot(&vangl));
    assert_ne!(snapshot(&trgl_finite), snapshot(&vangl), "a finite τ must change the updates");
}
