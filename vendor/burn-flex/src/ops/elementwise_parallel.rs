//! ReLU and its backward, and the sum and product of two tensors of one shape (a residual
//! connection; the kinetic energy's square and its gradient), on contiguous f32 tensors, split across
//! threads and run with the widest vector instructions (added for trgl; see `vendor/README.md` in
//! trgl).
//!
//! burn-flex's generic element-wise path runs these single-threaded with SSE; in a CIFAR ResNet
//! step they touch every activation, which made them a few percent of the step.

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

// The same into fresh memory, for inputs that are shared (autodiff keeps ReLU's input for its
// backward pass, so the forward's input is always shared during training): one parallel pass instead
// of a single-threaded copy followed by the in-place pass.
wide!(fn relu_into = relu_into_body<T: Pod32>(values: &[T], out: &mut [Uninit<T>]));
#[inline(always)]
fn relu_into_body<T: Pod32>(values: &[T], out: &mut [Uninit<T>]) {
    out.iter_mut().zip(values).for_each(|(o, &x)| {
        o.write(bytemuck::cast(relu_value(bytemuck::cast(x))));
    });
}

wide!(fn relu_mask_into = relu_mask_into_body<T: Pod32>(output: &[T], grad: &[T], out: &mut [Uninit<T>]));
#[inline(always)]
fn relu_mask_into_body<T: Pod32>(output: &[T], grad: &[T], out: &mut [Uninit<T>]) {
    let zero: T = bytemuck::cast(0.0f32);
    out.iter_mut().zip(grad.iter().zip(output)).for_each(|(d, (&g, &o))| {
        let o: f32 = bytemuck::cast(o);
        d.write(if o.is_nan() || o > 0.0 { g } else { zero });
    });
}

/// The element-wise operations whose operands can trade places: IEEE addition and multiplication
/// commute exactly, so the result may be written into either operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Commutative {
    Add,
    Mul,
}

wide!(fn combine_in_place = combine_in_place_body<T: Pod32>(acc: &mut [T], other: &[T], op: Commutative));
#[inline(always)]
fn combine_in_place_body<T: Pod32>(acc: &mut [T], other: &[T], op: Commutative) {
    let (acc, other): (&mut [f32], &[f32]) = (bytemuck::cast_slice_mut(acc), bytemuck::cast_slice(other));
    let pairs = acc.iter_mut().zip(other);
    match op {
        Commutative::Add => pairs.for_each(|(a, &b)| *a += b),
        Commutative::Mul => pairs.for_each(|(a, &b)| *a *= b),
    }
}

wide!(fn combine_into = combine_into_body<T: Pod32>(lhs: &[T], rhs: &[T], out: &mut [Uninit<T>], op: Commutative));
#[inline(always)]
fn combine_into_body<T: Pod32>(lhs: &[T], rhs: &[T], out: &mut [Uninit<T>], op: Commutative) {
    let (lhs, rhs): (&[f32], &[f32]) = (bytemuck::cast_slice(lhs), bytemuck::cast_slice(rhs));
    let triples = out.iter_mut().zip(lhs.iter().zip(rhs));
    match op {
        Commutative::Add => triples.for_each(|(o, (&a, &b))| {
            o.write(bytemuck::cast(a + b));
        }),
        Commutative::Mul => triples.for_each(|(o, (&a, &b))| {
            o.write(bytemuck::cast(a * b));
        }),
    }
}

wide!(fn scalar_in_place = scalar_in_place_body<T: Pod32>(acc: &mut [T], value: f32, op: Commutative));
#[inline(always)]
fn scalar_in_place_body<T: Pod32>(acc: &mut [T], value: f32, op: Commutative) {
    let acc: &mut [f32] = bytemuck::cast_slice_mut(acc);
    match op {
        Commutative::Add => acc.iter_mut().for_each(|a| *a += value),
        Commutative::Mul => acc.iter_mut().for_each(|a| *a *= value),
    }
}

wide!(fn scalar_into = scalar_into_body<T: Pod32>(src: &[T], value: f32, out: &mut [Uninit<T>], op: Commutative));
#[inline(always)]
fn scalar_into_body<T: Pod32>(src: &[T], value: f32, out: &mut [Uninit<T>], op: Commutative) {
    let src: &[f32] = bytemuck::cast_slice(src);
    let pairs = out.iter_mut().zip(src);
    match op {
        Commutative::Add => pairs.for_each(|(o, &a)| {
            o.write(bytemuck::cast(a + value));
        }),
        Commutative::Mul => pairs.for_each(|(o, &a)| {
            o.write(bytemuck::cast(a * value));
        }),
    }
}

type Uninit<T> = core::mem::MaybeUninit<T>;

/// A new contiguous f32 tensor of `shape` whose chunks `f(start, chunk)` writes, in parallel.
fn fresh(shape: &burn_std::Shape, n: usize, f: impl Fn(usize, &mut [Uninit<f32>]) + Send + Sync) -> FlexTensor {
    let mut values: Vec<f32> = Vec::with_capacity(n);
    let spare = &mut values.spare_capacity_mut()[..n];
    #[cfg(feature = "rayon")]
    if n >= 2 * CHUNK {
        use rayon::prelude::*;
        spare.par_chunks_mut(CHUNK).enumerate().for_each(|(i, chunk)| f(i * CHUNK, chunk));
    } else {
        f(0, spare);
    }
    #[cfg(not(feature = "rayon"))]
    f(0, spare);
    // Safety: `f` initialised all `n` elements.
    unsafe { values.set_len(n) };
    FlexTensor::new(Bytes::from_elems(values), Layout::contiguous(shape.clone()), DType::F32)
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

/// ReLU, or `Err(tensor)` back when it is not a contiguous f32 tensor.
pub(crate) fn relu(tensor: FlexTensor) -> Result<FlexTensor, FlexTensor> {
    if !plain_f32(&tensor) {
        return Err(tensor);
    }
    let n = tensor.layout().num_elements();
    if !tensor.is_unique() {
        let values: &[f32] = &tensor.storage::<f32>()[..n];
        return Ok(fresh(tensor.layout().shape(), n, |start, out| relu_into(&values[start..start + out.len()], out)));
    }
    let mut out = tensor;
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
    let mask: &[f32] = &output.storage::<f32>()[..n];
    if !grad.is_unique() {
        let values: &[f32] = &grad.storage::<f32>()[..n];
        let range = |start: usize, len: usize| start..start + len;
        return Ok(fresh(grad.layout().shape(), n, |start, out| {
            relu_mask_into(&mask[range(start, out.len())], &values[range(start, out.len())], out)
        }));
    }
    let mut out = grad;
    for_chunks(&mut out.storage_mut::<f32>()[..n], |start, chunk| {
        relu_mask_in_place(&mask[start..start + chunk.len()], chunk)
    });
    Ok(out)
}

/// `lhs + rhs` or `lhs · rhs`, into whichever operand nothing else shares (else fresh memory); or
/// both back when they are not contiguous f32 tensors of one shape, or too small to split across
/// threads.
pub(crate) fn combine(lhs: FlexTensor, rhs: FlexTensor, op: Commutative) -> Result<FlexTensor, (FlexTensor, FlexTensor)> {
    let n = lhs.layout().num_elements();
    // One operand a single value broadcast to the other's shape (autodiff's gradient of a mean or a
    // sum, `expand`ed): the other scaled or shifted, as with a scalar.
    if lhs.layout().shape() == rhs.layout().shape() {
        if let Some(v) = broadcast_value(&lhs).filter(|_| plain_f32(&rhs) && n >= 2 * CHUNK) {
            return Ok(with_scalar(rhs, v, op));
        }
        if let Some(v) = broadcast_value(&rhs).filter(|_| plain_f32(&lhs) && n >= 2 * CHUNK) {
            return Ok(with_scalar(lhs, v, op));
        }
    }
    if !plain_f32(&lhs) || !plain_f32(&rhs) || lhs.layout().shape() != rhs.layout().shape() || n < 2 * CHUNK {
        return Err((lhs, rhs));
    }
    let (mut acc, other) = match (lhs.is_unique(), rhs.is_unique()) {
        (true, _) => (lhs, rhs),
        (false, true) => (rhs, lhs),
        (false, false) => {
            let (a, b): (&[f32], &[f32]) = (&lhs.storage::<f32>()[..n], &rhs.storage::<f32>()[..n]);
            return Ok(fresh(lhs.layout().shape(), n, |start, out| {
                let range = start..start + out.len();
                combine_into(&a[range.clone()], &b[range], out, op)
            }));
        }
    };
    let other: &[f32] = &other.storage::<f32>()[..n];
    for_chunks(&mut acc.storage_mut::<f32>()[..n], |start, chunk| combine_in_place(chunk, &other[start..start + chunk.len()], op));
    Ok(acc)
}

/// The value of an f32 tensor whose elements are all one stored value (every stride 0, as `expand`
/// makes of a single element).
fn broadcast_value(t: &FlexTensor) -> Option<f32> {
    let layout = t.layout();
    (t.dtype() == DType::F32 && layout.strides().iter().all(|&s| s == 0)).then(|| t.storage::<f32>()[layout.start_offset()])
}

/// `tensor + value` or `tensor · value` (as burn-flex's `scalar_op` computes them for f32), or
/// `Err(tensor)` back when it is not a contiguous f32 tensor large enough to split.
pub(crate) fn scalar(tensor: FlexTensor, value: f32, op: Commutative) -> Result<FlexTensor, FlexTensor> {
    if !plain_f32(&tensor) || tensor.layout().num_elements() < 2 * CHUNK {
        return Err(tensor);
    }
    Ok(with_scalar(tensor, value, op))
}

fn with_scalar(mut tensor: FlexTensor, value: f32, op: Commutative) -> FlexTensor {
    let n = tensor.layout().num_elements();
    if tensor.is_unique() {
        for_chunks(&mut tensor.storage_mut::<f32>()[..n], |_, chunk| scalar_in_place(chunk, value, op));
        return tensor;
    }
    let src: &[f32] = &tensor.storage::<f32>()[..n];
    fresh(tensor.layout().shape(), n, |start, out| scalar_into(&src[start..start + out.len()], value, out, op))
}
