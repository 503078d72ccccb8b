//! 2-D convolution on NCHW data as one im2col + GEMM per image, with both gradients computed the
//! same way (added for trgl; see `vendor/README.md` in trgl).
//!
//! For image `b` and group `g`, `col[(ci, ki, kj), (y, x)] = x[b, g·cg + ci, y·sh − ph + ki·dh, x·sw − pw + kj·dw]`
//! (0 outside the image) is a `[K, P]` matrix with `K = cg·kh·kw`, `P = oh·ow`, and the weight of the group
//! is a `[og, K]` matrix as stored (`[O, cg, kh, kw]` row-major). Then
//!
//! - forward:         `y_b,g [og, P] = W_g · col`
//! - input gradient:  `dcol [K, P] = W_gᵀ · dy_b,g`, then `dx_b` = col2im(`dcol`), the adjoint of im2col
//! - weight gradient: `dW_g [og, K] = Σ_b dy_b,g · colᵀ`
//!
//! Why not the generic paths: burn-flex's forward builds im2col tiles in NHWC after a single-threaded
//! layout copy; burn's default input gradient is a transposed convolution that scatters, and its default
//! weight gradient is a convolution whose "kernel" is the whole output gradient (a GEMM with N = kh·kw).
//! Here every product is a well-shaped GEMM on rows copied straight from NCHW, images run in parallel,
//! and the weight gradient's partial sums are added in a fixed order (deterministic for a given number
//! of threads).
//!
//! 3×3, stride-1, padding-1 convolutions with enough channels on planes from 8×8 up go to Winograd
//! instead ([`conv2d_winograd::tile_for`]; the weight gradient at ≤ 64 channels on planes from
//! 8×8), f32 and f64 only.

use alloc::vec;
use alloc::vec::Vec;
use burn_backend::DType;
use burn_backend::ops::ConvOptions;
use burn_backend::ops::conv::calculate_conv_output_size_asymmetric;
use burn_std::{Bytes, Shape, f16};
use num_traits::{One, Zero};

use super::module::{f32_to_half, half_to_f32};
use super::conv2d_winograd::{self, Tile};
use super::wide_simd::wide;
use crate::{FlexTensor, Layout};

/// Element types the GEMM kernels take natively; bf16 goes through f32.
pub(crate) trait GemmElement:
    burn_backend::Element + bytemuck::Pod + Copy + Zero + One + core::ops::AddAssign + Send + Sync + 'static
{
    const DTYPE: DType;

    /// [`conv2d_winograd`]'s forward convolution (or, with `adjoint`, input gradient from `input` =
    /// the output gradient), for the types it supports.
    fn winograd(_tile: Tile, _input: &[Self], _x_shape: &[usize], _weight: &[Self], _out_channels: usize, _adjoint: bool) -> Option<Vec<Self>> {
        None
    }

    /// [`conv2d_winograd`]'s weight gradient, for the types it supports.
    fn winograd_weight_gradient(_x: &[Self], _x_shape: &[usize], _dy: &[Self], _out_channels: usize) -> Option<Vec<Self>> {
        None
    }

    /// [`im2col_stride2`](super::im2col_stride2)'s im2col (`channels` planes `[h, w]` to `oh` rows
    /// of `w / 2`) where the type and CPU have it; `false`: nothing done.
    fn im2col_stride2(_h: usize, _w: usize, _oh: usize, _channels: usize, _x: &[Self], _col: &mut [Self]) -> bool {
        false
    }

    /// Its col2im, likewise.
    fn col2im_stride2(_h: usize, _w: usize, _oh: usize, _channels: usize, _col: &[Self], _dx: &mut [Self]) -> bool {
        false
    }
}
impl GemmElement for f32 {
    const DTYPE: DType = DType::F32;
    fn winograd(tile: Tile, input: &[Self], x_shape: &[usize], weight: &[Self], out_channels: usize, adjoint: bool) -> Option<Vec<Self>> {
        Some(conv2d_winograd::convolution_with(tile, input, x_shape, weight, out_channels, adjoint))
    }
    fn winograd_weight_gradient(x: &[Self], x_shape: &[usize], dy: &[Self], out_channels: usize) -> Option<Vec<Self>> {
        Some(conv2d_winograd::weight_gradient(x, x_shape, dy, out_channels))
    }
    fn im2col_stride2(h: usize, w: usize, oh: usize, channels: usize, x: &[Self], col: &mut [Self]) -> bool {
        super::im2col_stride2::im2col(h, w, oh, channels, x, col)
    }
    fn col2im_stride2(h: usize, w: usize, oh: usize, channels: usize, col: &[Self], dx: &mut [Self]) -> bool {
        super::im2col_stride2::col2im(h, w, oh, channels, col, dx)
    }
}
impl GemmElement for f64 {
    const DTYPE: DType = DType::F64;
    fn winograd(tile: Tile, input: &[Self], x_shape: &[usize], weight: &[Self], out_channels: usize, adjoint: bool) -> Option<Vec<Self>> {
        Some(conv2d_winograd::convolution_with(tile, input, x_shape, weight, out_channels, adjoint))
    }
    fn winograd_weight_gradient(x: &[Self], x_shape: &[usize], dy: &[Self], out_channels: usize) -> Option<Vec<Self>> {
        Some(conv2d_winograd::weight_gradient(x, x_shape, dy, out_channels))
    }
}
impl GemmElement for f16 {
    const DTYPE: DType = DType::F16;
}

/// Sizes of one convolution, from the input's and weight's shapes and the options.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    batch: usize,
    channels: usize,
    h: usize,
    w: usize,
    out_channels: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    stride: [usize; 2],
    pad: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
}

impl Geometry {
    fn new(x: &[usize], weight: &[usize], out: [usize; 2], options: &ConvOptions<2>) -> Self {
        Self {
            batch: x[0],
            channels: x[1],
            h: x[2],
            w: x[3],
            out_channels: weight[0],
            kh: weight[2],
            kw: weight[3],
            oh: out[0],
            ow: out[1],
            stride: options.stride,
            pad: options.padding_begin(),
            dilation: options.dilation,
            groups: options.groups,
        }
    }

    /// Output size of the forward pass (padding may differ at the two ends).
    fn output_size(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> [usize; 2] {
        core::array::from_fn(|i| {
            let (begin, end) = options.padding[i];
            let span = options.dilation[i] * (weight[2 + i] - 1) + 1;
            let padded = x[2 + i] + begin + end;
            // burn's formula would underflow here.
            assert!(
                padded >= span,
                "conv2d: kernel extent {span} exceeds the padded input size {padded}"
            );
            calculate_conv_output_size_asymmetric(weight[2 + i], options.stride[i], options.padding[i], options.dilation[i], x[2 + i])
        })
    }

    fn group_in(&self) -> usize {
        self.channels / self.groups
    }
    fn group_out(&self) -> usize {
        self.out_channels / self.groups
    }
    /// Rows of the im2col matrix of one group.
    fn k(&self) -> usize {
        self.group_in() * self.kh * self.kw
    }
    fn positions(&self) -> usize {
        self.oh * self.ow
    }
    fn image_in(&self) -> usize {
        self.channels * self.h * self.w
    }
    fn image_out(&self) -> usize {
        self.out_channels * self.positions()
    }

    /// The output columns `[x0, x1)` that kernel column `kj` reads inside the image, and the input
    /// column of `x0` (the next ones follow at the stride).
    #[inline]
    fn valid_columns(&self, kj: usize) -> (usize, usize, usize) {
        let (s, shift) = (self.stride[1], kj * self.dilation[1]);
        // x·s + shift − pad ∈ [0, w)  ⇔  x ∈ [⌈(pad − shift)/s⌉, ⌊(w − 1 + pad − shift)/s⌋]
        let x0 = self.pad[1].saturating_sub(shift).div_ceil(s).min(self.ow);
        let x1 = match (self.w + self.pad[1]).checked_sub(shift + 1) {
            Some(last) => (last / s + 1).min(self.ow).max(x0),
            None => x0,
        };
        if x0 == x1 {
            return (x0, x0, 0);
        }
        (x0, x1, x0 * s + shift - self.pad[1])
    }

    /// A 3×3 kernel at stride 2 (dilation 1, padding 1 before) whose output is half the input's
    /// even width: what `im2col_stride2.rs` handles (for planes up to 32 wide).
    fn halves_width_3x3(&self) -> bool {
        [self.kh, self.kw] == [3, 3]
            && self.stride == [2, 2]
            && self.dilation == [1, 1]
            && self.pad == [1, 1]
            && self.w % 2 == 0
            && 2 * self.ow == self.w
    }

    /// Stride 1 and an output as large as the input ("same" padding): then a kernel offset is one
    /// constant shift of the flattened plane, and im2col/col2im work on whole planes instead of rows.
    fn same_size(&self) -> bool {
        self.stride == [1, 1] && self.oh == self.h && self.ow == self.w
    }

    /// For [`Self::same_size`]: the shift of kernel position `(ki, kj)` and the rows `[ya, yb)` and
    /// columns `[xa, xb)` of the output that read inside the image (`ya == yb` when none do).
    #[inline]
    fn plane_shift(&self, ki: usize, kj: usize) -> (isize, [usize; 4]) {
        let dy = (ki * self.dilation[0]) as isize - self.pad[0] as isize;
        let dx = (kj * self.dilation[1]) as isize - self.pad[1] as isize;
        let clamp = |v: isize, n: usize| v.clamp(0, n as isize) as usize;
        let (ya, yb) = (clamp(-dy, self.h), clamp(self.h as isize - dy, self.h));
        let (xa, xb) = (clamp(-dx, self.w), clamp(self.w as isize - dx, self.w));
        let empty = ya >= yb || xa >= xb;
        (dy * self.w as isize + dx, if empty { [0, 0, 0, 0] } else { [ya, yb, xa, xb] })
    }

    /// The input row read by output row `y` at kernel row `ki`, if inside the image.
    fn input_row(&self, y: usize, ki: usize) -> Option<usize> {
        (y * self.stride[0] + ki * self.dilation[0])
            .checked_sub(self.pad[0])
            .filter(|&iy| iy < self.h)
    }
}

/// Fills `col` (`[K, P]`) from the channels of one group of one image (`x`: `[cg, h, w]`).
fn im2col<T: GemmElement>(geo: &Geometry, x: &[T], col: &mut [T]) {
    if !(geo.halves_width_3x3() && T::im2col_stride2(geo.h, geo.w, geo.oh, geo.group_in(), x, col)) {
        im2col_rows(geo, x, col);
    }
}
wide!(fn im2col_rows = im2col_body<T: GemmElement>(geo: &Geometry, x: &[T], col: &mut [T]));

#[inline(always)]
fn im2col_body<T: GemmElement>(geo: &Geometry, x: &[T], col: &mut [T]) {
    if geo.same_size() {
        return im2col_same_size(geo, x, col);
    }
    let (p, plane) = (geo.positions(), geo.h * geo.w);
    let mut row = 0;
    for ci in 0..geo.group_in() {
        let src = &x[ci * plane..(ci + 1) * plane];
        for ki in 0..geo.kh {
            for kj in 0..geo.kw {
                let dst = &mut col[row * p..(row + 1) * p];
                row += 1;
                for y in 0..geo.oh {
                    let out = &mut dst[y * geo.ow..(y + 1) * geo.ow];
                    let Some(iy) = geo.input_row(y, ki) else {
                        out.fill(T::zero());
                        continue;
                    };
                    let src_row = &src[iy * geo.w..(iy + 1) * geo.w];
                    let (x0, x1, first) = geo.valid_columns(kj);
                    out[..x0].fill(T::zero());
                    if geo.stride[1] == 1 {
                        out[x0..x1].copy_from_slice(&src_row[first..first + (x1 - x0)]);
                    } else {
                        let s = geo.stride[1];
                        for (o, &v) in out[x0..x1].iter_mut().zip(src_row[first..].iter().step_by(s)) {
                            *o = v;
                        }
                    }
                    out[x1..].fill(T::zero());
                }
            }
        }
    }
}

/// [`im2col`] for [`Geometry::same_size`]: one copy per kernel position and channel (rows of a few
/// elements made one call each to memcpy/memset, which cost more than the GEMM at 8×8 planes), then
/// the columns that wrapped around a row edge are zeroed.
#[inline(always)]
fn im2col_same_size<T: GemmElement>(geo: &Geometry, x: &[T], col: &mut [T]) {
    let (w, plane) = (geo.w, geo.h * geo.w);
    let mut row = 0;
    for ci in 0..geo.group_in() {
        let src = &x[ci * plane..(ci + 1) * plane];
        for ki in 0..geo.kh {
            for kj in 0..geo.kw {
                let dst = &mut col[row * plane..(row + 1) * plane];
                row += 1;
                let (shift, [ya, yb, xa, xb]) = geo.plane_shift(ki, kj);
                if ya == yb {
                    dst.fill(T::zero());
                    continue;
                }
                let (start, end) = (ya * w + xa, (yb - 1) * w + xb);
                let from = (start as isize + shift) as usize;
                dst[..start].fill(T::zero());
                dst[start..end].copy_from_slice(&src[from..from + (end - start)]);
                dst[end..].fill(T::zero());
                zero_wrapped_columns(dst, w, [ya, yb, xa, xb]);
            }
        }
    }
}

/// Zeroes columns `[0, xa)` and `[xb, w)` of rows `[ya, yb)` of a plane: a few elements per row,
/// written column by column (a fill per row became a memset call per row, thousands per image).
#[inline(always)]
fn zero_wrapped_columns<T: GemmElement>(plane: &mut [T], w: usize, [ya, yb, xa, xb]: [usize; 4]) {
    for x in (0..xa).chain(xb..w) {
        for y in ya..yb {
            plane[y * w + x] = T::zero();
        }
    }
}

/// [`col2im`] for [`Geometry::same_size`]: the wrapped columns of `col` are zeroed (it is scratch),
/// then each kernel position adds one contiguous range.
#[inline(always)]
fn col2im_same_size<T: GemmElement>(geo: &Geometry, col: &mut [T], dx: &mut [T]) {
    let (w, plane) = (geo.w, geo.h * geo.w);
    let mut row = 0;
    for ci in 0..geo.group_in() {
        let dst = &mut dx[ci * plane..(ci + 1) * plane];
        for ki in 0..geo.kh {
            for kj in 0..geo.kw {
                let src = &mut col[row * plane..(row + 1) * plane];
                row += 1;
                let (shift, [ya, yb, xa, xb]) = geo.plane_shift(ki, kj);
                if ya == yb {
                    continue;
                }
                zero_wrapped_columns(src, w, [ya, yb, xa, xb]);
                let (start, end) = (ya * w + xa, (yb - 1) * w + xb);
                let to = (start as isize + shift) as usize;
                for (d, &s) in dst[to..to + (end - start)].iter_mut().zip(&src[start..end]) {
                    *d += s;
                }
            }
        }
    }
}

/// Adds `col` (`[K, P]`) back onto the channels of one group of one image (`dx`: `[cg, h, w]`): the
/// adjoint of [`im2col`].
fn col2im<T: GemmElement>(geo: &Geometry, col: &mut [T], dx: &mut [T]) {
    if !(geo.halves_width_3x3() && T::col2im_stride2(geo.h, geo.w, geo.oh, geo.group_in(), col, dx)) {
        col2im_rows(geo, col, dx);
    }
}
wide!(fn col2im_rows = col2im_body<T: GemmElement>(geo: &Geometry, col: &mut [T], dx: &mut [T]));

#[inline(always)]
fn col2im_body<T: GemmElement>(geo: &Geometry, col: &mut [T], dx: &mut [T]) {
    if geo.same_size() {
        return col2im_same_size(geo, col, dx);
    }
    let (p, plane) = (geo.positions(), geo.h * geo.w);
    let mut row = 0;
    for ci in 0..geo.group_in() {
        let dst = &mut dx[ci * plane..(ci + 1) * plane];
        for ki in 0..geo.kh {
            for kj in 0..geo.kw {
                let src = &col[row * p..(row + 1) * p];
                row += 1;
                for y in 0..geo.oh {
                    let Some(iy) = geo.input_row(y, ki) else { continue };
                    let dst_row = &mut dst[iy * geo.w..(iy + 1) * geo.w];
                    let src_row = &src[y * geo.ow..(y + 1) * geo.ow];
                    let (x0, x1, first) = geo.valid_columns(kj);
                    let s = geo.stride[1];
                    for (d, &v) in dst_row[first..].iter_mut().step_by(s).zip(&src_row[x0..x1]) {
                        *d += v;
                    }
                }
            }
        }
    }
}

/// A row-major matrix view for [`gemm`]: pointer, row stride, column stride.
#[derive(Clone, Copy)]
pub(super) struct Mat<T> {
    ptr: *const T,
    rs: usize,
    cs: usize,
}

impl<T> Mat<T> {
    /// A row-major matrix whose rows start `row_stride` elements apart.
    pub(super) fn rows(ptr: *const T, row_stride: usize) -> Self {
        Self { ptr, rs: row_stride, cs: 1 }
    }
    /// The transpose of a row-major `[rows, cols]` matrix.
    pub(super) fn transposed(ptr: *const T, cols: usize) -> Self {
        Self { ptr, rs: 1, cs: cols }
    }
}

/// `dst [m, n] (row-major) = (accumulate ? dst : 0) + lhs [m, k] · rhs [k, n]`.
///
/// # Safety
/// The views must cover `m × k` and `k × n` elements and `dst` `m × n`.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm<T: GemmElement>(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut T,
    accumulate: bool,
    lhs: Mat<T>,
    rhs: Mat<T>,
    parallel: bool,
) {
    // Safety: forwarded.
    unsafe { gemm_strided(m, n, k, Mat::rows(dst, n), accumulate, lhs, rhs, parallel) }
}

/// [`gemm`] into a destination view with any strides (written through its pointer).
///
/// # Safety
/// As [`gemm`], with `dst` covering its `m × n` view.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm_strided<T: GemmElement>(
    m: usize,
    n: usize,
    k: usize,
    dst: Mat<T>,
    accumulate: bool,
    lhs: Mat<T>,
    rhs: Mat<T>,
    parallel: bool,
) {
    let parallelism = if parallel {
        #[cfg(feature = "rayon")]
        {
            gemm::Parallelism::Rayon(0)
        }
        #[cfg(not(feature = "rayon"))]
        {
            gemm::Parallelism::None
        }
    } else {
        gemm::Parallelism::None
    };
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.ptr.cast_mut(),
            dst.cs as isize,
            dst.rs as isize,
            accumulate,
            lhs.ptr,
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.ptr,
            rhs.cs as isize,
            rhs.rs as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// `dst [cols, rows] = srcᵀ` for a row-major `src [rows, cols]`, in cache-sized blocks.
fn transpose<T: Copy>(src: &[T], rows: usize, cols: usize, dst: &mut [T]) {
    const BLOCK: usize = 32;
    for r0 in (0..rows).step_by(BLOCK) {
        for c0 in (0..cols).step_by(BLOCK) {
            for r in r0..(r0 + BLOCK).min(rows) {
                for c in c0..(c0 + BLOCK).min(cols) {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
}

pub(super) fn threads() -> usize {
    #[cfg(feature = "rayon")]
    {
        rayon::current_num_threads().max(1)
    }
    #[cfg(not(feature = "rayon"))]
    {
        1
    }
}

/// Images per group for `batch` images and at most `max` per group: a number of groups that is a
/// multiple of the threads (so at most `batch / threads` rounded up per group: a group for every
/// thread), as even as possible — with 5 groups of 28 of a batch of 128 on two threads one thread ran
/// 72 images while the other waited after 56; 6 groups of 22 or fewer give 66 and 62.
pub(super) fn balanced_group(batch: usize, max: usize) -> usize {
    let groups = batch.div_ceil(max.max(1)).max(1).next_multiple_of(threads());
    batch.div_ceil(groups).max(1)
}

pub(super) type Uninit<T> = core::mem::MaybeUninit<T>;

/// Zero-fills a chunk of fresh output and returns it initialised. Each thread writes its own pages
/// before reading them: reading a fresh zeroed allocation first maps the shared zero page, and the
/// copy-on-write that follows costs a TLB shootdown across cores (the largest cost of the input
/// gradient before this).
#[inline(always)]
fn zeroed<T: GemmElement>(chunk: &mut [Uninit<T>]) -> &mut [T] {
    chunk.iter_mut().for_each(|e| {
        e.write(T::zero());
    });
    // Safety: every element of the chunk was just initialised.
    unsafe { &mut *(chunk as *mut [Uninit<T>] as *mut [T]) }
}

#[cfg(feature = "std")]
std::thread_local! {
    /// Per-thread scratch (im2col matrices), kept between calls: a fresh one per call cost a
    /// zero-fill of up to a few MiB each time.
    static SCRATCH: core::cell::RefCell<Vec<f64>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// A cache line in scratch words (`f64`).
const LINE_WORDS: usize = 8;

/// Runs `f` with a scratch buffer of `len` elements, contents unspecified. A thread that is already
/// inside (a nested rayon job on the same thread) gets a fresh buffer.
pub(super) fn with_scratch<T: GemmElement, R>(len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    let mut f = Some(f);
    #[cfg(feature = "std")]
    {
        let done = SCRATCH.with(|cell| {
            let mut buf = cell.try_borrow_mut().ok()?;
            let bytes = len * core::mem::size_of::<T>();
            // Cache-line aligned: the kernels' full-width vector loads and stores then never
            // straddle two lines.
            let words = bytes.div_ceil(8) + LINE_WORDS;
            if buf.len() < words {
                buf.resize(words, 0.0);
            }
            let skip = buf.as_ptr().align_offset(LINE_WORDS * 8).min(LINE_WORDS);
            let raw: &mut [u8] = bytemuck::cast_slice_mut(&mut buf[skip..words]);
            let typed: &mut [T] = bytemuck::cast_slice_mut(&mut raw[..bytes]);
            f.take().map(|f| f(typed))
        });
        if let Some(out) = done {
            return out;
        }
    }
    let mut buf = vec![T::zero(); len];
    (f.take().expect("scratch closure already run"))(&mut buf)
}

/// Builds a `[batch, chunk_len]` buffer by running `f(image, chunk, parallel_gemm)` on every image's
/// chunk of it (fresh memory: `f` initialises all of it, see [`zeroed`]). Images run in parallel when
/// there are enough of them, otherwise one after the other with the GEMMs themselves parallel.
fn per_image<T: GemmElement>(
    batch: usize,
    chunk_len: usize,
    f: impl Fn(usize, &mut [Uninit<T>], bool) + Send + Sync,
) -> Vec<T> {
    per_images(batch, 1, chunk_len, f)
}

/// [`per_image`] for groups of `group` consecutive images (the last one may be smaller): `f(first
/// image, chunk of the group's images, parallel_gemm)`.
pub(super) fn per_images<T: GemmElement>(
    batch: usize,
    group: usize,
    image_len: usize,
    f: impl Fn(usize, &mut [Uninit<T>], bool) + Send + Sync,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(batch * image_len);
    if image_len == 0 || batch == 0 {
        out.resize(batch * image_len, T::zero());
        return out;
    }
    let group = group.max(1);
    let chunk_len = group * image_len;
    let spare = &mut out.spare_capacity_mut()[..batch * image_len];
    #[cfg(feature = "rayon")]
    if batch.div_ceil(group) >= threads() && threads() > 1 {
        use rayon::prelude::*;
        spare.par_chunks_mut(chunk_len).enumerate().for_each(|(i, chunk)| f(i * group, chunk, false));
        // Safety: `f` initialised every chunk.
        unsafe { out.set_len(batch * image_len) };
        return out;
    }
    for (i, chunk) in spare.chunks_mut(chunk_len).enumerate() {
        f(i * group, chunk, threads() > 1);
    }
    // Safety: `f` initialised every chunk.
    unsafe { out.set_len(batch * image_len) };
    out
}

/// `Σ_r partial(start_r, end_r)` over contiguous ranges of the batch's images, one per thread (the
/// ranges run in parallel), added in range order: the same result whatever the scheduling, for a
/// given number of threads.
pub(super) fn sum_over_image_ranges<T: GemmElement>(batch: usize, partial: impl Fn(usize, usize) -> Vec<T> + Send + Sync) -> Vec<T> {
    let ranges = batch.min(threads()).max(1);
    let range = |r: usize| partial(r * batch / ranges, (r + 1) * batch / ranges);
    #[cfg(feature = "rayon")]
    let partials: Vec<Vec<T>> = {
        use rayon::prelude::*;
        (0..ranges).into_par_iter().map(range).collect()
    };
    #[cfg(not(feature = "rayon"))]
    let partials: Vec<Vec<T>> = (0..ranges).map(range).collect();
    let mut partials = partials.into_iter();
    let mut sum = partials.next().expect("at least one range");
    for part in partials {
        sum.iter_mut().zip(&part).for_each(|(a, &b)| *a += b);
    }
    sum
}

fn contiguous<T: GemmElement>(t: &FlexTensor) -> FlexTensor {
    let t = t.to_contiguous();
    assert_eq!(t.dtype(), T::DTYPE, "conv2d: operands of different dtypes");
    t
}

fn forward_im2col<T: GemmElement>(geo: &Geometry, xd: &[T], wd: &[T]) -> Vec<T> {
    let (k, p, og, cg) = (geo.k(), geo.positions(), geo.group_out(), geo.group_in());
    per_image(geo.batch, geo.image_out(), |b, y: &mut [Uninit<T>], parallel| {
        let image = &xd[b * geo.image_in()..(b + 1) * geo.image_in()];
        with_scratch(k * p, |col: &mut [T]| {
            for g in 0..geo.groups {
                im2col(geo, &image[g * cg * geo.h * geo.w..(g + 1) * cg * geo.h * geo.w], col);
                let dst = y[g * og * p..(g + 1) * og * p].as_mut_ptr().cast::<T>();
                // Safety: W_g is [og, K], col [K, P], dst [og, P], all inside their buffers; the
                // GEMM writes (does not read) every element of dst, which initialises y.
                unsafe {
                    gemm(og, p, k, dst, false, Mat::rows(wd[g * og * k..].as_ptr(), k), Mat::rows(col.as_ptr(), p), parallel)
                };
            }
        });
    })
}

fn forward_typed<T: GemmElement>(
    x: FlexTensor,
    weight: FlexTensor,
    bias: Option<FlexTensor>,
    options: &ConvOptions<2>,
) -> FlexTensor {
    let (x, weight) = (contiguous::<T>(&x), contiguous::<T>(&weight));
    let (xs, ws) = (x.layout().shape().to_vec(), weight.layout().shape().to_vec());
    let geo = Geometry::new(&xs, &ws, Geometry::output_size(&xs, &ws, options), options);
    let (xd, wd): (&[T], &[T]) = (x.storage(), weight.storage());
    let p = geo.positions();
    let winograd = conv2d_winograd::tile_for(&xs, &ws, options).and_then(|t| T::winograd(t, xd, &xs, wd, geo.out_channels, false));
    let mut out = winograd.unwrap_or_else(|| forward_im2col(&geo, xd, wd));
    if let Some(bias) = bias {
        let bias = contiguous::<T>(&bias);
        let bd: &[T] = bias.storage();
        for image in out.chunks_mut(geo.image_out()) {
            for (plane, &v) in image.chunks_mut(p).zip(bd) {
                plane.iter_mut().for_each(|e| *e += v);
            }
        }
    }
    let shape = Shape::from(vec![geo.batch, geo.out_channels, geo.oh, geo.ow]);
    FlexTensor::new(Bytes::from_elems(out), Layout::contiguous(shape), T::DTYPE)
}

fn x_backward_im2col<T: GemmElement>(geo: &Geometry, wd: &[T], dyd: &[T]) -> Vec<T> {
    let (k, p, og, cg) = (geo.k(), geo.positions(), geo.group_out(), geo.group_in());
    let plane = geo.h * geo.w;
    per_image(geo.batch, geo.image_in(), |b, dx_b: &mut [Uninit<T>], parallel| {
        let dx_b = zeroed(dx_b);
        let dy_b = &dyd[b * geo.image_out()..(b + 1) * geo.image_out()];
        with_scratch(k * p, |dcol: &mut [T]| {
            for g in 0..geo.groups {
                // Safety: W_gᵀ is [K, og], dy_b,g [og, P], dcol [K, P].
                unsafe {
                    gemm(
                        k,
                        p,
                        og,
                        dcol.as_mut_ptr(),
                        false,
                        Mat::transposed(wd[g * og * k..].as_ptr(), k),
                        Mat::rows(dy_b[g * og * p..].as_ptr(), p),
                        parallel,
                    )
                };
                col2im(geo, dcol, &mut dx_b[g * cg * plane..(g + 1) * cg * plane]);
            }
        });
    })
}

fn x_backward_typed<T: GemmElement>(
    x_shape: &[usize],
    weight: FlexTensor,
    output_grad: FlexTensor,
    options: &ConvOptions<2>,
) -> FlexTensor {
    let (weight, dy) = (contiguous::<T>(&weight), contiguous::<T>(&output_grad));
    let ws = weight.layout().shape().to_vec();
    let ys = dy.layout().shape().to_vec();
    let geo = Geometry::new(x_shape, &ws, [ys[2], ys[3]], options);
    let (wd, dyd): (&[T], &[T]) = (weight.storage(), dy.storage());
    let winograd = conv2d_winograd::tile_for(x_shape, &ws, options).and_then(|t| T::winograd(t, dyd, x_shape, wd, geo.out_channels, true));
    let dx = winograd.unwrap_or_else(|| x_backward_im2col(&geo, wd, dyd));
    let shape = Shape::from(x_shape.to_vec());
    FlexTensor::new(Bytes::from_elems(dx), Layout::contiguous(shape), T::DTYPE)
}

fn weight_backward_typed<T: GemmElement>(
    x: FlexTensor,
    weight_shape: &[usize],
    output_grad: FlexTensor,
    options: &ConvOptions<2>,
) -> FlexTensor {
    let (x, dy) = (contiguous::<T>(&x), contiguous::<T>(&output_grad));
    let xs = x.layout().shape().to_vec();
    let ys = dy.layout().shape().to_vec();
    let geo = Geometry::new(&xs, weight_shape, [ys[2], ys[3]], options);
    let (xd, dyd): (&[T], &[T]) = (x.storage(), dy.storage());
    if conv2d_winograd::applies_to_weight_gradient(&xs, weight_shape, options)
        && let Some(dw) = T::winograd_weight_gradient(xd, &xs, dyd, geo.out_channels)
    {
        let shape = Shape::from(weight_shape.to_vec());
        return FlexTensor::new(Bytes::from_elems(dw), Layout::contiguous(shape), T::DTYPE);
    }
    let (k, p, og, cg) = (geo.k(), geo.positions(), geo.group_out(), geo.group_in());
    let w_len = geo.out_channels * k;
    // Per group, dW_gᵀ [K, og] = col [K, P] · dy_b,gᵀ [P, og] (dyᵀ read in place, dW transposed once
    // at the end): about 3× faster than dW = dy · colᵀ, whose right-hand side is strided along its
    // long dimension (measured with gemm 0.19's AVX-512 kernels at 16 channels).
    // Deterministic for a given number of threads (see `sum_over_image_ranges`).
    let parallel_gemm = geo.batch < threads();
    let dwt = sum_over_image_ranges(geo.batch, |start, end| {
        let mut dwt = vec![T::zero(); w_len];
        with_scratch(k * p, |col: &mut [T]| {
            for b in start..end {
                let image = &xd[b * geo.image_in()..(b + 1) * geo.image_in()];
                let dy_b = &dyd[b * geo.image_out()..(b + 1) * geo.image_out()];
                for g in 0..geo.groups {
                    im2col(&geo, &image[g * cg * geo.h * geo.w..(g + 1) * cg * geo.h * geo.w], col);
                    // Safety: col is [K, P], dyᵀ [P, og], dW_gᵀ [K, og].
                    unsafe {
                        gemm(
                            k,
                            og,
                            p,
                            dwt[g * og * k..].as_mut_ptr(),
                            b > start,
                            Mat::rows(col.as_ptr(), p),
                            Mat::transposed(dy_b[g * og * p..].as_ptr(), p),
                            parallel_gemm,
                        )
                    };
                }
            }
        });
        dwt
    });
    let mut dw = vec![T::zero(); w_len];
    for g in 0..geo.groups {
        let range = g * og * k..(g + 1) * og * k;
        transpose(&dwt[range.clone()], k, og, &mut dw[range]);
    }
    let shape = Shape::from(weight_shape.to_vec());
    FlexTensor::new(Bytes::from_elems(dw), Layout::contiguous(shape), T::DTYPE)
}

/// Forward 2-D convolution (any stride, padding, dilation, groups; f32/f64/f16/bf16).
pub(crate) fn conv2d(
    x: FlexTensor,
    weight: FlexTensor,
    bias: Option<FlexTensor>,
    options: &ConvOptions<2>,
) -> FlexTensor {
    match x.dtype() {
        DType::F32 => forward_typed::<f32>(x, weight, bias, options),
        DType::F64 => forward_typed::<f64>(x, weight, bias, options),
        DType::F16 => forward_typed::<f16>(x, weight, bias, options),
        DType::BF16 => f32_to_half(
            forward_typed::<f32>(half_to_f32(x), half_to_f32(weight), bias.map(half_to_f32), options),
            DType::BF16,
        ),
        dtype => panic!("conv2d: unsupported dtype {:?}", dtype),
    }
}

/// Gradient of [`conv2d`] with respect to its input, of shape `x_shape`.
pub(crate) fn conv2d_x_backward(
    x_shape: &[usize],
    weight: FlexTensor,
    output_grad: FlexTensor,
    options: &ConvOptions<2>,
) -> FlexTensor {
    match weight.dtype() {
        DType::F32 => x_backward_typed::<f32>(x_shape, weight, output_grad, options),
        DType::F64 => x_backward_typed::<f64>(x_shape, weight, output_grad, options),
        DType::F16 => x_backward_typed::<f16>(x_shape, weight, output_grad, options),
        DType::BF16 => f32_to_half(
            x_backward_typed::<f32>(x_shape, half_to_f32(weight), half_to_f32(output_grad), options),
            DType::BF16,
        ),
        dtype => panic!("conv2d_x_backward: unsupported dtype {:?}", dtype),
    }
}

/// Gradient of [`conv2d`] with respect to its weight, of shape `weight_shape`.
pub(crate) fn conv2d_weight_backward(
    x: FlexTensor,
    weight_shape: &[usize],
    output_grad: FlexTensor,
    options: &ConvOptions<2>,
) -> FlexTensor {
    match x.dtype() {
        DType::F32 => weight_backward_typed::<f32>(x, weight_shape, output_grad, options),
        DType::F64 => weight_backward_typed::<f64>(x, weight_shape, output_grad, options),
        DType::F16 => weight_backward_typed::<f16>(x, weight_shape, output_grad, options),
        DType::BF16 => f32_to_half(
            weight_backward_typed::<f32>(half_to_f32(x), weight_shape, half_to_f32(output_grad), options),
            DType::BF16,
        ),
        dtype => panic!("conv2d_weight_backward: unsupported dtype {:?}", dtype),
    }
}
