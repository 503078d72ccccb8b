//! A strided slice, zero-padded along the channels (a ResNet's option-A shortcut), and its gradient, on
//! tensors large enough for the patched burn-flex's parallel slice assignment (vendor/README.md), and on
//! one below it: values against their definition.

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::ops::PadMode;
use burn::tensor::s;

fn check(batch: usize, channels: usize, side: usize) {
    let device = Device::flex();
    let shape = [batch, channels, side, side];
    let n: usize = shape.iter().product();
    let x: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1009) as f32 / 97.0 - 5.0).collect();
    let (half, pad) = (side / 2, channels / 2);
    let out_shape = [batch, channels + 2 * pad, half, half];
    let m: usize = out_shape.iter().product();
    let g: Vec<f32> = (0..m).map(|i| 1.0 + (i % 11) as f32).collect();
    let xt = Tensor::<4>::from_data(TensorData::new(x.clone(), shape), &device).autodiff().require_grad();
    let y = xt.clone().slice(s![.., .., ..;2, ..;2]).pad([(pad, pad), (0, 0), (0, 0)], PadMode::Constant(0.0));
    let grads = (y.clone() * Tensor::<4>::from_data(TensorData::new(g.clone(), out_shape), &device).autodiff()).sum().backward();
    let got = y.inner().into_data().try_to_vec::<f32>().unwrap();
    let dx = xt.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
    let at_x = |b: usize, c: usize, i: usize, j: usize| ((b * channels + c) * side + i) * side + j;
    let at_y = |b: usize, c: usize, i: usize, j: usize| ((b * (channels + 2 * pad) + c) * half + i) * half + j;
    for b in 0..batch {
        for c in 0..channels + 2 * pad {
            for i in 0..half {
                for j in 0..half {
                    let want = if c >= pad && c < pad + channels { x[at_x(b, c - pad, 2 * i, 2 * j)] } else { 0.0 };
                    assert_eq!(got[at_y(b, c, i, j)], want, "output at {:?} of {shape:?}", (b, c, i, j));
                }
            }
        }
        for c in 0..channels {
            for i in 0..side {
                for j in 0..side {
                    let want = if i % 2 == 0 && j % 2 == 0 { g[at_y(b, c + pad, i / 2, j / 2)] } else { 0.0 };
                    assert_eq!(dx[at_x(b, c, i, j)], want, "gradient at {:?} of {shape:?}", (b, c, i, j));
                }
            }
        }
    }
}

#[test]
fn padded_strided_shortcut_and_its_gradient() {
    check(2, 4, 6); // the generic path
    check(16, 16, 64); // 262 144 elements assigned each way: the parallel path
    check(5, 16, 130); // odd batch, sides not a multiple of the vector width (338 000 elements)
}
