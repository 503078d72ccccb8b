//! F(4×4, 3×3) fused per block of 16 tiles on AVX2 (added for trgl, see `vendor/README.md` in trgl).
//!
//! `conv2d_winograd_f4::convolve` transforms a group of images' planes into `V` (2¼× the input),
//! multiplies the 36 positions' matrices and transforms `M` back, each step a pass through memory.
//! Here 16 tiles (two 8-lane vectors, one tile per lane) go through all three steps while their `V`
//! and `M` (36 × channels vectors each) stay in L1/L2. The products sum over the channels in order
//! with fused multiply-adds from zero, as the plane-wise path does; the transforms fuse their
//! scalings into multiply-adds (see `avx2::input_1d`), so results differ from the plane-wise
//! path's by rounding. The tests compare both with a direct f64 reference.
//!
//! Tiles are taken in pairs: a *segment* is 8 pixels of a row, the same row of two neighbouring
//! tiles. Four segments (rows of eight pixels: one row of a 32-wide plane, one row of two tile rows
//! of a 16-wide plane, or one row of the four tile rows of two 8×8 images) load as four vectors, and
//! an in-lane 4×4 transpose turns them into the four pixel columns of their eight tiles — left
//! tiles in the low half, right tiles in the high half. The columns just outside a tile (4tx − 1
//! and 4tx + 4) are the neighbouring tile's, moved into place by one permutation and masked to the
//! padding's zero where the neighbour is in another tile row or image. The output goes back through
//! the same transpose. Planes 8, 16 or 32 wide, any height.

use alloc::vec::Vec;

use super::conv2d_gemm::Uninit;

/// Tiles that go through the transforms and products together: two 8-lane vectors.
const BLOCK: usize = 16;

/// Floats from one position's `V`, `M` or `E` (`channels` rows of `row` floats) to the next's: a
/// cache line more than the data, so that the 36 positions a transform writes or reads are not a
/// power of two apart (they fell into a few sets of the L1 cache: 5–6 % of the three passes' time
/// at 32 and 64 channels, `examples/conv_ops.rs` in trgl).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn position_stride(channels: usize, row: usize) -> usize {
    channels * row + 16
}

/// Whether [`convolve_fused`] takes a plane `w` wide from `in_c` to `out_c` channels on this CPU:
/// AVX2 without AVX-512 (the CPUs it was measured on; AVX-512 ones have their own paths).
pub(super) fn applies(h: usize, w: usize, in_c: usize, out_c: usize) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        h > 0 && (w == 8 || w == 16 || w == 32) && in_c > 0 && out_c % 4 == 0 && out_c > 0 && super::wide_simd::avx2_only()
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        let _ = (h, w, in_c, out_c);
        false
    }
}

/// The convolution of `x` (`[batch, in_c, h, w]`) with the transformed filters `u` (`[36, in_c,
/// out_c]`, `conv2d_winograd_f4::transform_filter` with `by_input`: the products broadcast one
/// filter value per output channel), padding 1, as `[batch, out_c, h, w]`; `None`
/// where [`applies`] does not hold.
pub(super) fn convolve_fused(x: &[f32], batch: usize, in_c: usize, h: usize, w: usize, u: &[f32], out_c: usize) -> Option<Vec<f32>> {
    if !applies(h, w, in_c, out_c) {
        return None;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use super::conv2d_gemm::{balanced_group, per_images, with_scratch};
        let plane = h * w;
        assert!(x.len() >= batch * in_c * plane && u.len() >= 36 * out_c * in_c, "fused winograd F(4x4): buffers too small");
        let layout = Layout { h, w, in_c, out_c, tiles_per_image: h.div_ceil(4) * (w / 4) };
        let (image_in, image_out) = (in_c * plane, out_c * plane);
        // A few blocks per chunk of images, and a chunk for every thread.
        let group = balanced_group(batch, (4 * BLOCK).div_ceil(layout.tiles_per_image));
        return Some(per_images(batch, group, image_out, |first, out: &mut [Uninit<f32>], _parallel| {
            let count = out.len() / image_out;
            let images = &x[first * image_in..(first + count) * image_in];
            with_scratch(36 * (position_stride(in_c, BLOCK) + position_stride(out_c, BLOCK)), |scratch: &mut [f32]| {
                let (vbuf, mbuf) = scratch.split_at_mut(36 * position_stride(in_c, BLOCK));
                for first_tile in (0..count * layout.tiles_per_image).step_by(BLOCK) {
                    // Safety: AVX2 and FMA (`applies`); `images` holds `count` images, `out` their
                    // outputs, the buffers 36 positions of `position_stride`, `u` 36 × in_c × out_c.
                    unsafe { avx2::block(&layout, images.as_ptr(), count, first_tile, u.as_ptr(), vbuf.as_mut_ptr(), mbuf.as_mut_ptr(), out.as_mut_ptr().cast()) };
                }
            })
        }));
    }
    #[allow(unreachable_code)]
    None
}

/// Tiles per weight-gradient group: its `V` and `E` (36 × channels rows of them) are transformed,
/// then reduced over in one pass per position.
const GROUP: usize = 128;

/// Whether [`weight_gradient_fused`] takes these shapes: those of [`applies`] with input channels in pairs.
pub(super) fn applies_to_weight_gradient(h: usize, w: usize, in_c: usize, out_c: usize) -> bool {
    applies(h, w, in_c, out_c) && in_c % 2 == 0
}

/// Adds the weight gradient's `dU_ξ = Σ_tiles E_ξ · V_ξᵀ` (`du`: `[36, out_c, in_c]`) of images
/// `first .. first + count` of `x` (`[N, in_c, h, w]`) and of the output gradient `dy` (`[N, out_c,
/// h, w]`), with the transforms of `conv2d_winograd_f4::weight_gradient`; `false` (and nothing done)
/// where [`applies_to_weight_gradient`] does not hold. Sums in a fixed order for given images.
#[allow(clippy::too_many_arguments)]
pub(super) fn weight_gradient_fused(x: &[f32], dy: &[f32], first: usize, count: usize, in_c: usize, out_c: usize, h: usize, w: usize, du: &mut [f32]) -> bool {
    if !applies_to_weight_gradient(h, w, in_c, out_c) {
        return false;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use super::conv2d_gemm::with_scratch;
        let plane = h * w;
        let (image_in, image_out) = (in_c * plane, out_c * plane);
        assert!(
            x.len() >= (first + count) * image_in && dy.len() >= (first + count) * image_out && du.len() >= 36 * out_c * in_c,
            "fused winograd F(4x4) weight gradient: buffers too small"
        );
        let layout = Layout { h, w, in_c, out_c, tiles_per_image: h.div_ceil(4) * (w / 4) };
        let images_per_group = (GROUP / layout.tiles_per_image).max(1);
        // Rows padded by a cache line, and positions by one more (`in_c · ld` alone would put the 36
        // positions a multiple of 16 lines apart at 16 channels).
        let ld = (images_per_group * layout.tiles_per_image).next_multiple_of(8) + 16;
        let (v_stride, e_stride) = (position_stride(in_c, ld), position_stride(out_c, ld));
        with_scratch(36 * (v_stride + e_stride), |scratch: &mut [f32]| {
            let (vbuf, ebuf) = scratch.split_at_mut(36 * v_stride);
            for start in (first..first + count).step_by(images_per_group) {
                let n = images_per_group.min(first + count - start);
                // Safety: AVX2 and FMA (`applies`); the images, gradients, buffers and `du` hold what
                // the kernels read and write (asserted above, `ld` rows of at least the group's tiles).
                unsafe {
                    avx2::weight_gradient_group(&layout, x[start * image_in..].as_ptr(), dy[start * image_out..].as_ptr(), n, ld, [v_stride, e_stride], vbuf.as_mut_ptr(), ebuf.as_mut_ptr(), du.as_mut_ptr())
                };
            }
        });
        return true;
    }
    #[allow(unreachable_code)]
    false
}

/// Shapes of one call.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[derive(Clone, Copy)]
struct Layout {
    h: usize,
    w: usize,
    in_c: usize,
    out_c: usize,
    tiles_per_image: usize,
}

/// Segment `g` of a chunk of images (pairs of tiles in image, tile row, tile column order): its image,
/// its tile row and its first column, or `None` past the chunk's last image.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn segment(layout: &Layout, count: usize, g: usize) -> Option<(usize, usize, usize)> {
    let per_row = layout.w / 8;
    let per_image = layout.tiles_per_image / 2;
    let (image, rest) = (g / per_image, g % per_image);
    (image < count).then_some((image, rest / per_row, 8 * (rest % per_row)))
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx2 {
    use super::*;
    use core::arch::x86_64::*;

    /// Lanes of the permutations that bring the neighbouring tiles' columns into place: for the left
    /// tile of segment s (lane s) the column before it is the right tile of segment s − 1 (lane
    /// 4 + s − 1), for the right tile (lane 4 + s) the left tile of its own segment (lane s); after
    /// it, the right tile of the same segment and the left tile of segment s + 1.
    const PREV: [i32; 8] = [0, 4, 5, 6, 0, 1, 2, 3];
    const NEXT: [i32; 8] = [4, 5, 6, 7, 1, 2, 3, 0];

    /// Loads the eight pixels of `segment`'s window row `j` (plane row 4ty − 1 + j) of channel
    /// `c` of images of `channels` planes, zero outside the plane or past the last image.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load_row(layout: &Layout, x: *const f32, channels: usize, segment: Option<(usize, usize, usize)>, c: usize, j: usize) -> __m256 {
        match segment {
            Some((image, ty, col)) if (4 * ty + j).wrapping_sub(1) < layout.h => {
                let row = 4 * ty + j - 1;
                unsafe { _mm256_loadu_ps(x.add(((image * channels + c) * layout.h + row) * layout.w + col)) }
            }
            _ => _mm256_setzero_ps(),
        }
    }

    /// In-lane 4×4 transpose: lane half h of result q holds element q of half h of each of `r`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn transpose4(r: [__m256; 4]) -> [__m256; 4] {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        [_mm256_shuffle_ps::<0x44>(t0, t2), _mm256_shuffle_ps::<0xEE>(t0, t2), _mm256_shuffle_ps::<0x44>(t1, t3), _mm256_shuffle_ps::<0xEE>(t1, t3)]
    }

    /// `Bᵀ d` of six inputs: `conv2d_winograd_f4::input_1d`'s sums with the scalings fused into
    /// multiply-adds (6 adds and 8 multiply-adds instead of 14 adds and 6 multiplications): forward
    /// pass, input and weight gradient together 1–3 % faster (`examples/conv_ops.rs` in trgl).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn input_1d(d: [__m256; 6]) -> [__m256; 6] {
        let (two, four, five) = (_mm256_set1_ps(2.0), _mm256_set1_ps(4.0), _mm256_set1_ps(5.0));
        let (a, b, c, e) = (d[1], d[2], d[3], d[4]);
        let (eb, ca) = (_mm256_sub_ps(e, b), _mm256_sub_ps(c, a));
        [
            _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, b, e)),
            _mm256_fnmadd_ps(four, _mm256_add_ps(a, b), _mm256_add_ps(e, c)),
            _mm256_fmadd_ps(four, _mm256_sub_ps(a, b), _mm256_sub_ps(e, c)),
            _mm256_fmadd_ps(two, ca, eb),
            _mm256_fnmadd_ps(two, ca, eb),
            _mm256_fmadd_ps(four, a, _mm256_fnmadd_ps(five, c, d[5])),
        ]
    }

    /// `Aᵀ m` of six inputs: `conv2d_winograd_f4::output_1d` with fused scalings (see [`input_1d`]).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn output_1d(m: [__m256; 6]) -> [__m256; 4] {
        let (two, four, eight) = (_mm256_set1_ps(2.0), _mm256_set1_ps(4.0), _mm256_set1_ps(8.0));
        let (s12, d12) = (_mm256_add_ps(m[1], m[2]), _mm256_sub_ps(m[1], m[2]));
        let (s34, d34) = (_mm256_add_ps(m[3], m[4]), _mm256_sub_ps(m[3], m[4]));
        [
            _mm256_add_ps(_mm256_add_ps(m[0], s12), s34),
            _mm256_fmadd_ps(two, d34, d12),
            _mm256_fmadd_ps(four, s34, s12),
            _mm256_add_ps(_mm256_fmadd_ps(eight, d34, d12), m[5]),
        ]
    }

    /// `A g` of four inputs: `conv2d_winograd_f4::grad_1d` with fused scalings (see [`input_1d`]).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn grad_1d(g: [__m256; 4]) -> [__m256; 6] {
        let (two, four) = (_mm256_set1_ps(2.0), _mm256_set1_ps(4.0));
        let [a, b, c, d] = g;
        let (s02, s13) = (_mm256_add_ps(a, c), _mm256_add_ps(b, d));
        let (even, odd) = (_mm256_fmadd_ps(four, c, a), _mm256_fmadd_ps(four, d, b));
        [a, _mm256_add_ps(s02, s13), _mm256_sub_ps(s02, s13), _mm256_fmadd_ps(two, odd, even), _mm256_fnmadd_ps(two, odd, even), d]
    }

    /// Four segments from `first` (one vector of eight tiles) and the masks of their neighbouring
    /// columns: a tile's neighbour in another tile row or image reads the padding's zero.
    struct Quad {
        segments: [Option<(usize, usize, usize)>; 4],
        prev_mask: __m256,
        next_mask: __m256,
    }

    impl Quad {
        #[inline]
    #[target_feature(enable = "avx2,fma")]
        fn new(layout: &Layout, count: usize, first: usize) -> Self {
            let segments: [_; 4] = core::array::from_fn(|s| segment(layout, count, first + s));
            let adjacent = |s: usize| -> i32 {
                match (segments[s], segments[s + 1]) {
                    (Some((i, ty, _)), Some((j, uy, _))) if i == j && ty == uy => -1,
                    _ => 0,
                }
            };
            let (a01, a12, a23) = (adjacent(0), adjacent(1), adjacent(2));
            Self {
                segments,
                prev_mask: _mm256_castsi256_ps(_mm256_setr_epi32(0, a01, a12, a23, -1, -1, -1, -1)),
                next_mask: _mm256_castsi256_ps(_mm256_setr_epi32(-1, -1, -1, -1, a01, a12, a23, 0)),
            }
        }
    }

    /// `V_ξ` of the eight tiles of `quad`, channel `c`, written at `v + ξ · stride` (eight lanes).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn input_vector(layout: &Layout, x: *const f32, quad: &Quad, c: usize, v: *mut f32, stride: usize) {
        let (prev, next) = (unsafe { _mm256_loadu_si256(PREV.as_ptr().cast()) }, unsafe { _mm256_loadu_si256(NEXT.as_ptr().cast()) });
        // Along x, per window row j: the six columns 4tx − 1 … 4tx + 4 of each tile.
        // (Arrays built by `from_fn`, not zeroed and then filled: the zeroing was a `memset` call per
        // channel and tile vector, 2.4 % of a resnet20 e2e step's samples.)
        let rows: [[__m256; 6]; 6] = core::array::from_fn(|j| {
            let p = transpose4(core::array::from_fn(|s| unsafe { load_row(layout, x, layout.in_c, quad.segments[s], c, j) }));
            let before = _mm256_and_ps(_mm256_permutevar8x32_ps(p[3], prev), quad.prev_mask);
            let after = _mm256_and_ps(_mm256_permutevar8x32_ps(p[0], next), quad.next_mask);
            input_1d([before, p[0], p[1], p[2], p[3], after])
        });
        // Along y, per column k: V_ξ at ξ = 6i + k.
        for k in 0..6 {
            let column = input_1d(core::array::from_fn(|j| rows[j][k]));
            for (i, value) in column.into_iter().enumerate() {
                unsafe { _mm256_storeu_ps(v.add((6 * i + k) * stride), value) };
            }
        }
    }

    /// `E_ξ = (A e Aᵀ)_ξ` of the eight 4×4 tiles of `quad` of channel `o` of the output gradient
    /// `dy`, written at `e + ξ · stride` (eight lanes).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn grad_vector(layout: &Layout, dy: *const f32, quad: &Quad, o: usize, e: *mut f32, stride: usize) {
        // Along x, per row a of the tiles, then along y per column k: E_ξ at ξ = 6i + k.
        let rows: [[__m256; 6]; 4] = core::array::from_fn(|a| grad_1d(transpose4(core::array::from_fn(|s| unsafe { load_row(layout, dy, layout.out_c, quad.segments[s], o, a + 1) }))));
        for k in 0..6 {
            let column = grad_1d(core::array::from_fn(|a| rows[a][k]));
            for (i, value) in column.into_iter().enumerate() {
                unsafe { _mm256_storeu_ps(e.add((6 * i + k) * stride), value) };
            }
        }
    }

    /// Sum of the eight lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn lane_sum(a: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps::<1>(a));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps::<1>(s, s)))
    }

    /// `du[o · in_c + c] += Σ_t e[o · ld + t] · v[c · ld + t]` over `vectors` vectors of tiles, four output
    /// and two input channels at a time (8 accumulators).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn weight_products(in_c: usize, out_c: usize, vectors: usize, e: *const f32, v: *const f32, ld: usize, du: *mut f32) {
        for ob in (0..out_c).step_by(4) {
            for cb in (0..in_c).step_by(2) {
                let mut acc = [[_mm256_setzero_ps(); 2]; 4];
                for t in 0..vectors {
                    let vs: [__m256; 2] = core::array::from_fn(|j| unsafe { _mm256_loadu_ps(v.add((cb + j) * ld + 8 * t)) });
                    for (i, acc) in acc.iter_mut().enumerate() {
                        let ev = unsafe { _mm256_loadu_ps(e.add((ob + i) * ld + 8 * t)) };
                        acc[0] = _mm256_fmadd_ps(ev, vs[0], acc[0]);
                        acc[1] = _mm256_fmadd_ps(ev, vs[1], acc[1]);
                    }
                }
                for (i, acc) in acc.into_iter().enumerate() {
                    for (j, acc) in acc.into_iter().enumerate() {
                        unsafe { *du.add((ob + i) * in_c + cb + j) += lane_sum(acc) };
                    }
                }
            }
        }
    }

    /// Adds `dU_ξ = Σ_tiles E_ξ · V_ξᵀ` (`du`: `[36, out_c, in_c]`) of the `count` images `x` (and
    /// their output gradients `dy`), `GROUP` tiles at a time; `vbuf` and `ebuf` hold 36 positions
    /// `strides` apart of in_c and out_c rows of `ld` floats.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn weight_gradient_group(layout: &Layout, x: *const f32, dy: *const f32, count: usize, ld: usize, strides: [usize; 2], vbuf: *mut f32, ebuf: *mut f32, du: *mut f32) {
        let Layout { in_c, out_c, .. } = *layout;
        let [v_stride, e_stride] = strides;
        let vectors = (count * layout.tiles_per_image).div_ceil(8);
        for q in 0..vectors {
            let quad = Quad::new(layout, count, 4 * q);
            for c in 0..in_c {
                unsafe { input_vector(layout, x, &quad, c, vbuf.add(c * ld + 8 * q), v_stride) };
            }
            for o in 0..out_c {
                unsafe { grad_vector(layout, dy, &quad, o, ebuf.add(o * ld + 8 * q), e_stride) };
            }
        }
        for xi in 0..36 {
            unsafe { weight_products(in_c, out_c, vectors, ebuf.add(xi * e_stride), vbuf.add(xi * v_stride), ld, du.add(xi * out_c * in_c)) };
        }
    }

    /// Output channel `o` of the eight tiles of `quad` from `M_ξ` at `m + ξ · stride`, into `y` (the
    /// chunk's outputs).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn output_vector(layout: &Layout, y: *mut f32, quad: &Quad, o: usize, m: *const f32, stride: usize) {
        // Along y, per column j: R_aj from M_ij (ξ = 6i + j).
        let columns: [[__m256; 4]; 6] = core::array::from_fn(|j| output_1d(core::array::from_fn(|i| unsafe { _mm256_loadu_ps(m.add((6 * i + j) * stride)) })));
        // Along x, per output row phase a, then back to rows of eight pixels per segment.
        for a in 0..4 {
            let out = transpose4(output_1d(core::array::from_fn(|j| columns[j][a])));
            for (segment, value) in quad.segments.iter().zip(out) {
                if let Some((image, ty, col)) = *segment {
                    let row = 4 * ty + a;
                    if row < layout.h {
                        unsafe { _mm256_storeu_ps(y.add(((image * layout.out_c + o) * layout.h + row) * layout.w + col), value) };
                    }
                }
            }
        }
    }

    /// `m[o] = Σ_c u[c · out_c + o] · v[c]` for the output channels, each `m[o]` and `v[c]` a
    /// block of 16 tiles, four output channels at a time (8 accumulators).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn products(in_c: usize, out_c: usize, v: *const f32, u: *const f32, m: *mut f32) {
        for ob in (0..out_c).step_by(4) {
            let mut acc = [[_mm256_setzero_ps(); 2]; 4];
            for c in 0..in_c {
                let (v0, v1) = unsafe { (_mm256_loadu_ps(v.add(c * BLOCK)), _mm256_loadu_ps(v.add(c * BLOCK + 8))) };
                let uc = unsafe { u.add(c * out_c + ob) };
                for (o, acc) in acc.iter_mut().enumerate() {
                    let b = unsafe { _mm256_broadcast_ss(&*uc.add(o)) };
                    acc[0] = _mm256_fmadd_ps(b, v0, acc[0]);
                    acc[1] = _mm256_fmadd_ps(b, v1, acc[1]);
                }
            }
            for (o, acc) in acc.into_iter().enumerate() {
                unsafe {
                    _mm256_storeu_ps(m.add((ob + o) * BLOCK), acc[0]);
                    _mm256_storeu_ps(m.add((ob + o) * BLOCK + 8), acc[1]);
                }
            }
        }
    }

    /// Tiles `first_tile .. first_tile + BLOCK` of a chunk of `count` images (`x`), from input to output
    /// (`y`); `vbuf` and `mbuf` hold 36 positions `position_stride` apart of in_c and out_c blocks of tiles, `ut` is `[36, in_c, out_c]`.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn block(layout: &Layout, x: *const f32, count: usize, first_tile: usize, ut: *const f32, vbuf: *mut f32, mbuf: *mut f32, y: *mut f32) {
        let Layout { in_c, out_c, .. } = *layout;
        let quads = [0, 1].map(|half| Quad::new(layout, count, first_tile / 2 + 4 * half));
        for c in 0..in_c {
            for (half, quad) in quads.iter().enumerate() {
                unsafe { input_vector(layout, x, quad, c, vbuf.add(c * BLOCK + 8 * half), position_stride(in_c, BLOCK)) };
            }
        }
        for xi in 0..36 {
            unsafe { products(in_c, out_c, vbuf.add(xi * position_stride(in_c, BLOCK)), ut.add(xi * in_c * out_c), mbuf.add(xi * position_stride(out_c, BLOCK))) };
        }
        for o in 0..out_c {
            for (half, quad) in quads.iter().enumerate() {
                unsafe { output_vector(layout, y, quad, o, mbuf.add(o * BLOCK + 8 * half), position_stride(out_c, BLOCK)) };
            }
        }
    }
}
