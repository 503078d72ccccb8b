//! The CPU backend's batch normalisation (patched burn-flex, vendor/README.md) against the textbook
//! formulas in f64: the training output and batch statistics, the gradients of input, γ and β through
//! autodiff, and inference with given statistics — for 4-D (conv) and 2-D (linear) inputs, segments
//! shorter and longer than the 16 accumulation lanes, and f64 tensors.

mod common;

use burn::prelude::*;
use burn::tensor::module::{batch_norm, batch_norm_train};
use burn::tensor::{DType, TensorData};


struct Expected {
    output: Vec<f64>,
    mean: Vec<f64>,
    variance: Vec<f64>,
    dx: Vec<f64>,
    dgamma: Vec<f64>,
    dbeta: Vec<f64>,
}

fn reference(shape: &[usize], x: &[f64], gamma: &[f64], beta: &[f64], g: &[f64], eps: f64) -> Expected {
    let (n, c) = (shape[0], shape[1]);
    let inner: usize = shape[2..].iter().product();
    let idx = |b: usize, ch: usize, i: usize| (b * c + ch) * inner + i;
    let count = (n * inner) as f64;
    let mut e = Expected {
        output: vec![0.0; x.len()],
        mean: vec![0.0; c],
        variance: vec![0.0; c],
        dx: vec![0.0; x.len()],
        dgamma: vec![0.0; c],
        dbeta: vec![0.0; c],
    };
    for ch in 0..c {
        let all = || (0..n).flat_map(move |b| (0..inner).map(move |i| idx(b, ch, i)));
        let mean = all().map(|k| x[k]).sum::<f64>() / count;
        let var = all().map(|k| (x[k] - mean).powi(2)).sum::<f64>() / count;
        let inv = 1.0 / (var + eps).sqrt();
        let xhat = |k: usize| (x[k] - mean) * inv;
        let sum_g = all().map(|k| g[k]).sum::<f64>();
        let sum_gx = all().map(|k| g[k] * xhat(k)).sum::<f64>();
        for k in all() {
            e.output[k] = gamma[ch] * xhat(k) + beta[ch];
            e.dx[k] = gamma[ch] * inv * (g[k] - sum_g / count - xhat(k) * sum_gx / count);
        }
        (e.mean[ch], e.variance[ch], e.dgamma[ch], e.dbeta[ch]) = (mean, var, sum_gx, sum_g);
    }
    e
}

fn close(name: &str, got: TensorData, want: &[f64], tolerance: f64) {
    let got: Vec<f64> = got.try_to_vec_as::<f64>().unwrap();
    assert_eq!(got.len(), want.len(), "{name}");
    for (i, (a, e)) in got.iter().zip(want).enumerate() {
        assert!((a - e).abs() <= tolerance * (1.0 + e.abs()), "{name} at {i}: {a} vs {e}");
    }
}

fn check<const D: usize>(shape: [usize; D], dtype: DType) {
    let device = Device::flex();
    let c = shape[1];
    let n: usize = shape.iter().product();
    let (x, g) = (common::f32_exact_values(n, 1, 0.7), common::f32_exact_values(n, 2, 0.0));
    let (gamma, beta) = (common::f32_exact_values(c, 3, 1.0), common::f32_exact_values(c, 4, 0.0));
    let eps = 1e-5;
    let t = |v: &[f64], s: Vec<usize>| Tensor::<D>::from_data(TensorData::new(v.to_vec(), s), &device).cast(dtype);
    let v1 = |v: &[f64]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), &device).cast(dtype);
    let xt = t(&x, shape.to_vec()).autodiff().require_grad();
    let gt = v1(&gamma).autodiff().require_grad();
    let bt = v1(&beta).autodiff().require_grad();
    let out = batch_norm_train(xt.clone(), gt.clone(), bt.clone(), eps);
    let grads = (out.output.clone() * t(&g, shape.to_vec()).autodiff()).sum().backward();
    let e = reference(&shape, &x, &gamma, &beta, &g, eps);
    let tol = if dtype == DType::F64 { 1e-10 } else { 2e-5 };
    let what = format!("{shape:?} {dtype:?}");
    close(&format!("output {what}"), out.output.inner().into_data(), &e.output, tol);
    close(&format!("mean {what}"), out.mean.inner().into_data(), &e.mean, tol);
    close(&format!("variance {what}"), out.variance.inner().into_data(), &e.variance, tol);
    close(&format!("input gradient {what}"), xt.grad(&grads).unwrap().into_data(), &e.dx, tol);
    close(&format!("gamma gradient {what}"), gt.grad(&grads).unwrap().into_data(), &e.dgamma, tol);
    close(&format!("beta gradient {what}"), bt.grad(&grads).unwrap().into_data(), &e.dbeta, tol);

    // Inference with given statistics (rounded to f32, as the tensors are made from f32 values).
    let (mean, var): (Vec<f64>, Vec<f64>) = e.mean.iter().zip(&e.variance).map(|(&m, &v)| (m as f32 as f64, v as f32 as f64)).unzip();
    let inner: usize = shape[2..].iter().product();
    let expected: Vec<f64> = (0..n).map(|k| {
        let ch = (k / inner) % c;
        gamma[ch] * (x[k] - mean[ch]) / (var[ch] + eps).sqrt() + beta[ch]
    }).collect();
    let y = batch_norm(t(&x, shape.to_vec()), v1(&gamma), v1(&beta), v1(&mean), v1(&var), eps);
    close(&format!("inference {what}"), y.into_data(), &expected, tol);
}

#[test]
fn batch_norm_matches_the_formulas() {
    check([3, 4, 5, 6], DType::F32); // 30-element segments: two lanes' worth and a tail
    check([2, 3, 32, 32], DType::F32);
    check([5, 2, 3, 1], DType::F32); // segments shorter than the lanes
    check([7, 6], DType::F32); // BatchNorm1d on features
    check([3, 4, 5, 6], DType::F64);
}
