//! Adaptive average pooling and its gradient (the patched burn-flex zeroes and fills each plane in its
//! own task, vendor/README.md) against their definition: windows that tile the plane and windows that
//! overlap, above and below the parallel threshold; and zero tensors of every width (each built as
//! zeros of its element type).

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{DType, FloatDType, IntDType};

/// PyTorch's adaptive windows: [⌊i·n/m⌋, ⌈(i+1)·n/m⌉).
fn window(i: usize, n: usize, m: usize) -> (usize, usize) {
    (i * n / m, ((i + 1) * n).div_ceil(m))
}

fn check(batch: usize, channels: usize, side: usize, out: usize) {
    let device = Device::flex();
    let shape = [batch, channels, side, side];
    let n: usize = shape.iter().product();
    let x: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1009) as f32 / 97.0 - 5.0).collect();
    let planes = batch * channels;
    let g: Vec<f32> = (0..planes * out * out).map(|i| 1.0 + (i % 13) as f32 / 4.0).collect();
    let xt = Tensor::<4>::from_data(TensorData::new(x.clone(), shape), &device).autodiff().require_grad();
    let y = adaptive_avg_pool2d(xt.clone(), [out, out]);
    let gt = Tensor::<4>::from_data(TensorData::new(g.clone(), [batch, channels, out, out]), &device).autodiff();
    let grads = (y.clone() * gt).sum().backward();
    let got = y.inner().into_data().try_to_vec::<f32>().unwrap();
    let dx = xt.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();

    let mut want_dx = vec![0.0f64; n];
    for p in 0..planes {
        for oi in 0..out {
            let (i0, i1) = window(oi, side, out);
            for oj in 0..out {
                let (j0, j1) = window(oj, side, out);
                let count = ((i1 - i0) * (j1 - j0)) as f64;
                let mut sum = 0.0f64;
                for i in i0..i1 {
                    for j in j0..j1 {
                        sum += x[(p * side + i) * side + j] as f64;
                        want_dx[(p * side + i) * side + j] += g[(p * out + oi) * out + oj] as f64 / count;
                    }
                }
                let (have, want) = (got[(p * out + oi) * out + oj] as f64, sum / count);
                assert!((have - want).abs() <= 1e-5 * (1.0 + want.abs()), "output {have} vs {want} at plane {p} ({oi}, {oj}) of {shape:?} → {out}");
            }
        }
    }
    for (i, (&have, &want)) in dx.iter().zip(&want_dx).enumerate() {
        assert!((have as f64 - want).abs() <= 1e-5 * (1.0 + want.abs()), "gradient {have} vs {want} at {i} of {shape:?} → {out}");
    }
}

#[test]
fn adaptive_average_pool_tiling_windows() {
    check(64, 16, 32, 2); // 1 Mi elements: planes on several threads
    check(2, 3, 8, 4); // below the threshold: one thread
    check(32, 64, 8, 1); // global average
}

#[test]
fn adaptive_average_pool_overlapping_windows() {
    check(2, 3, 7, 3); // windows of 3 that share a row and a column
    check(128, 32, 11, 4); // overlapping, above the threshold
    check(1, 1, 5, 2);
}

#[test]
fn zeros_of_every_width() {
    let device = Device::flex();
    let shape = [3, 1000, 7];
    for dtype in [FloatDType::F64, FloatDType::F32, FloatDType::F16, FloatDType::BF16] {
        let t = Tensor::<3>::zeros(shape, (&device, DType::from(dtype)));
        assert_eq!(t.dtype(), DType::from(dtype));
        let v = t.cast(FloatDType::F64).into_data().try_to_vec::<f64>().unwrap();
        assert_eq!(v.len(), 21_000);
        assert!(v.iter().all(|&e| e == 0.0), "{dtype:?}");
    }
    for dtype in [IntDType::I64, IntDType::I32, IntDType::I16, IntDType::I8] {
        let t = Tensor::<3, Int>::zeros(shape, (&device, DType::from(dtype)));
        let v = t.cast(IntDType::I64).into_data().try_to_vec::<i64>().unwrap();
        assert!(v.len() == 21_000 && v.iter().all(|&e| e == 0), "{dtype:?}");
    }
    // Large enough for the parallel fill, then written through: the buffer is the tensor's own.
    let big = Tensor::<2>::zeros([1 << 11, 1 << 10], &device) + 1.5;
    assert!(big.into_data().try_to_vec::<f32>().unwrap().iter().all(|&e| e == 1.5));
}
