//! Times the CPU backend's 2-D convolution kernels one by one — forward, input gradient, weight gradient —
//! at the shapes of a CIFAR ResNet (batch 128); `benches/reference/conv_ops.py` times PyTorch's on the
//! same shapes (run both in one go: `cargo run --release --example conv_ops && python3 benches/reference/conv_ops.py`).
//!
//! cargo run --release --example conv_ops [ROW]      (ROW: only that row of the table, 0-based — for a profiler)

use std::time::Instant;

use burn::tensor::TensorData;
use burn::tensor::ops::ConvOptions;
use burn_backend::ops::ModuleOps;
use burn_flex::{Flex, FlexTensor};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn time(mut f: impl FnMut(), n: usize) -> f64 {
    f();
    f();
    median((0..n).map(|_| { let s = Instant::now(); f(); s.elapsed().as_secs_f64() }).collect())
}

fn random(shape: [usize; 4], seed: u64) -> FlexTensor {
    let n = shape.iter().product::<usize>();
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let values: Vec<f32> = (0..n)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect();
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn main() {
    trgl::alloc::keep_freed_memory(); // as the trgl binary does
    let only: Option<usize> = std::env::args().nth(1).and_then(|a| a.parse().ok());
    println!("shape (N C H O stride)   forward ms   input-grad ms   weight-grad ms   total ms   GFLOP/s");
    for (row, (b, c, h, o, s, k)) in [
        (128, 3, 32, 16, 1, 3),
        (128, 16, 32, 16, 1, 3),
        (128, 16, 32, 32, 2, 3),
        (128, 32, 16, 32, 1, 3),
        (128, 64, 8, 64, 1, 3),
        (128, 64, 56, 128, 2, 1),
    ]
    .into_iter()
    .enumerate()
    {
        if only.is_some_and(|r| r != row) {
            continue;
        }
        let reps = if only.is_some() { 200 } else { 10 };
        let pad = k / 2;
        let x = random([b, c, h, h], 1);
        let w = random([o, c, k, k], 2);
        let opts = ConvOptions::new([s, s], [pad, pad], [1, 1], 1);
        let ho = (h + 2 * pad - k) / s + 1;
        let g = random([b, o, ho, ho], 3);
        let flops = 2.0 * (b * o * c * k * k * ho * ho) as f64;
        let fwd = time(|| drop(Flex::conv2d(x.clone(), w.clone(), None, opts.clone())), reps);
        let dx = time(|| drop(Flex::conv2d_x_backward(x.clone(), w.clone(), g.clone(), opts.clone())), reps);
        let dw = time(|| drop(Flex::conv2d_weight_backward(x.clone(), w.clone(), g.clone(), opts.clone())), reps);
        let total = fwd + dx + dw;
        println!(
            "{b} {c} {h} {o} s{s} k{k}   {:>10.2}   {:>13.2}   {:>14.2}   {:>8.2}   {:>7.0}",
            fwd * 1e3, dx * 1e3, dw * 1e3, total * 1e3, 3.0 * flops / total / 1e9
        );
    }
}
