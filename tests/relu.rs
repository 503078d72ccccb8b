//! The CPU backend's ReLU and its gradient (patched burn-flex: parallel, wide-vector path for
//! contiguous f32 tensors, vendor/README.md) against the definition: sizes below and above the
//! parallel split (not a multiple of its chunk), NaN propagation, a shared input left untouched (the
//! output then goes to fresh memory) and an unshared one overwritten in place, a gradient shared by two
//! ReLUs, and a non-contiguous (transposed) input, which takes burn-flex's generic path.

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::relu;

fn values(n: usize) -> Vec<f32> {
    // Signs and magnitudes mixed, exact zeros and a NaN included.
    let mut v: Vec<f32> = (0..n).map(|i| ((i * 7919 % 1009) as f32 - 504.0) / 97.0).collect();
    v[n / 3] = 0.0;
    v[n / 2] = f32::NAN;
    v
}

fn same(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(a == b || (a.is_nan() && b.is_nan()), "{what} at {i}: {a} vs {b}");
    }
}

fn check(n: usize) {
    let device = Device::flex();
    let x = values(n);
    let g: Vec<f32> = (0..n).map(|i| 1.0 + (i % 13) as f32).collect();
    let xt = Tensor::<1>::from_data(TensorData::new(x.clone(), [n]), &device).autodiff().require_grad();
    let kept = xt.clone();
    let y = relu(xt.clone());
    let grads = (y.clone() * Tensor::<1>::from_data(TensorData::new(g.clone(), [n]), &device).autodiff()).sum().backward();
    let want_y: Vec<f32> = x.iter().map(|&v| if v.is_nan() || v > 0.0 { v } else { 0.0 }).collect();
    let want_dx: Vec<f32> = x.iter().zip(&g).map(|(&v, &g)| if v.is_nan() || v > 0.0 { g } else { 0.0 }).collect();
    same(&y.inner().into_data().try_to_vec::<f32>().unwrap(), &want_y, &format!("relu of {n}"));
    same(&xt.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(), &want_dx, &format!("relu gradient of {n}"));
    same(&kept.inner().into_data().try_to_vec::<f32>().unwrap(), &x, &format!("input of {n} after relu"));
}

#[test]
fn relu_and_its_gradient_match_the_definition() {
    for n in [5, 1000, 3 * 32768 + 17] {
        check(n);
    }
}

#[test]
fn relu_in_place_of_an_unshared_tensor() {
    let device = Device::flex();
    for n in [5, 3 * 32768 + 17] {
        let x = values(n);
        let got = relu(Tensor::<1>::from_data(TensorData::new(x.clone(), [n]), &device));
        let want: Vec<f32> = x.iter().map(|&v| if v.is_nan() || v > 0.0 { v } else { 0.0 }).collect();
        same(&got.into_data().try_to_vec::<f32>().unwrap(), &want, &format!("unshared relu of {n}"));
    }
}

#[test]
fn two_relus_sharing_one_output_gradient() {
    // The gradient of a sum goes to both terms as one shared tensor: the first ReLU's backward must not
    // overwrite it.
    let device = Device::flex();
    let n = 3 * 32768 + 17;
    let (a, b) = (values(n), values(n).into_iter().map(|v| -0.5 * v).collect::<Vec<f32>>());
    let g: Vec<f32> = (0..n).map(|i| 1.0 + (i % 13) as f32).collect();
    let leaf = |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [n]), &device).autodiff().require_grad();
    let (at, bt) = (leaf(&a), leaf(&b));
    let z = relu(at.clone()) + relu(bt.clone());
    let grads = (z * Tensor::<1>::from_data(TensorData::new(g.clone(), [n]), &device).autodiff()).sum().backward();
    for (t, v, name) in [(&at, &a, "first"), (&bt, &b, "second")] {
        let want: Vec<f32> = v.iter().zip(&g).map(|(&v, &g)| if v.is_nan() || v > 0.0 { g } else { 0.0 }).collect();
        same(&t.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(), &want, &format!("gradient of the {name} relu"));
    }
}

#[test]
fn relu_of_a_transposed_tensor() {
    let device = Device::flex();
    let x = values(6 * 7);
    let t = Tensor::<2>::from_data(TensorData::new(x.clone(), [6, 7]), &device).transpose();
    let got = relu(t).into_data().try_to_vec::<f32>().unwrap();
    let want: Vec<f32> = (0..7)
        .flat_map(|j| (0..6).map(move |i| (i, j)))
        .map(|(i, j)| x[i * 7 + j])
        .map(|v| if v.is_nan() || v > 0.0 { v } else { 0.0 })
        .collect();
    same(&got, &want, "relu of a transposed tensor");
}
