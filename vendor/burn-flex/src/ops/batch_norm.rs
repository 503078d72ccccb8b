//! Batch normalisation on `[batch, channels, ...]` tensors, channel by channel (added for trgl; see
//! `vendor/README.md` in trgl).
//!
//! burn's default `batch_norm_train` and its backward are composed of tensor operations: a transposed
//! copy of the input to reduce over, then about ten element-wise passes, each a new buffer. Here each
//! channel is one task: its statistics in two reads of the channel (mean, then the centred variance —
//! the two-pass formula, as accurate as the default), its output in a third; the backward pass reads
//! `x` and `dy` twice. Per-channel sums are accumulated in 16 lanes per contiguous segment, then in f64
//! across segments, always in the same order: results do not depend on the number of threads.
//! f16 and bf16 tensors are computed in f32.

use alloc::vec::Vec;
use burn_backend::DType;
use burn_std::{Bytes, Shape};
use num_traits::Float;

use super::module::{f32_to_half, half_to_f32};
use super::wide_simd::wide;
use crate::{FlexTensor, Layout};

/// Element types computed natively.
trait Real: Float + bytemuck::Pod + burn_backend::Element + Send + Sync + 'static {
    const DTYPE: DType;
    fn wide(self) -> f64;
    fn narrow(v: f64) -> Self;
}
impl Real for f32 {
    const DTYPE: DType = DType::F32;
    fn wide(self) -> f64 {
        self as f64
    }
    fn narrow(v: f64) -> Self {
        v as f32
    }
}
impl Real for f64 {
    const DTYPE: DType = DType::F64;
    fn wide(self) -> f64 {
        self
    }
    fn narrow(v: f64) -> Self {
        v
    }
}

/// `[batch, channels, inner]` of a `[batch, channels, ...]` shape.
fn dims(shape: &[usize]) -> (usize, usize, usize) {
    assert!(shape.len() >= 2, "batch_norm: the input needs a batch and a channel dimension, got {shape:?}");
    (shape[0], shape[1], shape[2..].iter().product())
}

// The per-segment loops, each compiled for the widest vector extension available (wide_simd.rs).
// Sums run in 16 independent lanes so that they vectorise, then in f64.

type Uninit<T> = core::mem::MaybeUninit<T>;

#[inline(always)]
fn lanes_to_f64<T: Real>(lanes: &[T; 16]) -> f64 {
    lanes.iter().map(|l| l.wide()).sum()
}

wide!(fn sum = sum_body<T: Real>(xs: &[T]) -> f64);
#[inline(always)]
fn sum_body<T: Real>(xs: &[T]) -> f64 {
    let mut lanes = [T::zero(); 16];
    let mut chunks = xs.chunks_exact(16);
    for chunk in &mut chunks {
        for (l, &x) in lanes.iter_mut().zip(chunk) {
            *l = *l + x;
        }
    }
    lanes_to_f64(&lanes) + chunks.remainder().iter().map(|&x| x.wide()).sum::<f64>()
}

wide!(fn sum_squared_deviations = sum_squared_deviations_body<T: Real>(xs: &[T], m: T) -> f64);
#[inline(always)]
fn sum_squared_deviations_body<T: Real>(xs: &[T], m: T) -> f64 {
    let mut lanes = [T::zero(); 16];
    let mut chunks = xs.chunks_exact(16);
    for chunk in &mut chunks {
        for (l, &x) in lanes.iter_mut().zip(chunk) {
            *l = *l + (x - m) * (x - m);
        }
    }
    lanes_to_f64(&lanes) + chunks.remainder().iter().map(|&x| ((x - m) * (x - m)).wide()).sum::<f64>()
}

// Σ dy·x̂ with x̂ = (x − m)·is.
wide!(fn sum_grad_normalized = sum_grad_normalized_body<T: Real>(xs: &[T], gs: &[T], m: T, is: T) -> f64);
#[inline(always)]
fn sum_grad_normalized_body<T: Real>(xs: &[T], gs: &[T], m: T, is: T) -> f64 {
    let mut lanes = [T::zero(); 16];
    let (mut xc, mut gc) = (xs.chunks_exact(16), gs.chunks_exact(16));
    for (xv, gv) in (&mut xc).zip(&mut gc) {
        for ((l, &x), &g) in lanes.iter_mut().zip(xv).zip(gv) {
            *l = *l + g * ((x - m) * is);
        }
    }
    let tail: f64 = xc.remainder().iter().zip(gc.remainder()).map(|(&x, &g)| (g * ((x - m) * is)).wide()).sum();
    lanes_to_f64(&lanes) + tail
}

// out = x·a + b.
wide!(fn affine = affine_body<T: Real>(out: &mut [Uninit<T>], xs: &[T], a: T, b: T));
#[inline(always)]
fn affine_body<T: Real>(out: &mut [Uninit<T>], xs: &[T], a: T, b: T) {
    for (o, &x) in out.iter_mut().zip(xs) {
        o.write(x * a + b);
    }
}

// dx = k·(dy − mean(dy) − x̂·mean(dy·x̂)).
wide!(fn input_grad = input_grad_body<T: Real>(out: &mut [Uninit<T>], xs: &[T], gs: &[T], m: T, is: T, k: T, mean_dy: T, mean_dy_xhat: T));
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn input_grad_body<T: Real>(out: &mut [Uninit<T>], xs: &[T], gs: &[T], m: T, is: T, k: T, mean_dy: T, mean_dy_xhat: T) {
    for ((o, &x), &g) in out.iter_mut().zip(xs).zip(gs) {
        o.write(k * (g - mean_dy - (x - m) * is * mean_dy_xhat));
    }
}

/// Asks for `xs` to be brought into the cache. A channel's segments are one per image, a whole
/// image apart: the hardware prefetchers, which follow sequential streams inside a page, miss the
/// start of every segment, and the first pass over a channel waited on memory (4.6 GB/s per core).
#[inline(always)]
fn prefetch<T>(xs: &[T]) {
    #[cfg(target_arch = "x86_64")]
    for line in (0..core::mem::size_of_val(xs)).step_by(64) {
        // Safety: inside `xs`; a prefetch neither faults nor changes memory.
        unsafe { core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(xs.as_ptr().cast::<i8>().add(line)) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = xs;
}

/// How many segments ahead the first pass over a channel prefetches: about 8 KiB.
fn segments_ahead<T>(inner: usize) -> usize {
    (8192 / (inner * core::mem::size_of::<T>()).max(1)).clamp(2, 32)
}

/// Runs `f(channel)` for every channel, in parallel where rayon is on, and returns the results in
/// channel order.
fn per_channel<R: Send>(channels: usize, f: impl Fn(usize) -> R + Send + Sync) -> Vec<R> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        (0..channels).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "rayon"))]
    {
        (0..channels).map(f).collect()
    }
}

/// An output buffer the channel tasks fill, each its own disjoint segments; fresh memory, not
/// zero-filled first (every element is written once).
struct Output<T> {
    data: Vec<T>,
}

/// A handle on an [`Output`]'s memory for the tasks.
struct Shared<T>(*mut core::mem::MaybeUninit<T>);
unsafe impl<T> Send for Shared<T> {}
unsafe impl<T> Sync for Shared<T> {}
impl<T> Shared<T> {
    /// # Safety
    /// `start..start + len` is inside the buffer and written by no other task.
    #[allow(clippy::mut_from_ref)]
    unsafe fn segment(&self, start: usize, len: usize) -> &mut [core::mem::MaybeUninit<T>] {
        unsafe { core::slice::from_raw_parts_mut(self.0.add(start), len) }
    }
}

impl<T> Output<T> {
    fn new(n: usize) -> Self {
        Self { data: Vec::with_capacity(n) }
    }
    fn shared(&mut self) -> Shared<T> {
        Shared(self.data.spare_capacity_mut().as_mut_ptr())
    }
    /// # Safety
    /// Every one of the `n` elements has been written.
    unsafe fn finish(mut self, n: usize) -> Vec<T> {
        unsafe { self.data.set_len(n) };
        self.data
    }
}

/// Scale and shift that normalise a channel: y = x·scale + shift = γ·(x − mean)/√(var + ε) + β.
fn scale_shift(gamma: f64, beta: f64, mean: f64, var: f64, epsilon: f64) -> (f64, f64) {
    let scale = gamma / (var + epsilon).sqrt();
    (scale, beta - mean * scale)
}

/// Writes channel `c` of the output: x·a + b over each of its segments.
fn normalize_channel<T: Real>(dst: &Shared<T>, xd: &[T], segments: impl Iterator<Item = usize>, inner: usize, a: T, b: T) {
    for s in segments {
        // Safety: a channel's segments belong to its task only.
        let out = unsafe { dst.segment(s, inner) };
        affine(out, &xd[s..s + inner], a, b);
    }
}

fn values<T: Real>(t: &FlexTensor) -> Vec<T> {
    t.to_contiguous().storage::<T>().to_vec()
}

fn tensor<T: Real>(data: Vec<T>, shape: &[usize]) -> FlexTensor {
    FlexTensor::new(Bytes::from_elems(data), Layout::contiguous(Shape::from(shape.to_vec())), T::DTYPE)
}

fn train_typed<T: Real>(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    epsilon: f64,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let x = x.to_contiguous();
    let shape = x.layout().shape().to_vec();
    let (batch, channels, inner) = dims(&shape);
    let (gamma, beta) = (values::<T>(&gamma), values::<T>(&beta));
    let xd: &[T] = x.storage();
    let mut out = Output::<T>::new(xd.len());
    let dst = out.shared();
    let count = (batch * inner) as f64;
    let stats = per_channel(channels, |c| {
        let segments = (0..batch).map(|b| (b * channels + c) * inner);
        let segment = |b: usize| &xd[(b * channels + c) * inner..][..inner];
        let ahead = segments_ahead::<T>(inner);
        let mut total = 0.0;
        for b in 0..batch {
            if b + ahead < batch {
                prefetch(segment(b + ahead));
            }
            total += sum(segment(b));
        }
        let mean = total / count;
        let m = T::narrow(mean);
        let var = segments
            .clone()
            .map(|s| sum_squared_deviations(&xd[s..s + inner], m))
            .sum::<f64>()
            / count;
        let (scale, shift) = scale_shift(gamma[c].wide(), beta[c].wide(), mean, var, epsilon);
        normalize_channel(&dst, xd, segments, inner, T::narrow(scale), T::narrow(shift));
        (m, T::narrow(var))
    });
    let (mean, var): (Vec<T>, Vec<T>) = stats.into_iter().unzip();
    // Safety: every channel task wrote all of its segments, which cover the buffer.
    let out = unsafe { out.finish(xd.len()) };
    (tensor(out, &shape), tensor(mean, &[channels]), tensor(var, &[channels]))
}

fn train_backward_typed<T: Real>(
    x: FlexTensor,
    gamma: FlexTensor,
    mean: FlexTensor,
    variance: FlexTensor,
    epsilon: f64,
    output_grad: FlexTensor,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (x, dy) = (x.to_contiguous(), output_grad.to_contiguous());
    let shape = x.layout().shape().to_vec();
    let (batch, channels, inner) = dims(&shape);
    let (gamma, mean, var) = (values::<T>(&gamma), values::<T>(&mean), values::<T>(&variance));
    let (xd, dyd): (&[T], &[T]) = (x.storage(), dy.storage());
    let mut dx = Output::<T>::new(xd.len());
    let dst = dx.shared();
    let count = (batch * inner) as f64;
    let grads = per_channel(channels, |c| {
        let segments = (0..batch).map(|b| (b * channels + c) * inner);
        let inv_std = 1.0 / (var[c].wide() + epsilon).sqrt();
        let (m, is) = (mean[c], T::narrow(inv_std));
        let (mut sum_dy, mut sum_dy_xhat) = (0.0, 0.0);
        let ahead = segments_ahead::<T>(inner);
        for (b, s) in segments.clone().enumerate() {
            if b + ahead < batch {
                let next = s + ahead * channels * inner;
                prefetch(&xd[next..next + inner]);
                prefetch(&dyd[next..next + inner]);
            }
            let (xs, gs) = (&xd[s..s + inner], &dyd[s..s + inner]);
            sum_dy += sum(gs);
            sum_dy_xhat += sum_grad_normalized(xs, gs, m, is);
        }
        let scale = gamma[c].wide() * inv_std;
        let (k, mean_dy, mean_dy_xhat) = (T::narrow(scale), T::narrow(sum_dy / count), T::narrow(sum_dy_xhat / count));
        for s in segments {
            // Safety: channel c's segments belong to this task only.
            let out = unsafe { dst.segment(s, inner) };
            input_grad(out, &xd[s..s + inner], &dyd[s..s + inner], m, is, k, mean_dy, mean_dy_xhat);
        }
        (T::narrow(sum_dy_xhat), T::narrow(sum_dy))
    });
    let (gamma_grad, beta_grad): (Vec<T>, Vec<T>) = grads.into_iter().unzip();
    // Safety: every channel task wrote all of its segments, which cover the buffer.
    let dx = unsafe { dx.finish(xd.len()) };
    (tensor(dx, &shape), tensor(gamma_grad, &[channels]), tensor(beta_grad, &[channels]))
}

fn inference_typed<T: Real>(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    mean: FlexTensor,
    variance: FlexTensor,
    epsilon: f64,
) -> FlexTensor {
    let x = x.to_contiguous();
    let shape = x.layout().shape().to_vec();
    let (batch, channels, inner) = dims(&shape);
    let (gamma, beta) = (values::<T>(&gamma), values::<T>(&beta));
    let (mean, var) = (values::<T>(&mean), values::<T>(&variance));
    let xd: &[T] = x.storage();
    let mut out = Output::<T>::new(xd.len());
    let dst = out.shared();
    per_channel(channels, |c| {
        let (scale, shift) = scale_shift(gamma[c].wide(), beta[c].wide(), mean[c].wide(), var[c].wide(), epsilon);
        let segments = (0..batch).map(|b| (b * channels + c) * inner);
        normalize_channel(&dst, xd, segments, inner, T::narrow(scale), T::narrow(shift));
    });
    // Safety: every channel task wrote all of its segments, which cover the buffer.
    let out = unsafe { out.finish(xd.len()) };
    tensor(out, &shape)
}

/// Normalises with the batch's own statistics; returns (output, mean, biased variance).
pub(crate) fn batch_norm_train(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    epsilon: f64,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let dtype = x.dtype();
    let (o, m, v) = match dtype {
        DType::F64 => train_typed::<f64>(x, gamma, beta, epsilon),
        DType::F32 | DType::F16 | DType::BF16 => train_typed::<f32>(half_to_f32(x), half_to_f32(gamma), half_to_f32(beta), epsilon),
        dtype => panic!("batch_norm_train: unsupported dtype {dtype:?}"),
    };
    (f32_to_half(o, dtype), f32_to_half(m, dtype), f32_to_half(v, dtype))
}

/// Gradients of [`batch_norm_train`]: (input, gamma, beta).
pub(crate) fn batch_norm_train_backward(
    x: FlexTensor,
    gamma: FlexTensor,
    mean: FlexTensor,
    variance: FlexTensor,
    epsilon: f64,
    output_grad: FlexTensor,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let dtype = x.dtype();
    let (dx, dg, db) = match dtype {
        DType::F64 => train_backward_typed::<f64>(x, gamma, mean, variance, epsilon, output_grad),
        DType::F32 | DType::F16 | DType::BF16 => train_backward_typed::<f32>(
            half_to_f32(x),
            half_to_f32(gamma),
            half_to_f32(mean),
            half_to_f32(variance),
            epsilon,
            half_to_f32(output_grad),
        ),
        dtype => panic!("batch_norm_train_backward: unsupported dtype {dtype:?}"),
    };
    (f32_to_half(dx, dtype), f32_to_half(dg, dtype), f32_to_half(db, dtype))
}

/// Normalises with given statistics (inference).
pub(crate) fn batch_norm(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    mean: FlexTensor,
    variance: FlexTensor,
    epsilon: f64,
) -> FlexTensor {
    let dtype = x.dtype();
    let out = match dtype {
        DType::F64 => inference_typed::<f64>(x, gamma, beta, mean, variance, epsilon),
        DType::F32 | DType::F16 | DType::BF16 => {
            inference_typed::<f32>(half_to_f32(x), half_to_f32(gamma), half_to_f32(beta), half_to_f32(mean), half_to_f32(variance), epsilon)
        }
        dtype => panic!("batch_norm: unsupported dtype {dtype:?}"),
    };
    f32_to_half(out, dtype)
}
