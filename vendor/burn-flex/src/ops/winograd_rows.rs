//! The F(2×2, 3×3) transforms of `conv2d_winograd.rs` with a whole row of tiles in one AVX-512
//! register (added for trgl; see `vendor/README.md` in trgl).
//!
//! The plane-wise transforms there gather a plane into its parity sub-planes and then make about
//! thirty passes over scratch memory. A plane at most 32 pixels wide has at most 16 tiles per row,
//! one per lane: here each input row is loaded once, split into its even and odd columns (and their
//! neighbours) by permutes in registers, and every transformed value is stored once, straight into
//! its matrix. Planes at most 16 pixels wide put two rows of tiles in one register. The arithmetic
//! is that of the plane-wise code, operation for operation and in the same order, so results are
//! the same except, at the padding, for the sign of a zero.
//!
//! Only planes of even width up to 32 and f32 on CPUs with AVX-512 take this path; the functions
//! return `false` where they did nothing and the plane-wise code runs instead.
//!
//! Planes exactly 32 or 16 wide with output channels in blocks of 16 go further
//! ([`convolve_fused`]): the forward pass and input gradient run one row of tiles at a time through
//! the input transform, the products and the output transform, so that nothing leaves L1 between
//! them — the products there by a 16-accumulator kernel instead of a gemm call per position.

#[cfg(all(feature = "std", target_arch = "x86_64"))]
use core::arch::x86_64::*;

use super::conv2d_gemm::Uninit;

/// Whether [`transform_input`] and the others handle planes of this shape on this CPU.
fn applies(h: usize, w: usize) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        h > 0 && w > 0 && w % 2 == 0 && w <= 32 && super::wide_simd::has_avx512()
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        let _ = (h, w);
        false
    }
}

/// Whether this path takes a plane of `h × w` on this CPU; if so, asserts that the plane's buffer
/// (`plane_len` elements) and the 16 transformed matrices (`matrices_len`, rows `stride` apart) hold
/// what the kernels read and write.
fn takes(h: usize, w: usize, plane_len: usize, matrices_len: usize, stride: usize) -> bool {
    if !applies(h, w) {
        return false;
    }
    let tiles = h.div_ceil(2) * (w / 2);
    assert!(plane_len >= h * w && stride >= tiles && matrices_len >= 15 * stride + tiles, "winograd rows: buffers too small");
    true
}

/// `V_ξ = (Bᵀ d B)_ξ` for every 4×4 input tile `d` of one plane (`x`: `[h, w]`, padding 1), written
/// to `v[ξ · stride + tile]`; as `conv2d_winograd::transform_input_planes`.
pub(super) fn transform_input(h: usize, w: usize, x: &[f32], v: &mut [f32], stride: usize) -> bool {
    if !takes(h, w, x.len(), v.len(), stride) {
        return false;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    // Safety: the CPU has AVX-512 and the buffers are large enough (`takes`).
    unsafe {
        if w > 16 { avx512::input_one_row(h, w, x.as_ptr(), v.as_mut_ptr(), stride) } else { avx512::input_two_rows(h, w, x.as_ptr(), v.as_mut_ptr(), stride) }
    }
    true
}

/// `E_ξ = (A e Aᵀ)_ξ` for every 2×2 tile `e` of one output-gradient plane (`dy`: `[h, w]`), written to
/// `e[ξ · stride + tile]`; as `conv2d_winograd::transform_grad_planes`.
pub(super) fn transform_grad(h: usize, w: usize, dy: &[f32], e: &mut [f32], stride: usize) -> bool {
    if !takes(h, w, dy.len(), e.len(), stride) {
        return false;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    // Safety: as in `transform_input`.
    unsafe {
        if w > 16 { avx512::grad_one_row(h, w, dy.as_ptr(), e.as_mut_ptr(), stride) } else { avx512::grad_two_rows(h, w, dy.as_ptr(), e.as_mut_ptr(), stride) }
    }
    true
}

/// One output plane (`y`: `[h, w]`) from `M_ξ` at `m[ξ · stride + tile]`, `Y = Aᵀ M A` per tile; as
/// `conv2d_winograd::transform_output_planes`.
pub(super) fn transform_output(h: usize, w: usize, m: &[f32], stride: usize, y: &mut [Uninit<f32>]) -> bool {
    if !takes(h, w, y.len(), m.len(), stride) {
        return false;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    // Safety: as in `transform_input`; every element of `y`'s plane is written.
    unsafe {
        if w > 16 { avx512::output_one_row(h, w, m.as_ptr(), stride, y.as_mut_ptr().cast()) } else { avx512::output_two_rows(h, w, m.as_ptr(), stride, y.as_mut_ptr().cast()) }
    }
    true
}

/// The whole F(2×2, 3×3) convolution of `x` (`[batch, in_c, h, w]`, padding 1) with the transformed
/// filters `u` (`[16, out_c, in_c]`), for planes 32 or 16 wide and output channels in blocks of 16, one
/// row of tiles at a time (two on 16-wide planes): the row's transformed input for every channel
/// (16 × in_c vectors of its tiles) and its products (16 × out_c vectors) stay in L1 from the input
/// transform through the products to the output transform. The plane-wise path writes a whole image's
/// `V` and `M` (4× the image each) out to L2 between those steps and makes 16 gemm calls per image
/// (packing, blocking parameters: ~8 % of the convolution on 32×32 planes). `None` where it does not
/// apply. Sums over the channels in order; the transforms are those of the functions above.
pub(super) fn convolve_fused(x: &[f32], batch: usize, in_c: usize, h: usize, w: usize, u: &[f32], out_c: usize) -> Option<Vec<f32>> {
    if !(applies(h, w) && (w == 32 || w == 16) && out_c % 16 == 0 && in_c > 0) {
        return None;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use super::conv2d_gemm::{per_images, with_scratch};
        let plane = h * w;
        assert!(x.len() >= batch * in_c * plane && u.len() >= 16 * out_c * in_c, "fused winograd: buffers too small");
        let mut ut = vec![0f32; 16 * in_c * out_c];
        for xi in 0..16 {
            for o in 0..out_c {
                for c in 0..in_c {
                    ut[(xi * in_c + c) * out_c + o] = u[(xi * out_c + o) * in_c + c];
                }
            }
        }
        let (image_in, image_out) = (in_c * plane, out_c * plane);
        return Some(per_images(batch, 1, image_out, |first, out: &mut [Uninit<f32>], _parallel| {
            let count = out.len() / image_out;
            with_scratch(16 * 16 * (in_c + out_c), |scratch: &mut [f32]| {
                let (vbuf, mbuf) = scratch.split_at_mut(16 * 16 * in_c);
                for i in 0..count {
                    let xi = &x[(first + i) * image_in..(first + i + 1) * image_in];
                    let yi = &mut out[i * image_out..(i + 1) * image_out];
                    // Safety: AVX-512 (`applies`); the image, the filters and both buffers hold what the kernel reads and writes.
                    unsafe {
                        if w == 32 {
                            avx512::convolve_image(h, xi.as_ptr(), in_c, ut.as_ptr(), out_c, vbuf.as_mut_ptr(), mbuf.as_mut_ptr(), yi.as_mut_ptr().cast())
                        } else {
                            avx512::convolve_image_narrow(h, xi.as_ptr(), in_c, ut.as_ptr(), out_c, vbuf.as_mut_ptr(), mbuf.as_mut_ptr(), yi.as_mut_ptr().cast())
                        }
                    };
                }
            })
        }));
    }
    #[allow(unreachable_code)]
    None
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(super) mod avx512 {
    use super::*;

    // Permute tables over two source registers (lanes 0–15 the first, 16–31 the second). With a
    // row's pixels 0–15 and 16–31 as sources, lane t of the result is tile t's column 2t (EVEN),
    // 2t + 1 (ODD), 2t − 1 (PREV) or 2t + 2 (NEXT); with two rows of at most 16 pixels as sources the
    // same tables give tiles 0–7 of the first in lanes 0–7 and of the second in lanes 8–15, once the
    // lanes that would read across rows (PREV's lane 8, NEXT's lane 7) are masked to the padding's zero.
    pub(in crate::ops) const EVEN: [i32; 16] = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];
    pub(in crate::ops) const ODD: [i32; 16] = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31];
    pub(in crate::ops) const PREV: [i32; 16] = [0, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29];
    const NEXT: [i32; 16] = [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 0];
    // The inverse: the even and odd output columns of lanes 0–7 (LOW) or 8–15 (HIGH), interleaved.
    pub(in crate::ops) const LOW: [i32; 16] = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];
    pub(in crate::ops) const HIGH: [i32; 16] = [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31];

    /// Lane masks of a row: PREV's and NEXT's padding lanes with one or two rows per register.
    const ONE_ROW: (u16, u16) = (0xFFFE, 0x7FFF);
    const TWO_ROWS: (u16, u16) = (0xFEFE, 0x7F7F);

    /// How far ahead of the row being loaded the next rows are prefetched.
    const PREFETCH_ROWS: usize = 4;

    #[inline(always)]
    pub(in crate::ops) fn table(t: [i32; 16]) -> __m512i {
        // Safety: 64 bytes to 64 bytes.
        unsafe { core::mem::transmute::<[i32; 16], __m512i>(t) }
    }

    #[inline(always)]
    pub(in crate::ops) fn lanes(n: usize) -> u16 {
        ((1u32 << n) - 1) as u16
    }

    #[target_feature(enable = "avx512f")]
    fn neg(v: __m512) -> __m512 {
        _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32(i32::MIN)))
    }

    /// `Bᵀ` along a row: `[d0 − d2, d1 + d2, d2 − d1, d1 − d3]` with `d0 … d3` the columns 2t − 1 … 2t + 2.
    #[target_feature(enable = "avx512f")]
    fn input_columns(a: __m512, b: __m512, (prev, next): (u16, u16)) -> [__m512; 4] {
        let d0 = _mm512_maskz_permutex2var_ps(prev, a, table(PREV), b);
        let d1 = _mm512_permutex2var_ps(a, table(EVEN), b);
        let d2 = _mm512_permutex2var_ps(a, table(ODD), b);
        let d3 = _mm512_maskz_permutex2var_ps(next, a, table(NEXT), b);
        [_mm512_sub_ps(d0, d2), _mm512_add_ps(d1, d2), _mm512_sub_ps(d2, d1), _mm512_sub_ps(d1, d3)]
    }

    /// `A` along a row: `[d0, d0 + d1, d0 − d1, −d1]` with `d0, d1` the columns 2t, 2t + 1.
    #[target_feature(enable = "avx512f")]
    fn grad_columns(a: __m512, b: __m512) -> [__m512; 4] {
        let d0 = _mm512_permutex2var_ps(a, table(EVEN), b);
        let d1 = _mm512_permutex2var_ps(a, table(ODD), b);
        [d0, _mm512_add_ps(d0, d1), _mm512_sub_ps(d0, d1), neg(d1)]
    }

    /// Stores the tiles in `mask`'s lanes contiguously at `dst` (`packed`: the mask's lanes already are).
    #[target_feature(enable = "avx512f")]
    unsafe fn store_tiles(dst: *mut f32, mask: u16, packed: bool, value: __m512) {
        unsafe {
            if packed {
                _mm512_mask_storeu_ps(dst, mask, value)
            } else {
                _mm512_mask_storeu_ps(dst, lanes(mask.count_ones() as usize), _mm512_maskz_compress_ps(mask, value))
            }
        }
    }

    /// The 16 rows `V_{4i+j}` of one or two rows of tiles from the columns' transforms `c[k]` of
    /// the input rows 2ty − 1 + k (`Bᵀ` along y), stored at `dst + ξ · stride`.
    #[target_feature(enable = "avx512f")]
    unsafe fn store_input_rows(c: &[[__m512; 4]; 4], dst: *mut f32, stride: usize, mask: u16, packed: bool) {
        for j in 0..4 {
            let rows = [
                _mm512_sub_ps(c[0][j], c[2][j]),
                _mm512_add_ps(c[1][j], c[2][j]),
                _mm512_sub_ps(c[2][j], c[1][j]),
                _mm512_sub_ps(c[1][j], c[3][j]),
            ];
            for (i, row) in rows.into_iter().enumerate() {
                unsafe { store_tiles(dst.add((4 * i + j) * stride), mask, packed, row) };
            }
        }
    }

    /// As [`store_input_rows`] for `A` along y from the columns' transforms of rows 2ty and 2ty + 1.
    #[target_feature(enable = "avx512f")]
    unsafe fn store_grad_rows(f: &[[__m512; 4]; 2], dst: *mut f32, stride: usize, mask: u16, packed: bool) {
        for j in 0..4 {
            let rows = [f[0][j], _mm512_add_ps(f[0][j], f[1][j]), _mm512_sub_ps(f[0][j], f[1][j]), neg(f[1][j])];
            for (i, row) in rows.into_iter().enumerate() {
                unsafe { store_tiles(dst.add((4 * i + j) * stride), mask, packed, row) };
            }
        }
    }

    /// Row `r` of a plane at most 32 wide as pixels 0–15 and 16–31, zero outside the plane.
    #[target_feature(enable = "avx512f")]
    pub(in crate::ops) unsafe fn wide_row(x: *const f32, h: usize, w: usize, r: isize) -> (__m512, __m512) {
        if r < 0 || r as usize >= h {
            return (_mm512_setzero_ps(), _mm512_setzero_ps());
        }
        let p = unsafe { x.add(r as usize * w) };
        // The plane comes from memory, read once: ask for the rows two rows of tiles ahead (past the
        // plane's end that is the next channel's plane, which the caller transforms next).
        let ahead = p.wrapping_add(PREFETCH_ROWS * w);
        _mm_prefetch::<_MM_HINT_T0>(ahead.cast());
        _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(16).cast());
        unsafe { (_mm512_maskz_loadu_ps(lanes(w.min(16)), p), _mm512_maskz_loadu_ps(lanes(w.saturating_sub(16)), p.add(16))) }
    }

    /// Row `r` of a plane at most 16 wide, zero outside the plane.
    #[target_feature(enable = "avx512f")]
    unsafe fn narrow_row(x: *const f32, h: usize, w: usize, r: isize) -> __m512 {
        if r < 0 || r as usize >= h {
            return _mm512_setzero_ps();
        }
        let p = unsafe { x.add(r as usize * w) };
        _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(PREFETCH_ROWS * w).cast());
        unsafe { _mm512_maskz_loadu_ps(lanes(w), p) }
    }

    /// Lanes of a register holding tile rows `ty` (0–7) and `ty + 1` (8–15) of `th`, `tw` tiles each.
    fn pair_mask(ty: usize, th: usize, tw: usize) -> u16 {
        if ty + 1 < th { lanes(tw) | (lanes(tw) << 8) } else { lanes(tw) }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn input_one_row(h: usize, w: usize, x: *const f32, v: *mut f32, stride: usize) {
        let (th, tw) = (h.div_ceil(2), w / 2);
        let columns = |r: isize| {
            let (a, b) = unsafe { wide_row(x, h, w, r) };
            input_columns(a, b, ONE_ROW)
        };
        // Rows 2ty + 1 and 2ty + 2 of one row of tiles are rows 2ty' − 1 and 2ty' of the next.
        let (mut c0, mut c1) = (columns(-1), columns(0));
        for ty in 0..th {
            let (c2, c3) = (columns(2 * ty as isize + 1), columns(2 * ty as isize + 2));
            unsafe { store_input_rows(&[c0, c1, c2, c3], v.add(ty * tw), stride, lanes(tw), true) };
            (c0, c1) = (c2, c3);
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn input_two_rows(h: usize, w: usize, x: *const f32, v: *mut f32, stride: usize) {
        let (th, tw) = (h.div_ceil(2), w / 2);
        let row = |r: isize| unsafe { narrow_row(x, h, w, r) };
        for ty in (0..th).step_by(2) {
            let r = 2 * ty as isize;
            let mut c = [[_mm512_setzero_ps(); 4]; 4];
            for (k, ck) in c.iter_mut().enumerate() {
                let r = r - 1 + k as isize;
                *ck = input_columns(row(r), row(r + 2), TWO_ROWS);
            }
            unsafe { store_input_rows(&c, v.add(ty * tw), stride, pair_mask(ty, th, tw), tw == 8) };
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn grad_one_row(h: usize, w: usize, dy: *const f32, e: *mut f32, stride: usize) {
        let (th, tw) = (h.div_ceil(2), w / 2);
        let columns = |r: usize| {
            let (a, b) = unsafe { wide_row(dy, h, w, r as isize) };
            grad_columns(a, b)
        };
        for ty in 0..th {
            let f = [columns(2 * ty), columns(2 * ty + 1)];
            unsafe { store_grad_rows(&f, e.add(ty * tw), stride, lanes(tw), true) };
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn grad_two_rows(h: usize, w: usize, dy: *const f32, e: *mut f32, stride: usize) {
        let (th, tw) = (h.div_ceil(2), w / 2);
        let row = |r: usize| unsafe { narrow_row(dy, h, w, r as isize) };
        for ty in (0..th).step_by(2) {
            let f = [grad_columns(row(2 * ty), row(2 * ty + 2)), grad_columns(row(2 * ty + 1), row(2 * ty + 3))];
            unsafe { store_grad_rows(&f, e.add(ty * tw), stride, pair_mask(ty, th, tw), tw == 8) };
        }
    }

    /// One image of 32-wide planes (`x`: `[in_c, h, 32]`, `y`: `[out_c, h, 32]`) through F(2×2, 3×3), a
    /// row of tiles at a time; `ut` is `[16, in_c, out_c]` (the filters' outputs contiguous), `vbuf`
    /// holds 16 × in_c and `mbuf` 16 × out_c vectors.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn convolve_image(h: usize, x: *const f32, in_c: usize, ut: *const f32, out_c: usize, vbuf: *mut f32, mbuf: *mut f32, y: *mut f32) {
        const W: usize = 32;
        let th = h.div_ceil(2);
        let plane = h * W;
        let (vstride, mstride) = (in_c * 16, out_c * 16);
        for ty in 0..th {
            for c in 0..in_c {
                let xc = unsafe { x.add(c * plane) };
                let columns = |r: isize| {
                    let (a, b) = unsafe { wide_row(xc, h, W, r) };
                    input_columns(a, b, ONE_ROW)
                };
                let r = 2 * ty as isize - 1;
                let cs = [columns(r), columns(r + 1), columns(r + 2), columns(r + 3)];
                unsafe { store_input_rows(&cs, vbuf.add(c * 16), vstride, lanes(16), true) };
            }
            unsafe { row_products(in_c, out_c, vbuf, ut, mbuf) };
            for o in 0..out_c {
                let mt = unsafe { row_output(mbuf, mstride, o) };
                for a in 0..2 {
                    let oy = 2 * ty + a;
                    if oy >= h {
                        break;
                    }
                    let (even, odd) = output_columns(&mt, a);
                    let dst = unsafe { y.add(o * plane + oy * W) };
                    unsafe {
                        _mm512_storeu_ps(dst, _mm512_permutex2var_ps(even, table(LOW), odd));
                        _mm512_storeu_ps(dst.add(16), _mm512_permutex2var_ps(even, table(HIGH), odd));
                    }
                }
            }
        }
    }

    /// As [`convolve_image`] for 16-wide planes, two rows of 8 tiles per register.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn convolve_image_narrow(h: usize, x: *const f32, in_c: usize, ut: *const f32, out_c: usize, vbuf: *mut f32, mbuf: *mut f32, y: *mut f32) {
        const W: usize = 16;
        let (th, tw) = (h.div_ceil(2), W / 2);
        let plane = h * W;
        let (vstride, mstride) = (in_c * 16, out_c * 16);
        for ty in (0..th).step_by(2) {
            // A lone last row of tiles fills lanes 0–7 only; lanes 8–15 then hold stale values whose
            // products are never stored.
            let mask = pair_mask(ty, th, tw);
            for ch in 0..in_c {
                let xc = unsafe { x.add(ch * plane) };
                let row = |r: isize| unsafe { narrow_row(xc, h, W, r) };
                let r = 2 * ty as isize;
                let mut c = [[_mm512_setzero_ps(); 4]; 4];
                for (k, ck) in c.iter_mut().enumerate() {
                    let r = r - 1 + k as isize;
                    *ck = input_columns(row(r), row(r + 2), TWO_ROWS);
                }
                unsafe { store_input_rows(&c, vbuf.add(ch * 16), vstride, mask, true) };
            }
            unsafe { row_products(in_c, out_c, vbuf, ut, mbuf) };
            for o in 0..out_c {
                let mt = unsafe { row_output(mbuf, mstride, o) };
                for a in 0..2 {
                    let (even, odd) = output_columns(&mt, a);
                    for (oy, t) in [(2 * ty + a, LOW), (2 * ty + 2 + a, HIGH)] {
                        if oy < h {
                            unsafe { _mm512_storeu_ps(y.add(o * plane + oy * W), _mm512_permutex2var_ps(even, table(t), odd)) };
                        }
                    }
                }
            }
        }
    }

    /// The products of one row of tiles: `M_ξ[o] = Σ_c U_ξ[c][o] · V_ξ[c]` for the 16 positions `ξ`, with
    /// `V_ξ[c]` at `vbuf + (ξ · in_c + c) · 16`, `U_ξ[c][o]` at `ut + (ξ · in_c + c) · out_c + o` and
    /// `M_ξ[o]` written at `mbuf + (ξ · out_c + o) · 16`.
    #[target_feature(enable = "avx512f")]
    unsafe fn row_products(in_c: usize, out_c: usize, vbuf: *const f32, ut: *const f32, mbuf: *mut f32) {
        for xi in 0..16 {
            for ob in (0..out_c).step_by(16) {
                unsafe { products16(in_c, vbuf.add(xi * in_c * 16), ut.add(xi * in_c * out_c + ob), out_c, mbuf.add((xi * out_c + ob) * 16)) };
            }
        }
    }

    /// Output channel `o`'s 16 products `M_ξ[o]` of one row of tiles, as `output_columns` takes them.
    #[target_feature(enable = "avx512f")]
    unsafe fn row_output(mbuf: *const f32, mstride: usize, o: usize) -> [__m512; 16] {
        core::array::from_fn(|xi| unsafe { _mm512_loadu_ps(mbuf.add(xi * mstride + o * 16)) })
    }

    /// `m[o] = Σ_c u[c · u_stride + o] · v[c]` for 16 outputs `o`, each a vector of 16 tiles.
    #[target_feature(enable = "avx512f")]
    unsafe fn products16(in_c: usize, v: *const f32, u: *const f32, u_stride: usize, m: *mut f32) {
        let mut acc = [_mm512_setzero_ps(); 16];
        for c in 0..in_c {
            let vc = unsafe { _mm512_loadu_ps(v.add(c * 16)) };
            let uc = unsafe { u.add(c * u_stride) };
            for (o, acc) in acc.iter_mut().enumerate() {
                *acc = _mm512_fmadd_ps(_mm512_set1_ps(unsafe { *uc.add(o) }), vc, *acc);
            }
        }
        for (o, acc) in acc.into_iter().enumerate() {
            unsafe { _mm512_storeu_ps(m.add(o * 16), acc) };
        }
    }

    /// `Aᵀ` along y then along x for output row parity `a` of the tiles in `m` (`m[ξ]` = `M_ξ`):
    /// the even and odd output columns, `[(r0 + r1) + r2, (r1 − r2) − r3]` of the row combinations
    /// `r_j = (m_j + m_{4+j}) + m_{8+j}` (a = 0) or `(m_{4+j} − m_{8+j}) − m_{12+j}` (a = 1).
    #[target_feature(enable = "avx512f")]
    fn output_columns(m: &[__m512; 16], a: usize) -> (__m512, __m512) {
        let mut r = [_mm512_setzero_ps(); 4];
        for (j, r) in r.iter_mut().enumerate() {
            *r = if a == 0 {
                _mm512_add_ps(_mm512_add_ps(m[j], m[4 + j]), m[8 + j])
            } else {
                _mm512_sub_ps(_mm512_sub_ps(m[4 + j], m[8 + j]), m[12 + j])
            };
        }
        (_mm512_add_ps(_mm512_add_ps(r[0], r[1]), r[2]), _mm512_sub_ps(_mm512_sub_ps(r[1], r[2]), r[3]))
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn output_one_row(h: usize, w: usize, m: *const f32, stride: usize, y: *mut f32) {
        let (th, tw) = (h.div_ceil(2), w / 2);
        let (low, high) = (lanes(w.min(16)), lanes(w.saturating_sub(16)));
        for ty in 0..th {
            let src = unsafe { m.add(ty * tw) };
            let mut mt = [_mm512_setzero_ps(); 16];
            for (xi, mt) in mt.iter_mut().enumerate() {
                *mt = unsafe { _mm512_maskz_loadu_ps(lanes(tw), src.add(xi * stride)) };
            }
            for a in 0..2 {
                let oy = 2 * ty + a;
                if oy >= h {
                    break;
                }
                let (even, odd) = output_columns(&mt, a);
                let dst = unsafe { y.add(oy * w) };
                unsafe {
                    _mm512_mask_storeu_ps(dst, low, _mm512_permutex2var_ps(even, table(LOW), odd));
                    _mm512_mask_storeu_ps(dst.add(16), high, _mm512_permutex2var_ps(even, table(HIGH), odd));
                }
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn output_two_rows(h: usize, w: usize, m: *const f32, stride: usize, y: *mut f32) {
        let (th, tw) = (h.div_ceil(2), w / 2);
        for ty in (0..th).step_by(2) {
            let src = unsafe { m.add(ty * tw) };
            let mask = pair_mask(ty, th, tw);
            let mut mt = [_mm512_setzero_ps(); 16];
            for (xi, mt) in mt.iter_mut().enumerate() {
                let p = unsafe { src.add(xi * stride) };
                *mt = unsafe { if tw == 8 { _mm512_maskz_loadu_ps(mask, p) } else { _mm512_maskz_expandloadu_ps(mask, p) } };
            }
            for a in 0..2 {
                let (even, odd) = output_columns(&mt, a);
                for (oy, t) in [(2 * ty + a, LOW), (2 * ty + 2 + a, HIGH)] {
                    if oy < h {
                        unsafe { _mm512_mask_storeu_ps(y.add(oy * w), lanes(w), _mm512_permutex2var_ps(even, table(t), odd)) };
                    }
                }
            }
        }
    }
}
