//! 3×3, stride-1, padding-1 convolutions as Winograd F(4×4, 3×3) (Lavin & Gray 2016; added for trgl,
//! see `vendor/README.md` in trgl): each 4×4 block of outputs from a 6×6 block of input, 36
//! multiplications per 16 outputs where direct convolution takes 144 and F(2×2, 3×3) 64. Used on
//! planes below 16×16 (the last stage of a CIFAR ResNet), and on every plane where the CPU has AVX2
//! but not AVX-512, see `conv2d_winograd::tile_for`; there `winograd_rows_f4.rs` runs it fused on
//! planes 8, 16 or 32 wide.
//!
//! With `V = Bᵀ d B` (input tile), `U = G g Gᵀ` (filter) and `Y = Aᵀ (Σ_ci U ⊙ V) A`, the sum over
//! input channels is 36 products `M_ξ [O, tiles] = U_ξ [O, C] · V_ξ [C, tiles]` (`winograd_gemm`).
//! The input gradient is the same convolution of the output gradient with the flipped,
//! channel-swapped filter.
//!
//! Layout: the planes of one channel of a group of images are stacked one below the other, and every
//! transform step is one element-wise loop over all the stack's tiles: shifts by one tile, or by one
//! row of tiles, replace the overlapping 6×6 windows, and where a shift would cross into the next row
//! of tiles or image a mask ([`neighbours`]) substitutes the zero padding. So the loops stay long on
//! small planes too: an 8×8 plane has only 2×2 tiles, but a group has hundreds of them.
//!
//! Rounding: `Bᵀ` and `Aᵀ` have small integer entries (up to 8), `G` fractions (1/4, 1/6, 1/12,
//! 1/24); the filter transform runs in f64. Errors are a few units in the last place of the
//! largest terms, as with cuDNN's and oneDNN's F(4×4, 3×3).

use alloc::vec;
use alloc::vec::Vec;
use burn_backend::ops::ConvOptions;

use super::conv2d_gemm::{Uninit, balanced_group, per_images, sum_over_image_ranges, threads, with_scratch};
use super::conv2d_winograd::{ROW_PAD_BYTES, WinogradElement, is_winograd_shape, rows_apart, scatter_positions, weight_products};
use super::wide_simd::wide;
use super::winograd_gemm::{COLUMNS, products};

/// Bytes of transformed input and products per group of images: about one core's L2 here (2 MiB).
/// Smaller groups were slower at 8×8 (the transforms' loops get short: 2.2 ms → 4.4 ms at 256 KiB),
/// larger ones no faster.
const GROUP_BYTES: usize = 2 << 20;

/// Images whose transformed input and products (`positions × channels` rows of their tiles) fit in
/// [`GROUP_BYTES`], at least one.
fn images_per_group<T>(positions: usize, channels: usize, tiles_per_image: usize) -> usize {
    (GROUP_BYTES / (positions * channels * tiles_per_image * core::mem::size_of::<T>())).max(1)
}

/// Smallest plane side taken: measured at 8×8 (64 channels, batch 128: 1.15–1.2× faster than im2col,
/// `examples/conv_ops.rs` in trgl); planes of 16×16 and more go to F(2×2, 3×3), which was as fast
/// or faster there.
const MIN_SIDE: usize = 8;

/// Whether F(4×4, 3×3) (`conv2d_winograd::convolution_with`) computes this convolution and its input gradient (`x`: `[N, C, H, W]`,
/// `weight`: `[O, C, 3, 3]`).
pub(crate) fn applies(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> bool {
    is_winograd_shape(x, weight, options)
        && x[2] >= MIN_SIDE
        && x[3] >= MIN_SIDE
        && has_fused_multiply_add()
}

/// The products use fused multiply-adds, a library call on x86-64 CPUs without them.
fn has_fused_multiply_add() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    return super::wide_simd::has_avx2();
    #[allow(unreachable_code)]
    true
}

/// Tiles of `images` planes of `h × w` stacked one below the other: tile `(i, ty, tx)` is column
/// `(i·th + ty)·tw + tx` of the transformed matrices.
#[derive(Clone, Copy)]
struct Stack {
    images: usize,
    h: usize,
    w: usize,
    th: usize,
    tw: usize,
}

impl Stack {
    fn new(images: usize, h: usize, w: usize) -> Self {
        Self { images, h, w, th: h.div_ceil(4), tw: w.div_ceil(4) }
    }
    fn per_image(&self) -> usize {
        self.th * self.tw
    }
    fn len(&self) -> usize {
        self.images * self.per_image()
    }
}

fn constant<T: WinogradElement>(v: f64) -> T {
    T::from(v).expect("small constants are representable")
}

/// The filter transform `G` (6×3) of F(4×4, 3×3).
const FILTER: [[f64; 3]; 6] = [
    [1.0 / 4.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];

/// `f(pair)` for every filter `pair < pairs`, in order, split across threads where rayon is on (the
/// f64 filter transforms: 4096 filters at 64 channels took a millisecond on one thread).
fn per_filter<R: Send>(pairs: usize, f: impl Fn(usize) -> R + Send + Sync) -> Vec<R> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        (0..pairs).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "rayon"))]
    {
        (0..pairs).map(f).collect()
    }
}

/// `U_ξ [rows, cols] = G g Gᵀ` for every filter `g` of `weight` (`[O, C, 3, 3]`), stored
/// `[36, rows, cols]`, or with `by_input` `[36, cols, rows]` (what the fused kernels of
/// `winograd_rows_f4.rs` broadcast from). With `adjoint`, the filter of the input gradient:
/// `g'[c, o] = flip(g[o, c])`.
pub(super) fn transform_filter<T: WinogradElement>(weight: &[T], out_channels: usize, in_channels: usize, adjoint: bool, by_input: bool) -> Vec<T> {
    let (rows, cols) = if adjoint { (in_channels, out_channels) } else { (out_channels, in_channels) };
    // `G g Gᵀ` of one filter, in f64 (4096 of them at 64 channels: a millisecond on one thread,
    // so the filters are split across threads and only the scatter into `U` runs alone).
    let one = |pair: usize| -> [T; 36] {
        let k = &weight[pair * 9..][..9];
        let g = |i: usize, j: usize| {
            let v = if adjoint { k[(2 - i) * 3 + 2 - j] } else { k[i * 3 + j] };
            num_traits::ToPrimitive::to_f64(&v).expect("float to f64")
        };
        let gg: [[f64; 3]; 6] = core::array::from_fn(|i| core::array::from_fn(|j| (0..3).map(|k| FILTER[i][k] * g(k, j)).sum()));
        core::array::from_fn(|xi| constant((0..3).map(|k| gg[xi / 6][k] * FILTER[xi % 6][k]).sum()))
    };
    let filters = per_filter(out_channels * in_channels, one);
    // The transposed layout is the other orientation's scatter: `[36, cols, rows]` of `g` is
    // `[36, rows, cols]` of the channel-swapped filter, which `adjoint` reads.
    if by_input { scatter_positions(&filters, cols, rows, in_channels, !adjoint) } else { scatter_positions(&filters, rows, cols, in_channels, adjoint) }
}

/// `s[(4p + q)·n + (i·th + ty)·tw + tx] = plane_i[4ty + p, 4tx + q]`, zero past the plane's edge,
/// for the planes `x[i · image_stride ..][.. h·w]`.
#[inline(always)]
fn phase_planes<T: WinogradElement>(st: Stack, x: &[T], image_stride: usize, s: &mut [T]) {
    // The usual plane widths with the row length known at compile time: on 8×8 planes a row is two
    // tiles, and a loop's overhead would cost more than the copy.
    match (st.h % 4, st.w) {
        (0, 8) => phase_planes_fixed::<T, 2>(st, x, image_stride, s),


        _ => phase_planes_any(st, x, image_stride, s),
    }
}

/// [`phase_planes`] for `w = 4·TW` and `h` a multiple of 4.
#[inline(always)]
fn phase_planes_fixed<T: WinogradElement, const TW: usize>(st: Stack, x: &[T], image_stride: usize, s: &mut [T]) {
    let n = st.len();
    let (w, th) = (4 * TW, st.th);
    for p in 0..4 {
        let [s0, s1, s2, s3] = split4(&mut s[4 * p * n..(4 * p + 4) * n], n);
        for i in 0..st.images {
            let plane = &x[i * image_stride..][..st.h * w];
            for ty in 0..th {
                let r = (i * th + ty) * TW;
                let row = &plane[(4 * ty + p) * w..][..4 * TW];
                let (d0, d1, d2, d3) = (&mut s0[r..][..TW], &mut s1[r..][..TW], &mut s2[r..][..TW], &mut s3[r..][..TW]);
                for k in 0..TW {
                    d0[k] = row[4 * k];
                    d1[k] = row[4 * k + 1];
                    d2[k] = row[4 * k + 2];
                    d3[k] = row[4 * k + 3];
                }
            }
        }
    }
}

/// [`phase_planes`] for any plane.
#[inline(always)]
fn phase_planes_any<T: WinogradElement>(st: Stack, x: &[T], image_stride: usize, s: &mut [T]) {
    let Stack { h, w, th, tw, .. } = st;
    let n = st.len();
    let full = w / 4;
    for i in 0..st.images {
        for ty in 0..th {
            let r = (i * th + ty) * tw;
            for p in 0..4 {
                let y = 4 * ty + p;
                let [s0, s1, s2, s3] = split4(&mut s[4 * p * n..(4 * p + 4) * n], n).map(|q| &mut q[r..r + tw]);
                if y >= h {
                    for q in [s0, s1, s2, s3] {
                        q.fill(T::zero());
                    }
                    continue;
                }
                let row = &x[i * image_stride + y * w..][..w];
                if full < tw {
                    let get = |q: usize| row.get(4 * full + q).copied().unwrap_or(T::zero());
                    (s0[full], s1[full], s2[full], s3[full]) = (get(0), get(1), get(2), get(3));
                }
                // Indexing over proven lengths: the compiler turns this into vector shuffles.
                let quads = &row[..4 * full];
                let (s0, s1, s2, s3) = (&mut s0[..full], &mut s1[..full], &mut s2[..full], &mut s3[..full]);
                for k in 0..full {
                    s0[k] = quads[4 * k];
                    s1[k] = quads[4 * k + 1];
                    s2[k] = quads[4 * k + 2];
                    s3[k] = quads[4 * k + 3];
                }
            }
        }
    }
}

/// Which tiles have a neighbour before / after them along x (`[..n]`, `[n..2n]`) and along y
/// (`[2n..3n]`, `[3n..4n]`) within their own plane: elsewhere a shifted read would land in the
/// previous or next row of tiles or image, and the transforms use zero (the padding) instead.
fn neighbours(st: Stack) -> Vec<bool> {
    let n = st.len();
    let mut keep = vec![false; 4 * n];
    for t in 0..n {
        let (tx, ty) = (t % st.tw, t / st.tw % st.th);
        keep[t] = tx != 0;
        keep[n + t] = tx + 1 != st.tw;
        keep[2 * n + t] = ty != 0;
        keep[3 * n + t] = ty + 1 != st.th;
    }
    keep
}

/// The four `n`-element parts of `v`.
#[inline(always)]
fn split4<T>(v: &mut [T], n: usize) -> [&mut [T]; 4] {
    let (a, rest) = v.split_at_mut(n);
    let (b, rest) = rest.split_at_mut(n);
    let (c, d) = rest.split_at_mut(n);
    [a, b, c, &mut d[..n]]
}

/// One direction of the input transform `Bᵀ`, element-wise over `n` tiles: `out_k = Σ_j Bᵀ[k][j] d_j`
/// with `d_0 = before[t − shift]` where `has_before[t]`, `d_1..d_4 = mid[..][t]`, `d_5 = after[t + shift]`
/// where `has_after[t]`, and zero elsewhere.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn input_1d<T: WinogradElement>(n: usize, shift: usize, before: &[T], mid: [&[T]; 4], after: &[T], has_before: &[bool], has_after: &[bool], out: [&mut [T]; 6]) {
    let [o0, o1, o2, o3, o4, o5] = out.map(|o| &mut o[..n]);
    let (zero, four, five, two) = (T::zero(), constant::<T>(4.0), constant::<T>(5.0), constant::<T>(2.0));
    let [d1, d2, d3, d4] = mid.map(|d| &d[..n]);
    for t in 0..n {
        let (a, b, c, d) = (d1[t], d2[t], d3[t], d4[t]);
        o1[t] = (d + c) - four * (a + b);
        o2[t] = (d - c) + four * (a - b);
        o3[t] = (d - b) + two * (c - a);
        o4[t] = (d - b) - two * (c - a);
    }
    let shift = shift.min(n);
    let m = n - shift;
    for t in 0..shift {
        o0[t] = four * zero - five * d2[t] + d4[t];
        o5[m + t] = four * d1[m + t] - five * d3[m + t] + zero;
    }
    let (b0, k0, b2, b4, o0) = (&before[..m], &has_before[shift..n], &d2[shift..n], &d4[shift..n], &mut o0[shift..n]);
    for t in 0..m {
        let d0 = if k0[t] { b0[t] } else { zero };
        o0[t] = four * d0 - five * b2[t] + b4[t];
    }
    let (a1, a3, a5, k5, o5) = (&d1[..m], &d3[..m], &after[shift..n], &has_after[..m], &mut o5[..m]);
    for t in 0..m {
        let d5 = if k5[t] { a5[t] } else { zero };
        o5[t] = four * a1[t] - five * a3[t] + d5;
    }
}

// Writes `V_ξ` (ξ = 6i + j) of one channel of the stack (planes `x[i · image_stride ..]`) to
// `v[ξ · stride ..][.. n]`; `work` is scratch of `40 n` elements.
wide!(fn transform_input = transform_input_body<T: WinogradElement>(st: Stack, x: &[T], image_stride: usize, v: &mut [T], stride: usize, keep: &[bool], work: &mut [T]));

#[inline(always)]
fn transform_input_body<T: WinogradElement>(st: Stack, x: &[T], image_stride: usize, v: &mut [T], stride: usize, keep: &[bool], work: &mut [T]) {
    let n = st.len();
    let (s, c) = work[..40 * n].split_at_mut(16 * n);
    phase_planes(st, x, image_stride, s);
    let [x_before, x_after, y_before, y_after] = [0, 1, 2, 3].map(|k| &keep[k * n..(k + 1) * n]);
    // Along x, per row phase p: the six columns 4tx−1 … 4tx+4 are S_p3[tx−1], S_p0..S_p3[tx], S_p0[tx+1]
    // (C_pj at index 6p + j).
    for p in 0..4 {
        let sp = &s[4 * p * n..(4 * p + 4) * n];
        let (s0, s1, s2, s3) = (&sp[..n], &sp[n..2 * n], &sp[2 * n..3 * n], &sp[3 * n..]);
        input_1d(n, 1, s3, [s0, s1, s2, s3], s0, x_before, x_after, rows_apart(&mut c[6 * p * n..], n, n));
    }
    // Along y, per column index j: rows 4ty−1 … 4ty+4 are C_3j[ty−1], C_0j..C_3j[ty], C_0j[ty+1]
    // (V_ξ at ξ = 6i + j).
    for j in 0..6 {
        let cj = |p: usize| &c[(6 * p + j) * n..(6 * p + j + 1) * n];
        let (c0, c1, c2, c3) = (cj(0), cj(1), cj(2), cj(3));
        input_1d(n, st.tw, c3, [c0, c1, c2, c3], c0, y_before, y_after, rows_apart(&mut v[j * stride..], 6 * stride, n));
    }
}

/// One direction of the output transform `Aᵀ`, element-wise over `n` tiles: `out_a = Σ_k Aᵀ[a][k] m_k`.
#[inline(always)]
fn output_1d<T: WinogradElement>(n: usize, m: [&[T]; 6], out: [&mut [T]; 4]) {
    let (two, four, eight) = (constant::<T>(2.0), constant::<T>(4.0), constant::<T>(8.0));
    let [m0, m1, m2, m3, m4, m5] = m.map(|m| &m[..n]);
    let [o0, o1, o2, o3] = out.map(|o| &mut o[..n]);
    for t in 0..n {
        let (s12, d12, s34, d34) = (m1[t] + m2[t], m1[t] - m2[t], m3[t] + m4[t], m3[t] - m4[t]);
        o0[t] = m0[t] + s12 + s34;
        o1[t] = d12 + two * d34;
        o2[t] = s12 + four * s34;
        o3[t] = d12 + eight * d34 + m5[t];
    }
}

// Writes one output channel of the stack (planes `y[i · image_stride ..][.. h·w]`) from `M_ξ` at
// `m[ξ · stride ..][.. n]`; `work` is scratch of `40 n` elements.
wide!(fn transform_output = transform_output_body<T: WinogradElement>(st: Stack, m: &[T], stride: usize, y: &mut [Uninit<T>], image_stride: usize, work: &mut [T]));

#[inline(always)]
fn transform_output_body<T: WinogradElement>(st: Stack, m: &[T], stride: usize, y: &mut [Uninit<T>], image_stride: usize, work: &mut [T]) {
    let Stack { h, w, .. } = st;
    let n = st.len();
    let (r, out) = work[..40 * n].split_at_mut(24 * n);
    // Along y, per column index j: R_aj (index 6a + j) from M_ij (ξ = 6i + j).
    for j in 0..6 {
        let mj = core::array::from_fn(|i| &m[(6 * i + j) * stride..][..n]);
        output_1d(n, mj, rows_apart(&mut r[j * n..], 6 * n, n));
    }
    // Along x, per output row phase a: Y_ab (index 4a + b), the output at (4ty + a, 4tx + b).
    for a in 0..4 {
        let ra = core::array::from_fn(|k| &r[(6 * a + k) * n..][..n]);
        output_1d(n, ra, rows_apart(&mut out[4 * a * n..], n, n));
    }
    match (h % 4, w) {
        (0, 8) => interleave_fixed::<T, 2>(st, out, y, image_stride),


        _ => interleave_any(st, out, y, image_stride),
    }
}

/// The outputs `Y_ab` (at `out[(4a + b) · n ..]`) into the planes `y[i · image_stride ..][.. h·w]`, for
/// `w = 4·TW` and `h` a multiple of 4 (see [`phase_planes`]).
#[inline(always)]
fn interleave_fixed<T: WinogradElement, const TW: usize>(st: Stack, out: &[T], y: &mut [Uninit<T>], image_stride: usize) {
    let n = st.len();
    let (w, th) = (4 * TW, st.th);
    for a in 0..4 {
        let (y0, y1, y2, y3) = (&out[4 * a * n..][..n], &out[(4 * a + 1) * n..][..n], &out[(4 * a + 2) * n..][..n], &out[(4 * a + 3) * n..][..n]);
        for i in 0..st.images {
            let plane = &mut y[i * image_stride..][..st.h * w];
            for ty in 0..th {
                let r = (i * th + ty) * TW;
                let row = &mut plane[(4 * ty + a) * w..][..4 * TW];
                let (e0, e1, e2, e3) = (&y0[r..][..TW], &y1[r..][..TW], &y2[r..][..TW], &y3[r..][..TW]);
                for k in 0..TW {
                    row[4 * k].write(e0[k]);
                    row[4 * k + 1].write(e1[k]);
                    row[4 * k + 2].write(e2[k]);
                    row[4 * k + 3].write(e3[k]);
                }
            }
        }
    }
}

/// [`interleave_fixed`] for any plane.
#[inline(always)]
fn interleave_any<T: WinogradElement>(st: Stack, out: &[T], y: &mut [Uninit<T>], image_stride: usize) {
    let Stack { h, w, th, tw, .. } = st;
    let n = st.len();
    let full = w / 4;
    for i in 0..st.images {
        for ty in 0..th {
            let t0 = (i * th + ty) * tw;
            for a in 0..4.min(h - 4 * ty) {
                let ys: [&[T]; 4] = core::array::from_fn(|b| &out[(4 * a + b) * n + t0..][..tw]);
                let row = &mut y[i * image_stride + (4 * ty + a) * w..][..w];
                for (col, e) in row.iter_mut().enumerate().skip(4 * full) {
                    e.write(ys[col % 4][full]);
                }
                let (y0, y1, y2, y3) = (&ys[0][..full], &ys[1][..full], &ys[2][..full], &ys[3][..full]);
                let dst = &mut row[..4 * full];
                // Indexing over proven lengths: the compiler turns this into vector shuffles.
                for k in 0..full {
                    dst[4 * k].write(y0[k]);
                    dst[4 * k + 1].write(y1[k]);
                    dst[4 * k + 2].write(y2[k]);
                    dst[4 * k + 3].write(y3[k]);
                }
            }
        }
    }
}


/// The convolution of `x` (`[batch, in_channels, h, w]`) with transformed filters `u`
/// (`[36, out_channels, in_channels]`), padding 1, as `[batch, out_channels, h, w]`.
pub(super) fn convolve<T: WinogradElement>(x: &[T], batch: usize, in_channels: usize, h: usize, w: usize, u: &[T], out_channels: usize) -> Vec<T> {
    let (plane, image_in, image_out) = (h * w, in_channels * h * w, out_channels * h * w);
    // Enough images per GEMM to amortise it, while leaving a group for every thread.
    let group = balanced_group(batch, images_per_group::<T>(36, in_channels + out_channels, Stack::new(1, h, w).len()));
    per_images(batch, group, image_out, |first, out: &mut [Uninit<T>], parallel| {
        let st = Stack::new(out.len() / image_out, h, w);
        let columns = st.len();
        let ld = columns.next_multiple_of(COLUMNS) + ROW_PAD_BYTES / core::mem::size_of::<T>();
        let (v_len, m_len) = (36 * in_channels * ld, 36 * out_channels * ld);
        with_scratch(v_len + m_len + 40 * columns, |scratch: &mut [T]| {
            let (v, rest) = scratch.split_at_mut(v_len);
            let (m, work) = rest.split_at_mut(m_len);
            let images = &x[first * image_in..];
            let keep = neighbours(st);
            for c in 0..in_channels {
                transform_input(st, &images[c * plane..], image_in, &mut v[c * ld..], in_channels * ld, &keep, work);
            }
            products(36, out_channels, in_channels, columns, m, ld, u, v, parallel);
            for o in 0..out_channels {
                transform_output(st, &m[o * ld..], out_channels * ld, &mut out[o * plane..], image_out, work);
            }
        });
    })
}

/// Tiles per weight-gradient GEMM (and per group of images transformed together): 64, 128, 256 and
/// 512 ran within 3 % of each other at 64 channels on 8×8 planes, 128 was the fastest on 16×16.
const WEIGHT_GRADIENT_TILES: usize = 128;

/// Whether [`weight_gradient`] takes a weight gradient that `conv2d_winograd` computes: the planes
/// this module takes for the forward pass, from 8×8 up to those of F(2×2, 3×3). At 64 channels on
/// 8×8 it ran in 1.91–1.99 ms against F(2×2, 3×3)'s 2.52–2.56 (batch 128, 2 threads,
/// `examples/conv_ops.rs` in trgl); at 32 on 16×16 within 7 % of it, at 16 on 32×32 25 % slower.
pub(super) fn takes_weight_gradient(h: usize, w: usize, min_f2_plane: usize) -> bool {
    h >= MIN_SIDE && w >= MIN_SIDE && h * w < min_f2_plane
}

/// One direction of the output transform's adjoint `A` (6×4), element-wise over `n` tiles:
/// `out_k = Σ_a A[k][a] g_a`, `A`'s rows being `[1 0 0 0]`, `[1 1 1 1]`, `[1 −1 1 −1]`, `[1 2 4 8]`,
/// `[1 −2 4 −8]` and `[0 0 0 1]` (the columns of `Aᵀ` in [`output_1d`]).
#[inline(always)]
fn grad_1d<T: WinogradElement>(n: usize, g: [&[T]; 4], out: [&mut [T]; 6]) {
    let (two, four) = (constant::<T>(2.0), constant::<T>(4.0));
    let [g0, g1, g2, g3] = g.map(|g| &g[..n]);
    let [o0, o1, o2, o3, o4, o5] = out.map(|o| &mut o[..n]);
    for t in 0..n {
        let (a, b, c, d) = (g0[t], g1[t], g2[t], g3[t]);
        let (s02, s13) = (a + c, b + d);
        let (even, odd) = (a + four * c, b + four * d);
        o0[t] = a;
        o1[t] = s02 + s13;
        o2[t] = s02 - s13;
        o3[t] = even + two * odd;
        o4[t] = even - two * odd;
        o5[t] = d;
    }
}

// Writes `E_ξ = (A e Aᵀ)_ξ` (ξ = 6i + j) for every 4×4 tile `e` of one channel of the output gradient
// of the stack (planes `dy[i · image_stride ..]`, zero past their edges) to `e[ξ · stride ..][.. n]`;
// `work` is scratch of `40 n` elements.
wide!(fn transform_grad = transform_grad_body<T: WinogradElement>(st: Stack, dy: &[T], image_stride: usize, e: &mut [T], stride: usize, work: &mut [T]));

#[inline(always)]
fn transform_grad_body<T: WinogradElement>(st: Stack, dy: &[T], image_stride: usize, e: &mut [T], stride: usize, work: &mut [T]) {
    let n = st.len();
    let (s, r) = work[..40 * n].split_at_mut(16 * n);
    // s[(4a + b)·n + t]: the gradient at (4ty + a, 4tx + b).
    phase_planes(st, dy, image_stride, s);
    // Along x, per row phase a: R_ak (index 6a + k) from the gradient's columns b.
    for a in 0..4 {
        let g = core::array::from_fn(|b| &s[(4 * a + b) * n..][..n]);
        grad_1d(n, g, rows_apart(&mut r[6 * a * n..], n, n));
    }
    // Along y, per column k: E_ik (ξ = 6i + k) from R_ak.
    for k in 0..6 {
        let g = core::array::from_fn(|a| &r[(6 * a + k) * n..][..n]);
        grad_1d(n, g, rows_apart(&mut e[k * stride..], 6 * stride, n));
    }
}

/// The weight gradient (`[O, C, 3, 3]`) of a convolution of [`applies`]' shapes, from its input `x`
/// (`x_shape`: `[N, C, H, W]`) and output gradient `dy` (`[N, O, H, W]`): the adjoint of the forward
/// pass `Y = Aᵀ ((G g Gᵀ) ⊙ V) A`, i.e. `E = A e Aᵀ` for each 4×4 tile `e` of `dy`, `dU_ξ [O, C] =
/// Σ_tiles E_ξ · V_ξᵀ` (36 GEMMs reducing over the tiles, with [`transform_input`]'s `V`) and
/// `dW = Gᵀ dU G` (in f64). 36 products per 16 outputs where F(2×2, 3×3)'s weight gradient takes 64.
///
/// Deterministic for a given number of threads (see [`sum_over_image_ranges`]).
pub(super) fn weight_gradient<T: WinogradElement>(x: &[T], x_shape: &[usize], dy: &[T], out_channels: usize) -> Vec<T> {
    let [batch, channels, h, w] = [x_shape[0], x_shape[1], x_shape[2], x_shape[3]];
    let (plane, image_in, image_out) = (h * w, channels * h * w, out_channels * h * w);
    let per_image = Stack::new(1, h, w).len();
    let pairs = out_channels * channels;
    let parallel_gemm = batch < threads();
    let du = sum_over_image_ranges(batch, |start, end| {
        let mut du = vec![T::zero(); 36 * pairs];
        if T::weight_gradient_rows_f4(x, dy, start, end - start, channels, out_channels, h, w, &mut du) {
            return du;
        }
        let group = WEIGHT_GRADIENT_TILES.div_ceil(per_image).min(end - start).max(1);
        let ld = group * per_image + ROW_PAD_BYTES / core::mem::size_of::<T>();
        let (v_len, e_len) = (36 * channels * ld, 36 * out_channels * ld);
        with_scratch(v_len + e_len + 40 * group * per_image, |scratch: &mut [T]| {
            let (v, rest) = scratch.split_at_mut(v_len);
            let (e, work) = rest.split_at_mut(e_len);
            for (gi, first) in (start..end).step_by(group).enumerate() {
                let st = Stack::new(group.min(end - first), h, w);
                let keep = neighbours(st);
                let (images, grads) = (&x[first * image_in..], &dy[first * image_out..]);
                for c in 0..channels {
                    transform_input(st, &images[c * plane..], image_in, &mut v[c * ld..], channels * ld, &keep, work);
                }
                for o in 0..out_channels {
                    transform_grad(st, &grads[o * plane..], image_out, &mut e[o * ld..], out_channels * ld, work);
                }
                weight_products(36, out_channels, channels, st.len(), &mut du, gi > 0, e, v, ld, parallel_gemm);
            }
        });
        du
    });
    // `Gᵀ dU G` of one filter, in f64 (split across threads, as the forward pass's filter transform).
    let one = |pair: usize| -> [T; 9] {
        let d = |a: usize, b: usize| num_traits::ToPrimitive::to_f64(&du[(6 * a + b) * pairs + pair]).expect("float to f64");
        let dg: [[f64; 6]; 3] = core::array::from_fn(|k| core::array::from_fn(|b| (0..6).map(|a| FILTER[a][k] * d(a, b)).sum()));
        core::array::from_fn(|i| constant((0..6).map(|b| dg[i / 3][b] * FILTER[b][i % 3]).sum()))
    };
    per_filter(pairs, one).into_iter().flatten().collect()
}
