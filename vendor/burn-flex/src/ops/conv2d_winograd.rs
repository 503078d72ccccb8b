//! 3×3, stride-1, padding-1 convolutions (the body of every CIFAR ResNet) as Winograd F(2×2, 3×3)
//! (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016; added for trgl, see
//! `vendor/README.md` in trgl).
//!
//! Each 2×2 block of outputs comes from a 4×4 block of input: with `V = Bᵀ d B` (input tile),
//! `U = G g Gᵀ` (filter) and `Y = Aᵀ (Σ_ci U ⊙ V) A`, the sum over input channels is 16 GEMMs
//! `M_ξ [O, tiles] = U_ξ [O, C] · V_ξ [C, tiles]`, one per position ξ of the 4×4 transform: 16
//! multiplications per 2×2 outputs instead of 36, and no 9× im2col copy. The transforms only add,
//! subtract and halve, so rounding stays that of an ordinary sum of a few terms.
//!
//! The input gradient of such a convolution is the same convolution of the output gradient with
//! the filter flipped and its channel axes swapped, so it runs here too.
//!
//! Data layout: per image and channel the plane is split into its four (row, column) parity
//! sub-planes `S_pq[ty, tx] = x[2ty + p, 2tx + q]` (one gather pass); every transform step after
//! that is an element-wise loop over all `th·tw` tiles of the plane at once — shifts by one tile
//! (one element, or one row of `tw`) replace the overlapping 4×4 windows — so the loops run over
//! the whole plane rather than one row of tiles, and vectorise.

use alloc::vec;
use alloc::vec::Vec;
use burn_backend::ops::ConvOptions;

use super::conv2d_gemm::{GemmElement, Mat, Uninit, balanced_group, gemm_strided, per_images, sum_over_image_ranges, threads, with_scratch};
use super::wide_simd::wide;
use super::winograd_rows;

/// Padding of the rows of the transformed matrices, in bytes, so that the 16 streams a transform
/// reads or writes are not a power of two apart at the usual sizes (cache-set and 4K aliasing).
pub(super) const ROW_PAD_BYTES: usize = 64;

/// Element types with the arithmetic the transforms need, and the faster transforms of
/// `winograd_rows.rs` where the type has them (each returns `false` where it did nothing; the whole
/// convolution, `None`).
pub(crate) trait WinogradElement: GemmElement + num_traits::Float {
    fn transform_input_rows(_tiles: Tiles, _x: &[Self], _v: &mut [Self], _stride: usize) -> bool {
        false
    }
    fn transform_grad_rows(_tiles: Tiles, _dy: &[Self], _e: &mut [Self], _stride: usize) -> bool {
        false
    }
    fn transform_output_rows(_tiles: Tiles, _m: &[Self], _stride: usize, _y: &mut [Uninit<Self>]) -> bool {
        false
    }
    fn convolve_rows(_x: &[Self], _batch: usize, _in_c: usize, _h: usize, _w: usize, _u: &[Self], _out_c: usize) -> Option<Vec<Self>> {
        None
    }
    /// Whether [`convolve_rows_f4`](Self::convolve_rows_f4) takes these shapes.
    fn rows_f4_apply(_h: usize, _w: usize, _in_c: usize, _out_c: usize) -> bool {
        false
    }
    /// F(4×4, 3×3) fused per block of tiles, with the transformed filters `u` laid out `[36, in_c,
    /// out_c]` (`conv2d_winograd_f4::transform_filter`'s `by_input`); `None` where it does not apply.
    fn convolve_rows_f4(_x: &[Self], _batch: usize, _in_c: usize, _h: usize, _w: usize, _u: &[Self], _out_c: usize) -> Option<Vec<Self>> {
        None
    }
    #[allow(clippy::too_many_arguments)]
    fn weight_gradient_rows_f4(_x: &[Self], _dy: &[Self], _first: usize, _count: usize, _in_c: usize, _out_c: usize, _h: usize, _w: usize, _du: &mut [Self]) -> bool {
        false
    }
}
impl WinogradElement for f32 {
    fn transform_input_rows(tiles: Tiles, x: &[f32], v: &mut [f32], stride: usize) -> bool {
        winograd_rows::transform_input(tiles.h, tiles.w, x, v, stride)
    }
    fn transform_grad_rows(tiles: Tiles, dy: &[f32], e: &mut [f32], stride: usize) -> bool {
        winograd_rows::transform_grad(tiles.h, tiles.w, dy, e, stride)
    }
    fn transform_output_rows(tiles: Tiles, m: &[f32], stride: usize, y: &mut [Uninit<f32>]) -> bool {
        winograd_rows::transform_output(tiles.h, tiles.w, m, stride, y)
    }
    fn convolve_rows(x: &[f32], batch: usize, in_c: usize, h: usize, w: usize, u: &[f32], out_c: usize) -> Option<Vec<f32>> {
        winograd_rows::convolve_fused(x, batch, in_c, h, w, u, out_c)
    }
    fn rows_f4_apply(h: usize, w: usize, in_c: usize, out_c: usize) -> bool {
        super::winograd_rows_f4::applies(h, w, in_c, out_c)
    }
    fn convolve_rows_f4(x: &[f32], batch: usize, in_c: usize, h: usize, w: usize, u: &[f32], out_c: usize) -> Option<Vec<f32>> {
        super::winograd_rows_f4::convolve_fused(x, batch, in_c, h, w, u, out_c)
    }
    fn weight_gradient_rows_f4(x: &[f32], dy: &[f32], first: usize, count: usize, in_c: usize, out_c: usize, h: usize, w: usize, du: &mut [f32]) -> bool {
        super::winograd_rows_f4::weight_gradient_fused(x, dy, first, count, in_c, out_c, h, w, du)
    }
}
impl WinogradElement for f64 {}

/// Below this many input or output channels there is little multiplication for the transforms to
/// save; the 3-channel stem stays on im2col (where it is already 2.6× faster than PyTorch's).
const MIN_CHANNELS: usize = 8;

/// Below this many pixels per plane (16×16) the transforms' loops are too short to pay: at 8×8 and
/// 64 channels the im2col path is faster (`examples/conv_ops.rs` in trgl, batch 128, 2 threads).
const MIN_PLANE: usize = 256;

/// The weight gradient (16 GEMMs with `O × C` outputs reducing over the tiles) against im2col, batch
/// 128 on 2 threads (`examples/conv_ops.rs` in trgl): 1.7× faster at 16 channels on 32×32 planes,
/// 1.17× at 32 on 16×16, 1.12× at 64 on 8×8 (with the transforms of `winograd_rows.rs`; before them
/// it lost from 32 channels). Larger channel counts were not measured and stay on im2col.
const MAX_WEIGHT_GRADIENT_CHANNELS: usize = 64;

/// Smallest plane whose weight gradient takes a Winograd path (F(4×4, 3×3) below 16×16, see
/// `conv2d_winograd_f4::takes_weight_gradient`).
const MIN_WEIGHT_GRADIENT_PLANE: usize = 64;

/// Tiles per weight-gradient GEMM: fewer than the forward pass's (more calls, but operands that stay
/// in cache: 32 and 64 channels were 5–15 % faster than with 256, and 2× slower with 1024).
const WEIGHT_GRADIENT_TILES: usize = 128;

/// Tiles per GEMM that keep its fixed costs small; images are grouped until they reach it.
const TARGET_TILES: usize = 256;

/// Whether F(2×2, 3×3) ([`convolution_with`]) computes this convolution and its input gradient (`x`: `[N, C, H, W]`,
/// `weight`: `[O, C, 3, 3]`).
pub(crate) fn applies(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> bool {
    is_winograd_shape(x, weight, options) && x[2] * x[3] >= MIN_PLANE
}

/// An ungrouped 3×3 convolution with stride 1, dilation 1 and padding 1 ("same"), with enough input
/// and output channels: what both Winograd tile sizes compute, whatever the plane's size.
pub(super) fn is_winograd_shape(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> bool {
    options.groups == 1
        && weight[2] == 3
        && weight[3] == 3
        && options.stride == [1, 1]
        && options.dilation == [1, 1]
        && options.padding == [(1, 1), (1, 1)]
        && x[1] >= MIN_CHANNELS
        && weight[0] >= MIN_CHANNELS
}

/// The Winograd tile size for a convolution's forward pass and input gradient, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tile {
    /// F(2×2, 3×3), this module.
    F2,
    /// F(4×4, 3×3), [`conv2d_winograd_f4`](super::conv2d_winograd_f4).
    F4,
}

/// F(2×2, 3×3) on planes of 16×16 and more, F(4×4, 3×3) on smaller ones down to 8×8 (each module's
/// `applies`): the larger tile saves more multiplications but has longer transforms, and was as fast
/// or slower on the larger planes, faster on 8×8 ones, where F(2×2, 3×3) lost to im2col. On CPUs with
/// AVX2 but not AVX-512, F(4×4, 3×3) everywhere ([`f4_everywhere`]).
pub(crate) fn tile_for(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> Option<Tile> {
    if applies(x, weight, options) && !(f4_everywhere() && super::conv2d_winograd_f4::applies(x, weight, options)) {
        Some(Tile::F2)
    } else {
        super::conv2d_winograd_f4::applies(x, weight, options).then_some(Tile::F4)
    }
}

/// The forward convolution of `input` (`x_shape`: `[N, C, H, W]`) with `weight` (`[O, C, 3, 3]`) with
/// `tile`, or with `adjoint` its input gradient, `input` then being the output gradient (`[N, O, H, W]`):
/// the same convolution with the flipped, channel-swapped filter, from `O` channels to `C`.
pub(crate) fn convolution_with<T: WinogradElement>(tile: Tile, input: &[T], x_shape: &[usize], weight: &[T], out_channels: usize, adjoint: bool) -> Vec<T> {
    use super::conv2d_winograd_f4 as f4;
    let [batch, channels, h, w] = [x_shape[0], x_shape[1], x_shape[2], x_shape[3]];
    let (from, to) = if adjoint { (out_channels, channels) } else { (channels, out_channels) };
    match tile {
        Tile::F2 => convolve(input, batch, from, h, w, &transform_filter(weight, out_channels, channels, adjoint), to),
        Tile::F4 if T::rows_f4_apply(h, w, from, to) => {
            let u = f4::transform_filter(weight, out_channels, channels, adjoint, true);
            T::convolve_rows_f4(input, batch, from, h, w, &u, to).expect("the fused F(4x4) applies to these shapes")
        }
        Tile::F4 => f4::convolve(input, batch, from, h, w, &f4::transform_filter(weight, out_channels, channels, adjoint, false), to),
    }
}

/// Whether [`weight_gradient`] computes this convolution's weight gradient.
pub(crate) fn applies_to_weight_gradient(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> bool {
    is_winograd_shape(x, weight, options)
        && x[2] * x[3] >= MIN_WEIGHT_GRADIENT_PLANE
        && x[1] <= MAX_WEIGHT_GRADIENT_CHANNELS
        && weight[0] <= MAX_WEIGHT_GRADIENT_CHANNELS
}

/// `U_ξ [rows, cols] = G g Gᵀ` for every filter `g` of `weight` (`[O, C, 3, 3]`), stored `[16, rows, cols]`.
/// With `adjoint`, the filter of the input gradient: `g'[c, o] = flip(g[o, c])`, so rows are `C`.
fn transform_filter<T: WinogradElement>(weight: &[T], out_channels: usize, in_channels: usize, adjoint: bool) -> Vec<T> {
    let (rows, cols) = if adjoint { (in_channels, out_channels) } else { (out_channels, in_channels) };
    let half = T::from(0.5).expect("0.5 is representable");
    let filters: Vec<[T; 16]> = (0..out_channels * in_channels)
        .map(|pair| {
            let k = &weight[pair * 9..][..9];
            let g = |i: usize, j: usize| if adjoint { k[(2 - i) * 3 + 2 - j] } else { k[i * 3 + j] };
            let gg: [[T; 3]; 4] = core::array::from_fn(|i| {
                core::array::from_fn(|j| match i {
                    0 => g(0, j),
                    1 => half * (g(0, j) + g(1, j) + g(2, j)),
                    2 => half * (g(0, j) - g(1, j) + g(2, j)),
                    _ => g(2, j),
                })
            });
            core::array::from_fn(|xi| {
                let t = &gg[xi / 4];
                match xi % 4 {
                    0 => t[0],
                    1 => half * (t[0] + t[1] + t[2]),
                    2 => half * (t[0] - t[1] + t[2]),
                    _ => t[2],
                }
            })
        })
        .collect();
    scatter_positions(&filters, rows, cols, in_channels, adjoint)
}

/// `U_ξ [rows, cols]` for every position ξ from each filter's `K` transformed values (`filters[o · C + c]`),
/// the channel axes swapped with `adjoint`. One position's matrix at a time, in the order it is
/// stored: a filter at a time wrote `K` values a matrix apart (a 64 × 64 filter bank: 16 KiB) and
/// took longer than computing them.
pub(super) fn scatter_positions<T: WinogradElement, const K: usize>(filters: &[[T; K]], rows: usize, cols: usize, in_channels: usize, adjoint: bool) -> Vec<T> {
    let mut u = vec![T::zero(); K * rows * cols];
    let fill = |xi: usize, dst: &mut [T]| {
        for r in 0..rows {
            for (col, d) in dst[r * cols..][..cols].iter_mut().enumerate() {
                let pair = if adjoint { col * in_channels + r } else { r * in_channels + col };
                *d = filters[pair][xi];
            }
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        u.par_chunks_mut(rows * cols).enumerate().for_each(|(xi, dst)| fill(xi, dst));
    }
    #[cfg(not(feature = "rayon"))]
    u.chunks_mut(rows * cols).enumerate().for_each(|(xi, dst)| fill(xi, dst));
    u
}

/// Tile grid of one plane.
#[derive(Clone, Copy)]
pub(crate) struct Tiles {
    h: usize,
    w: usize,
    th: usize,
    tw: usize,
}

impl Tiles {
    fn new(h: usize, w: usize) -> Self {
        Self { h, w, th: h.div_ceil(2), tw: w.div_ceil(2) }
    }
    fn len(&self) -> usize {
        self.th * self.tw
    }
}

/// `a[i] - b[i]` etc. into `dst`, element-wise over equal lengths.
#[inline(always)]
fn sub_into<T: WinogradElement>(dst: &mut [T], a: &[T], b: &[T]) {
    dst.iter_mut().zip(a.iter().zip(b)).for_each(|(d, (&a, &b))| *d = a - b);
}
#[inline(always)]
fn add_into<T: WinogradElement>(dst: &mut [T], a: &[T], b: &[T]) {
    dst.iter_mut().zip(a.iter().zip(b)).for_each(|(d, (&a, &b))| *d = a + b);
}

/// `s[(2p + q) · th·tw + ty · tw + tx] = x[2ty + p, 2tx + q]`: the four parity sub-planes of a plane
/// (`x`: `[h, w]`), zero past the edge of an odd-sized one.
#[inline(always)]
fn parity_planes<T: WinogradElement>(tiles: Tiles, x: &[T], s: &mut [T]) {
    let Tiles { h, w, th, tw } = tiles;
    let n = tiles.len();
    for ty in 0..th {
        for p in 0..2 {
            let y = 2 * ty + p;
            let (even, odd) = s[(2 * p) * n..(2 * p + 2) * n].split_at_mut(n);
            let (even, odd) = (&mut even[ty * tw..(ty + 1) * tw], &mut odd[ty * tw..(ty + 1) * tw]);
            if y >= h {
                even.fill(T::zero());
                odd.fill(T::zero());
                continue;
            }
            let row = &x[y * w..(y + 1) * w];
            let pairs = row.chunks_exact(2);
            if let [last] = pairs.remainder() {
                even[tw - 1] = *last;
                odd[tw - 1] = T::zero();
            }
            for ((e, o), pair) in even.iter_mut().zip(odd.iter_mut()).zip(pairs) {
                *e = pair[0];
                *o = pair[1];
            }
        }
    }
}

/// The `n`-element rows `k · stride` of `v` for `k < K`, disjoint (`stride ≥ n`) mutable slices.
#[inline(always)]
pub(super) fn rows_apart<T, const K: usize>(v: &mut [T], stride: usize, n: usize) -> [&mut [T]; K] {
    assert!(v.len() >= (K - 1) * stride + n && stride >= n, "winograd: destination too small");
    let base = v.as_mut_ptr();
    // Safety: inside `v` (asserted) and pairwise disjoint; they borrow `v` for their lifetime.
    core::array::from_fn(|k| unsafe { core::slice::from_raw_parts_mut(base.add(k * stride), n) })
}

// Writes `V_ξ` of one channel plane (`x`: `[h, w]`) to `v[ξ · stride ..][.. th·tw]`; `work` is
// scratch of `12 · th·tw` elements.
fn transform_input<T: WinogradElement>(tiles: Tiles, x: &[T], v: &mut [T], stride: usize, work: &mut [T]) {
    if !T::transform_input_rows(tiles, x, v, stride) {
        transform_input_planes(tiles, x, v, stride, work);
    }
}
wide!(fn transform_input_planes = transform_input_body<T: WinogradElement>(tiles: Tiles, x: &[T], v: &mut [T], stride: usize, work: &mut [T]));

#[inline(always)]
fn transform_input_body<T: WinogradElement>(tiles: Tiles, x: &[T], v: &mut [T], stride: usize, work: &mut [T]) {
    let Tiles { th, tw, .. } = tiles;
    let n = tiles.len();
    let (s, c) = work[..12 * n].split_at_mut(4 * n);
    parity_planes(tiles, x, s);
    // Column transform Bᵀ along x, per row parity p: C_pj (index 4p + j) from columns 2tx−1 … 2tx+2,
    // that is S_p1[tx−1], S_p0[tx], S_p1[tx], S_p0[tx+1].
    for p in 0..2 {
        let (s0, s1) = (&s[(2 * p) * n..(2 * p + 1) * n], &s[(2 * p + 1) * n..(2 * p + 2) * n]);
        let cp = &mut c[4 * p * n..(4 * p + 4) * n];
        let (c0, rest) = cp.split_at_mut(n);
        let (c1, rest) = rest.split_at_mut(n);
        let (c2, c3) = rest.split_at_mut(n);
        // c0 = S_p1[tx−1] − S_p1[tx] (the element before a row's first tile belongs to the
        // previous row, so the first column is redone below); c3 = S_p0[tx] − S_p0[tx+1] likewise.
        c0[0] = -s1[0];
        sub_into(&mut c0[1..], &s1[..n - 1], &s1[1..]);
        add_into(c1, s0, s1);
        sub_into(c2, s1, s0);
        sub_into(&mut c3[..n - 1], &s0[..n - 1], &s0[1..]);
        for ty in 0..th {
            c0[ty * tw] = -s1[ty * tw];
            let last = ty * tw + tw - 1;
            c3[last] = s0[last];
        }
    }
    // Row transform Bᵀ along y: rows 2ty−1 … 2ty+2 are C_1j[ty−1], C_0j[ty], C_1j[ty], C_0j[ty+1].
    let first = tw.min(n);
    let mut v = rows_apart::<T, 16>(v, stride, n);
    for j in 0..4 {
        let (c0j, c1j) = (&c[j * n..(j + 1) * n], &c[(4 + j) * n..(5 + j) * n]);
        let [v0, v1, v2, v3] = [0, 4, 8, 12].map(|i| core::mem::take(&mut v[i + j]));
        for (d, &b) in v0[..first].iter_mut().zip(c1j) {
            *d = -b;
        }
        sub_into(&mut v0[first..], &c1j[..n - first], &c1j[first..]);
        add_into(v1, c0j, c1j);
        sub_into(v2, c1j, c0j);
        sub_into(&mut v3[..n - first], &c0j[..n - first], &c0j[first..]);
        v3[n - first..].copy_from_slice(&c0j[n - first..]);
    }
}

// Writes `E_ξ = (A e Aᵀ)_ξ` for the 2×2 tiles `e` of one output-gradient plane (`dy`: `[h, w]`) to
// `e[ξ · stride ..][.. th·tw]`; `work` is scratch of `12 · th·tw` elements.
fn transform_grad<T: WinogradElement>(tiles: Tiles, dy: &[T], e: &mut [T], stride: usize, work: &mut [T]) {
    if !T::transform_grad_rows(tiles, dy, e, stride) {
        transform_grad_planes(tiles, dy, e, stride, work);
    }
}
wide!(fn transform_grad_planes = transform_grad_body<T: WinogradElement>(tiles: Tiles, dy: &[T], e: &mut [T], stride: usize, work: &mut [T]));

#[inline(always)]
fn transform_grad_body<T: WinogradElement>(tiles: Tiles, dy: &[T], e: &mut [T], stride: usize, work: &mut [T]) {
    let n = tiles.len();
    let (d, f) = work[..12 * n].split_at_mut(4 * n);
    // D_ab = dy[2ty + a, 2tx + b]; A = [[1, 0], [1, 1], [1, −1], [0, −1]].
    parity_planes(tiles, dy, d);
    // Along x: F_aj (index 4a + j) = (1, 1, 1, 0)·D_a0 + (0, 1, −1, −1)·D_a1.
    for a in 0..2 {
        let (d0, d1) = (&d[2 * a * n..(2 * a + 1) * n], &d[(2 * a + 1) * n..(2 * a + 2) * n]);
        let fa = &mut f[4 * a * n..(4 * a + 4) * n];
        let (f0, rest) = fa.split_at_mut(n);
        let (f1, rest) = rest.split_at_mut(n);
        let (f2, f3) = rest.split_at_mut(n);
        f0.copy_from_slice(d0);
        add_into(f1, d0, d1);
        sub_into(f2, d0, d1);
        f3.iter_mut().zip(d1).for_each(|(o, &v)| *o = -v);
    }
    // Along y, the same combination of F_0j and F_1j.
    let mut e = rows_apart::<T, 16>(e, stride, n);
    for j in 0..4 {
        let (f0j, f1j) = (&f[j * n..(j + 1) * n], &f[(4 + j) * n..(5 + j) * n]);
        let [e0, e1, e2, e3] = [0, 4, 8, 12].map(|i| core::mem::take(&mut e[i + j]));
        e0.copy_from_slice(f0j);
        add_into(e1, f0j, f1j);
        sub_into(e2, f0j, f1j);
        e3.iter_mut().zip(f1j).for_each(|(o, &v)| *o = -v);
    }
}

// Writes one output plane (`y`: `[h, w]`) from `M_ξ` at `m[ξ · stride ..][.. th·tw]`; `work` is
// scratch of `8 · th·tw` elements.
fn transform_output<T: WinogradElement>(tiles: Tiles, m: &[T], stride: usize, y: &mut [Uninit<T>], work: &mut [T]) {
    if !T::transform_output_rows(tiles, m, stride, y) {
        transform_output_planes(tiles, m, stride, y, work);
    }
}
wide!(fn transform_output_planes = transform_output_body<T: WinogradElement>(tiles: Tiles, m: &[T], stride: usize, y: &mut [Uninit<T>], work: &mut [T]));

#[inline(always)]
fn transform_output_body<T: WinogradElement>(tiles: Tiles, m: &[T], stride: usize, y: &mut [Uninit<T>], work: &mut [T]) {
    let Tiles { h, w, th: _, tw } = tiles;
    let n = tiles.len();
    let mi = |xi: usize| &m[xi * stride..xi * stride + n];
    let (r, out) = work[..8 * n].split_at_mut(4 * n);
    // Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]] along y: R_j for output row parity a…
    // …and along x: Y_ab (index 2a + b), the output at (2ty + a, 2tx + b).
    for a in 0..2 {
        for j in 0..4 {
            let dst = &mut r[j * n..(j + 1) * n];
            let (m0, m1, m2, m3) = (mi(j), mi(4 + j), mi(8 + j), mi(12 + j));
            let pairs = dst.iter_mut().zip(m1.iter().zip(m2));
            if a == 0 {
                pairs.zip(m0).for_each(|((d, (&b, &c)), &a)| *d = a + b + c);
            } else {
                pairs.zip(m3).for_each(|((d, (&b, &c)), &e)| *d = b - c - e);
            }
        }
        let ra = &r[..4 * n];
        let (r0, r1, r2, r3) = (&ra[..n], &ra[n..2 * n], &ra[2 * n..3 * n], &ra[3 * n..]);
        let (y0, y1) = out[2 * a * n..(2 * a + 2) * n].split_at_mut(n);
        let mids = r1.iter().zip(r2);
        y0.iter_mut().zip(mids.clone().zip(r0)).for_each(|(d, ((&b, &c), &a))| *d = a + b + c);
        y1.iter_mut().zip(mids.zip(r3)).for_each(|(d, ((&b, &c), &e))| *d = b - c - e);
    }
    for oy in 0..h {
        let (a, ty) = (oy % 2, oy / 2);
        let (even, odd) = (&out[(2 * a) * n + ty * tw..][..tw], &out[(2 * a + 1) * n + ty * tw..][..tw]);
        let row = &mut y[oy * w..(oy + 1) * w];
        let dst = row.as_mut_ptr().cast::<T>();
        // Raw writes: the compiler vectorises this interleave only through a plain pointer.
        for (tx, (&e, &o)) in even[..w / 2].iter().zip(&odd[..w / 2]).enumerate() {
            // Safety: `2tx + 1 < w`, inside the row; writing initialises it.
            unsafe {
                *dst.add(2 * tx) = e;
                *dst.add(2 * tx + 1) = o;
            }
        }
        if w % 2 == 1 {
            row[w - 1].write(even[tw - 1]);
        }
    }
}

/// The convolution of `x` (`[batch, in_channels, h, w]`) with transformed filters `u`
/// (`[16, out_channels, in_channels]`), padding 1, as `[batch, out_channels, h, w]`.
fn convolve<T: WinogradElement>(x: &[T], batch: usize, in_channels: usize, h: usize, w: usize, u: &[T], out_channels: usize) -> Vec<T> {
    if let Some(y) = T::convolve_rows(x, batch, in_channels, h, w, u, out_channels) {
        return y;
    }
    let tiles = Tiles::new(h, w);
    let n = tiles.len();
    let (plane, image_in, image_out) = (h * w, in_channels * h * w, out_channels * h * w);
    // Enough images per GEMM to amortise it, while leaving a group for every thread.
    let group = balanced_group(batch, TARGET_TILES.div_ceil(n));
    per_images(batch, group, image_out, |first, out: &mut [Uninit<T>], parallel| {
        let count = out.len() / image_out;
        let columns = count * n;
        let ld = columns + ROW_PAD_BYTES / core::mem::size_of::<T>();
        let (v_len, m_len) = (16 * in_channels * ld, 16 * out_channels * ld);
        with_scratch(v_len + m_len + 12 * n, |scratch: &mut [T]| {
            let (v, rest) = scratch.split_at_mut(v_len);
            let (m, work) = rest.split_at_mut(m_len);
            for i in 0..count {
                let image = &x[(first + i) * image_in..(first + i + 1) * image_in];
                for c in 0..in_channels {
                    let dst = &mut v[c * ld + i * n..];
                    transform_input(tiles, &image[c * plane..(c + 1) * plane], dst, in_channels * ld, work);
                }
            }
            for xi in 0..16 {
                // Safety: U_ξ is [O, C], V_ξ [C, columns] and M_ξ [O, columns] with rows `ld` apart,
                // inside their buffers.
                unsafe {
                    gemm_strided(
                        out_channels,
                        columns,
                        in_channels,
                        Mat::rows(m[xi * out_channels * ld..].as_mut_ptr(), ld),
                        false,
                        Mat::rows(u[xi * out_channels * in_channels..].as_ptr(), in_channels),
                        Mat::rows(v[xi * in_channels * ld..].as_ptr(), ld),
                        parallel,
                    )
                };
            }
            for i in 0..count {
                for o in 0..out_channels {
                    let src = &m[o * ld + i * n..];
                    let dst = &mut out[(i * out_channels + o) * plane..(i * out_channels + o + 1) * plane];
                    transform_output(tiles, src, out_channels * ld, dst, work);
                }
            }
        });
    })
}

/// `Gᵀ d G` (3×3) for a 4×4 `d`, the adjoint of the filter transform.
fn filter_adjoint<T: WinogradElement>(d: [[T; 4]; 4]) -> [[T; 3]; 3] {
    let half = T::from(0.5).expect("0.5 is representable");
    let combine = |v: [T; 4]| [v[0] + half * (v[1] + v[2]), half * (v[1] - v[2]), half * (v[1] + v[2]) + v[3]];
    let rows: [[T; 4]; 3] = {
        let cols: [[T; 3]; 4] = core::array::from_fn(|j| combine([d[0][j], d[1][j], d[2][j], d[3][j]]));
        core::array::from_fn(|i| core::array::from_fn(|j| cols[j][i]))
    };
    rows.map(combine)
}

/// `dU_ξ [O, C] = (accumulate ? dU_ξ : 0) + E_ξ · V_ξᵀ` for every position `ξ < positions` of a
/// Winograd weight gradient: `dU_ξ` at `du[ξ · O · C ..]`, `E_ξ` (`[O, columns]`) at `e[ξ · O · ld ..]`
/// and `V_ξ` (`[C, columns]`) at `v[ξ · C · ld ..]`, rows `ld` apart.
#[allow(clippy::too_many_arguments)]
pub(super) fn weight_products<T: WinogradElement>(positions: usize, out_channels: usize, channels: usize, columns: usize, du: &mut [T], accumulate: bool, e: &[T], v: &[T], ld: usize, parallel: bool) {
    let pairs = out_channels * channels;
    assert!(
        du.len() >= positions * pairs
            && e.len() >= (positions * out_channels).saturating_sub(1) * ld + columns
            && v.len() >= (positions * channels).saturating_sub(1) * ld + columns,
        "winograd: weight-gradient operands too small"
    );
    for xi in 0..positions {
        // Safety: E_ξ is [O, columns] and V_ξ [C, columns] with rows `ld` apart (read transposed),
        // dU_ξ [O, C]; all inside their buffers (asserted).
        unsafe {
            gemm_strided(
                out_channels,
                channels,
                columns,
                Mat::rows(du[xi * pairs..].as_mut_ptr(), channels),
                accumulate,
                Mat::rows(e[xi * out_channels * ld..].as_ptr(), ld),
                Mat::transposed(v[xi * channels * ld..].as_ptr(), ld),
                parallel,
            )
        };
    }
}

/// The weight gradient (`[O, C, 3, 3]`) of a convolution for [`applies`] shapes, from its input `x`
/// (`x_shape`: `[N, C, H, W]`) and output gradient `dy` (`[N, O, H, W]`): with `E = A e Aᵀ` for each
/// 2×2 tile `e` of `dy`, `dU_ξ [O, C] = Σ_tiles E_ξ · V_ξᵀ` (16 GEMMs reducing over tiles) and
/// `dW = Gᵀ dU G`, the adjoint of the forward pass's `Y = Aᵀ ((G g Gᵀ) ⊙ V) A`. Planes below 16×16
/// go to F(4×4, 3×3)'s weight gradient instead (`conv2d_winograd_f4::weight_gradient`).
///
/// Deterministic for a given number of threads (see [`sum_over_image_ranges`]).
pub(crate) fn weight_gradient<T: WinogradElement>(x: &[T], x_shape: &[usize], dy: &[T], out_channels: usize) -> Vec<T> {
    let [batch, channels, h, w] = [x_shape[0], x_shape[1], x_shape[2], x_shape[3]];
    let f2_planes = if f4_everywhere() { usize::MAX } else { MIN_PLANE };
    if super::conv2d_winograd_f4::takes_weight_gradient(h, w, f2_planes) {
        return super::conv2d_winograd_f4::weight_gradient(x, x_shape, dy, out_channels);
    }
    let tiles = Tiles::new(h, w);
    let n = tiles.len();
    let (plane, image_in, image_out) = (h * w, channels * h * w, out_channels * h * w);
    let du_len = 16 * out_channels * channels;
    let parallel_gemm = batch < threads();
    let du = sum_over_image_ranges(batch, |start, end| {
        let mut du = vec![T::zero(); du_len];
        let group = WEIGHT_GRADIENT_TILES.div_ceil(n).min(end - start).max(1);
        let ld = group * n + ROW_PAD_BYTES / core::mem::size_of::<T>();
        let (v_len, e_len) = (16 * channels * ld, 16 * out_channels * ld);
        with_scratch(v_len + e_len + 12 * n, |scratch: &mut [T]| {
            let (v, rest) = scratch.split_at_mut(v_len);
            let (e, work) = rest.split_at_mut(e_len);
            for (gi, first) in (start..end).step_by(group).enumerate() {
                let count = group.min(end - first);
                for i in 0..count {
                    let (image, grad) = (&x[(first + i) * image_in..][..image_in], &dy[(first + i) * image_out..][..image_out]);
                    for c in 0..channels {
                        transform_input(tiles, &image[c * plane..][..plane], &mut v[c * ld + i * n..], channels * ld, work);
                    }
                    for o in 0..out_channels {
                        transform_grad(tiles, &grad[o * plane..][..plane], &mut e[o * ld + i * n..], out_channels * ld, work);
                    }
                }
                weight_products(16, out_channels, channels, count * n, &mut du, gi > 0, e, v, ld, parallel_gemm);
            }
        });
        du
    });
    let pairs = out_channels * channels;
    let mut dw = vec![T::zero(); pairs * 9];
    for (pair, out) in dw.chunks_exact_mut(9).enumerate() {
        let d = core::array::from_fn(|i| core::array::from_fn(|j| du[(i * 4 + j) * pairs + pair]));
        for (o, v) in out.iter_mut().zip(filter_adjoint(d).into_iter().flatten()) {
            *o = v;
        }
    }
    dw
}

/// Whether F(4×4, 3×3) takes every plane it applies to, the large ones too (forward pass, input and
/// weight gradients): on CPUs with AVX2 but not AVX-512, where the multiplications are the scarce
/// resource (one 8-lane fused multiply-add a cycle on the EPYC measured) and F(4×4, 3×3) needs 36
/// per 16 outputs against 64. There, with batch 128 on 2 threads (`examples/conv_ops.rs` in trgl),
/// 16 channels on 32×32 took 23.99–24.42 ms (forward, input and weight gradient) against
/// 26.24–26.54 with F(2×2, 3×3), 32 channels on 16×16 18.24–19.03 against 21.76–22.52. With AVX-512
/// the fused rows of `winograd_rows.rs` keep F(2×2, 3×3) faster on the large planes.
fn f4_everywhere() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    return super::wide_simd::avx2_only();
    #[allow(unreachable_code)]
    false
}
