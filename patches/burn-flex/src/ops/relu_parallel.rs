//! ReLU and its backward on contiguous f32 tensors, split across threads and run with the widest
//! vector instructions (added for trgl; see `patches/README.md` in trgl).
//!
//! burn-flex's generic element-wise path runs these single-threaded with SSE; in a CIFAR ResNet
//! step they touch every activation twice, which made them a few percent of the step.

use alloc::vec::Vec;
use burn_backend::DType;
use burn_std::Bytes;

use super::wide_simd::wide;
use crate::{FlexTensor, Layout};

/// Elements per parallel task: large enough that scheduling costs nothing, small enough to split
/// a 32×32×16 activation of a batch across threads.
const CHUNK: usize = 1 << 15;

/// NaN propagates, as in PyTorch and burn-flex's generic ReLU.
#[inline(always)]
fn relu_value(x: f32) -> f32 {
    if x.is_nan() || x > 0.0 { x } else { 0.0 }
}

trait Pod32: bytemuck::Pod + Send + Sync {}
impl Pod32 for f32 {}

wide!(fn relu_in_place = relu_in_place_body<T: Pod32>(values: &mut [T]));
#[inline(always)]
fn relu_in_place_body<T: Pod32>(values: &mut [T]) {
    let values: &mut [f32] = bytemuck::cast_slice_mut(values);
    values.iter_mut().for_each(|x| *x = relu_value(*x));
}

wide!(fn relu_mask_in_place = relu_mask_in_place_body<T: Pod32>(output: &[T], grad: &mut [T]));
#[inline(always)]
fn relu_mask_in_place_body<T: Pod32>(output: &[T], grad: &mut [T]) {
    let (output, grad): (&[f32], &mut [f32]) = (bytemuck::cast_slice(output), bytemuck::cast_slice_mut(grad));
    grad.iter_mut().zip(output).for_each(|(g, &o)| {
        if !(o.is_nan() || o > 0.0) {
            *g = 0.0
        }
    });
}

fn for_chunks(values: &mut [f32], f: impl Fn(usize, &mut [f32]) + Send + Sync) {
    #[cfg(feature = "rayon")]
    if values.len() >= 2 * CHUNK {
        use rayon::prelude::*;
        values.par_chunks_mut(CHUNK).enumerate().for_each(|(i, chunk)| f(i * CHUNK, chunk));
        return;
    }
    f(0, values);
}

fn plain_f32(t: &FlexTensor) -> bool {
    t.dtype() == DType::F32 && t.layout().is_contiguous() && t.layout().start_offset() == 0
}

/// An owned, contiguous copy of `t` to write into (the tensor itself when nothing else shares it).
fn writable(t: FlexTensor) -> FlexTensor {
    if t.is_unique() {
        return t;
    }
    let n = t.layout().num_elements();
    let values: Vec<f32> = t.storage::<f32>()[..n].to_vec();
    FlexTensor::new(Bytes::from_elems(values), Layout::contiguous(t.layout().shape().clone()), DType::F32)
}

/// ReLU, or `Err(tensor)` back when it is not a contiguous f32 tensor.
pub(crate) fn relu(tensor: FlexTensor) -> Result<FlexTensor, FlexTensor> {
    if !plain_f32(&tensor) {
        return Err(tensor);
    }
    let n = tensor.layout().num_elements();
    let mut out = writable(tensor);
    for_chunks(&mut out.storage_mut::<f32>()[..n], |_, chunk| relu_in_place(chunk));
    Ok(out)
}

/// `grad` where `output > 0` (or NaN), else 0; or both back when they are not contiguous f32
/// tensors of one shape.
pub(crate) fn relu_backward(output: FlexTensor, grad: FlexTensor) -> Result<FlexTensor, (FlexTensor, FlexTensor)> {
    if !plain_f32(&output) || !plain_f32(&grad) || output.layout().shape() != grad.layout().shape() {
        return Err((output, grad));
    }
    let n = grad.layout().num_elements();
    let mut out = writable(grad);
    let mask: &[f32] = &output.storage::<f32>()[..n];
    for_chunks(&mut out.storage_mut::<f32>()[..n], |start, chunk| {
        relu_mask_in_place(&mask[start..start + chunk.len()], chunk)
    });
    Ok(out)
}
