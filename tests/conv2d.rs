//! The CPU backend's 2-D convolution (patched burn-flex, vendor/README.md) against a direct
//! six-loop reference in f64: the output and, through autodiff, the gradients of input, weight and bias,
//! for strides, "same" and other paddings, asymmetric padding, dilation, groups, 1×1 kernels, batch 1
//! (where the GEMMs run in parallel instead of the images) and f64 tensors.

mod common;

use burn::prelude::*;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, TensorData};

#[derive(Clone, Copy, Debug)]
struct Case {
    batch: usize,
    cin: usize,
    cout: usize,
    hw: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [(usize, usize); 2],
    dilation: [usize; 2],
    groups: usize,
}

fn case(batch: usize, cin: usize, cout: usize, hw: usize, k: usize, stride: usize, pad: usize) -> Case {
    Case {
        batch,
        cin,
        cout,
        hw: [hw, hw],
        kernel: [k, k],
        stride: [stride, stride],
        padding: [(pad, pad); 2],
        dilation: [1, 1],
        groups: 1,
    }
}

impl Case {
    fn out(&self) -> [usize; 2] {
        std::array::from_fn(|i| {
            let (a, b) = self.padding[i];
            (self.hw[i] + a + b - self.dilation[i] * (self.kernel[i] - 1) - 1) / self.stride[i] + 1
        })
    }
}


/// y, and the gradients of Σ y·g with respect to x, w and b, by direct summation.
fn reference(c: &Case, x: &[f64], w: &[f64], b: &[f64], g: &[f64]) -> [Vec<f64>; 4] {
    let [h, wd] = c.hw;
    let [oh, ow] = c.out();
    let (cg, og) = (c.cin / c.groups, c.cout / c.groups);
    let [kh, kw] = c.kernel;
    let mut y = vec![0.0; c.batch * c.cout * oh * ow];
    let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
    let mut db = vec![0.0; b.len()];
    for n in 0..c.batch {
        for o in 0..c.cout {
            let grp = o / og;
            for yo in 0..oh {
                for xo in 0..ow {
                    let yi = n * c.cout * oh * ow + o * oh * ow + yo * ow + xo;
                    let mut acc = b[o];
                    db[o] += g[yi];
                    for ci in 0..cg {
                        let cin = grp * cg + ci;
                        for ki in 0..kh {
                            for kj in 0..kw {
                                let iy = (yo * c.stride[0] + ki * c.dilation[0]) as isize - c.padding[0].0 as isize;
                                let ix = (xo * c.stride[1] + kj * c.dilation[1]) as isize - c.padding[1].0 as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                let xi = n * c.cin * h * wd + cin * h * wd + iy as usize * wd + ix as usize;
                                let wi = o * cg * kh * kw + ci * kh * kw + ki * kw + kj;
                                acc += x[xi] * w[wi];
                                dx[xi] += g[yi] * w[wi];
                                dw[wi] += g[yi] * x[xi];
                            }
                        }
                    }
                    y[yi] = acc;
                }
            }
        }
    }
    [y, dx, dw, db]
}

fn check(c: Case, dtype: DType) {
    let device = Device::flex();
    let [h, wd] = c.hw;
    let [oh, ow] = c.out();
    let xs = [c.batch, c.cin, h, wd];
    let ws = [c.cout, c.cin / c.groups, c.kernel[0], c.kernel[1]];
    let ys = [c.batch, c.cout, oh, ow];
    let x = common::f32_exact_values(xs.iter().product(), 1, 0.0);
    let w = common::f32_exact_values(ws.iter().product(), 2, 0.0);
    let b = common::f32_exact_values(c.cout, 3, 0.0);
    let g = common::f32_exact_values(ys.iter().product(), 4, 0.0);
    let tensor = |v: &[f64], shape: Vec<usize>| {
        let data = TensorData::new(v.to_vec(), shape);
        Tensor::<4>::from_data(data, &device).cast(dtype)
    };
    let xt = tensor(&x, xs.to_vec()).autodiff().require_grad();
    let wt = tensor(&w, ws.to_vec()).autodiff().require_grad();
    let bt = Tensor::<1>::from_data(TensorData::new(b.clone(), [c.cout]), &device).cast(dtype).autodiff().require_grad();
    let options = ConvOptions::new_with_padding(c.stride, c.padding, c.dilation, c.groups);
    let y = conv2d(xt.clone(), wt.clone(), Some(bt.clone()), options);
    let grads = (y.clone() * tensor(&g, ys.to_vec()).autodiff()).sum().backward();
    let got = [
        y.inner().into_data(),
        xt.grad(&grads).unwrap().into_data(),
        wt.grad(&grads).unwrap().into_data(),
        bt.grad(&grads).unwrap().into_data(),
    ];
    let expected = reference(&c, &x, &w, &b, &g);
    let tolerance = if dtype == DType::F64 { 1e-10 } else { 1e-4 };
    for ((name, got), want) in ["output", "input gradient", "weight gradient", "bias gradient"].iter().zip(got).zip(expected) {
        let got: Vec<f64> = got.try_to_vec_as::<f64>().unwrap();
        assert_eq!(got.len(), want.len(), "{name} of {c:?}");
        for (i, (a, e)) in got.iter().zip(&want).enumerate() {
            assert!((a - e).abs() <= tolerance * (1.0 + e.abs()), "{name} of {c:?} ({dtype:?}) at {i}: {a} vs {e}");
        }
    }
}

#[test]
fn convolution_and_its_gradients_match_a_direct_reference() {
    let mut cases = vec![
        case(4, 3, 8, 9, 3, 1, 1),   // "same" 3×3 (the whole-plane path), odd size
        case(3, 5, 6, 8, 3, 2, 1),   // stride 2
        case(2, 4, 4, 7, 3, 1, 0),   // no padding
        case(2, 6, 5, 7, 1, 1, 0),   // 1×1
        case(2, 6, 10, 9, 1, 2, 0),  // 1×1 stride 2 (ResNet projection)
        case(2, 3, 4, 11, 7, 2, 3),  // 7×7 stride 2 (ImageNet stem)
        case(1, 8, 8, 6, 3, 1, 1),   // batch 1: parallel GEMMs
        // Winograd F(2×2, 3×3) (≥ 8 channels, 3×3, stride 1, padding 1, planes ≥ 16×16; weight gradient
        // ≤ 16 channels): batch 1, odd size with images grouped per GEMM (the last group smaller),
        // several images per group, more channels than the weight gradient's path takes.
        case(1, 8, 8, 16, 3, 1, 1),
        case(5, 8, 9, 17, 3, 1, 1),
        case(3, 9, 16, 16, 3, 1, 1),
        case(3, 17, 8, 16, 3, 1, 1),
        case(2, 2, 3, 4, 5, 1, 2),   // kernel larger than half the image
        case(2, 3, 2, 5, 3, 1, 3),   // padding larger than the kernel's reach: empty rows and columns
    ];
    cases.push(Case { dilation: [2, 2], ..case(2, 3, 4, 9, 3, 1, 2) });
    cases.push(Case { dilation: [1, 2], stride: [2, 1], ..case(2, 3, 4, 9, 3, 1, 1) });
    cases.push(Case { padding: [(0, 1), (1, 0)], ..case(2, 3, 4, 8, 3, 2, 0) });
    cases.push(Case { padding: [(2, 0), (0, 2)], ..case(2, 2, 3, 6, 3, 1, 0) });
    cases.push(Case { hw: [5, 9], kernel: [3, 1], padding: [(1, 1), (0, 0)], ..case(2, 3, 4, 1, 3, 1, 0) });
    cases.push(Case { groups: 2, ..case(2, 4, 6, 7, 3, 1, 1) });
    cases.push(Case { groups: 4, ..case(2, 4, 4, 7, 3, 2, 1) }); // depthwise
    cases.push(Case { hw: [2, 131], ..case(2, 8, 8, 1, 3, 1, 1) }); // Winograd, one row of tiles
    cases.push(Case { hw: [1, 256], ..case(2, 8, 8, 1, 3, 1, 1) }); // Winograd, half a row of tiles
    cases.push(Case { hw: [129, 2], ..case(2, 8, 8, 1, 3, 1, 1) }); // Winograd, one column of tiles
    // F(2×2, 3×3) on planes of even width up to 32 runs one row of tiles per 16-lane register (two
    // rows up to 16 wide) where the CPU has AVX-512: a full row of 16 tiles; a partial row and an odd
    // height; two rows of 8 tiles with a lone last row; two rows of 7 tiles (packed and unpacked).
    cases.push(case(2, 8, 8, 32, 3, 1, 1));
    cases.push(Case { hw: [19, 22], ..case(2, 8, 9, 1, 3, 1, 1) });
    cases.push(Case { hw: [18, 16], ..case(2, 9, 8, 1, 3, 1, 1) });
    cases.push(Case { hw: [21, 14], ..case(3, 8, 8, 1, 3, 1, 1) });
    // 32-wide planes with output channels in blocks of 16 run fused, one row of tiles at a time
    // (forward and input gradient both 16 channels); an odd height (a last row of tiles with one
    // output row), 9 input channels and two blocks of 16 outputs (the input gradient, to 9, does not).
    cases.push(case(2, 16, 16, 32, 3, 1, 1));
    cases.push(Case { hw: [17, 32], ..case(3, 9, 32, 1, 3, 1, 1) });
    // 16-wide planes the same way with two rows of 8 tiles per register: an even number of rows of
    // tiles, and nine (a lone last row) with two blocks of 16 outputs.
    cases.push(case(2, 16, 16, 16, 3, 1, 1));
    cases.push(Case { hw: [18, 16], ..case(2, 16, 32, 1, 3, 1, 1) });
    // 3×3 stride-2 convolutions on planes of even width up to 32 take im2col_stride2's rows where the
    // CPU has AVX-512 or AVX2: a full row of 32 (two chunks of 16 columns with AVX2); odd height with a
    // partial second half-row (a partial second chunk); two groups; no padding at the end (the same
    // output width).
    cases.push(case(2, 3, 4, 32, 3, 2, 1));
    cases.push(Case { hw: [7, 20], ..case(2, 3, 5, 1, 3, 2, 1) });
    cases.push(Case { groups: 2, hw: [9, 12], ..case(2, 4, 6, 1, 3, 2, 1) });
    cases.push(Case { padding: [(1, 0), (1, 0)], hw: [10, 14], ..case(2, 3, 4, 1, 3, 2, 0) });
    // Winograd F(4×4, 3×3) (the same convolutions on planes from 8×8 up to below 16×16): exact tiles;
    // a partial last row and column of tiles with output channels in blocks of 8, 4 and 1 (13); a
    // non-square plane with a smaller last group of images; batch 1 (the products on several threads).
    cases.push(case(3, 8, 8, 8, 3, 1, 1));
    cases.push(case(2, 9, 13, 11, 3, 1, 1));
    cases.push(Case { hw: [8, 13], ..case(5, 12, 8, 1, 3, 1, 1) });
    cases.push(Case { hw: [15, 9], ..case(1, 8, 16, 1, 3, 1, 1) });
    // Its weight gradient (36 GEMMs over groups of 128 tiles): 70 images of 8×8 (4 tiles each) give
    // each thread's range two groups, the second smaller; a partial row of tiles with 12×10 planes.
    cases.push(case(70, 8, 8, 8, 3, 1, 1));
    cases.push(Case { hw: [12, 10], ..case(3, 9, 8, 1, 3, 1, 1) });
    // On CPUs with AVX2 but not AVX-512, F(4×4, 3×3) takes the planes of F(2×2, 3×3) too, and those 8,
    // 16 or 32 wide with output channels in fours run fused, 16 tiles at a time (winograd_rows_f4):
    // five 8×8 images (a last block of tiles with one image), 16-wide planes of three rows of tiles (a
    // block's vectors then hold the last row of one image and the first of the next), a 32-wide plane
    // whose last row of tiles has one row of outputs.
    cases.push(case(5, 8, 12, 8, 3, 1, 1));
    cases.push(Case { hw: [12, 16], ..case(3, 8, 8, 1, 3, 1, 1) });
    cases.push(Case { hw: [13, 32], ..case(2, 12, 8, 1, 3, 1, 1) });
    // An empty batch on both Winograd paths: no groups of images to form.
    cases.push(case(0, 8, 8, 16, 3, 1, 1));
    cases.push(case(0, 8, 8, 8, 3, 1, 1));
    for c in cases {
        check(c, DType::F32);
    }
    check(case(2, 3, 4, 6, 3, 1, 1), DType::F64);
    check(case(2, 3, 4, 7, 3, 2, 1), DType::F64);
    check(case(3, 8, 10, 17, 3, 1, 1), DType::F64); // Winograd
    check(case(3, 8, 10, 10, 3, 1, 1), DType::F64); // Winograd F(4×4, 3×3)
}
