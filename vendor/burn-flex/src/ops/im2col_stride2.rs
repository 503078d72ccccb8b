//! im2col and col2im of 3×3, stride-2 convolutions (the downsampling convolutions of a ResNet) on
//! planes of even width up to 32, with a row of the plane in two AVX-512 registers (added for trgl;
//! see `vendor/README.md` in trgl).
//!
//! At stride 2 the generic rows of `conv2d_gemm.rs` gather every other element one by one. Here an
//! input row is split into its odd columns shifted by one (kernel column 0, which reads column
//! 2x − 1), its even columns (kernel column 1) and its odd columns (kernel column 2) by three
//! permutes, and each is one masked store of an output row; col2im is the adjoint, adding the three
//! rows back in the generic order (kernel column 0, 1, 2), so sums are the same. With AVX2 (no
//! AVX-512) a row goes in chunks of 16 columns, two 8-lane registers, split by shuffles into its even
//! and odd columns; kernel column 0's chunk is the odd columns of the window two columns earlier. f32
//! on CPUs with AVX-512 or AVX2; the functions return `false` where they did nothing.

/// Whether the fast rows handle a plane of width `w` (the caller checks the kernel, stride, dilation,
/// padding and that the output is `w / 2` wide).
fn applies(w: usize) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        w > 0 && w % 2 == 0 && w <= 32 && (super::wide_simd::has_avx512() || super::wide_simd::has_avx2())
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        let _ = w;
        false
    }
}

/// Whether this path takes planes of width `w` on this CPU; if so, asserts that the planes' buffer
/// (`planes_len` elements) and the columns (`col_len`) hold what the kernels read and write.
fn takes(h: usize, w: usize, oh: usize, channels: usize, planes_len: usize, col_len: usize) -> bool {
    if !applies(w) {
        return false;
    }
    assert!(planes_len >= channels * h * w && col_len >= channels * 9 * oh * (w / 2), "im2col stride 2: buffers too small");
    true
}

/// `col[(c, ki, kj), y · ow + x] = x[c, 2y + ki − 1, 2x + kj − 1]` (zero outside) for the `channels`
/// planes (`[h, w]`) of `x`, `ow = w / 2`, `oh` output rows.
pub(super) fn im2col(h: usize, w: usize, oh: usize, channels: usize, x: &[f32], col: &mut [f32]) -> bool {
    if !takes(h, w, oh, channels, x.len(), col.len()) {
        return false;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    // Safety: the CPU has AVX-512, or AVX2 (`applies`), and the buffers are large enough (`takes`).
    unsafe {
        if super::wide_simd::has_avx512() {
            avx512::im2col(h, w, oh, channels, x.as_ptr(), col.as_mut_ptr())
        } else {
            avx2::im2col(h, w, oh, channels, x.as_ptr(), col.as_mut_ptr())
        }
    };
    true
}

/// The adjoint of [`im2col`]: adds `col` onto `dx` (`channels` planes `[h, w]`).
pub(super) fn col2im(h: usize, w: usize, oh: usize, channels: usize, col: &[f32], dx: &mut [f32]) -> bool {
    if !takes(h, w, oh, channels, dx.len(), col.len()) {
        return false;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    // Safety: as in `im2col`.
    unsafe {
        if super::wide_simd::has_avx512() {
            avx512::col2im(h, w, oh, channels, col.as_ptr(), dx.as_mut_ptr())
        } else {
            avx2::col2im(h, w, oh, channels, col.as_ptr(), dx.as_mut_ptr())
        }
    };
    true
}

/// `f(channel, ki, y, iy)` for every channel, kernel row `ki` and output row `y`, in that order (the
/// order of the rows of `col` and of the generic col2im's additions), with the input row `iy = 2y +
/// ki − 1` that they read, `None` in the padding.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
fn each_row(h: usize, oh: usize, channels: usize, mut f: impl FnMut(usize, usize, usize, Option<usize>)) {
    for c in 0..channels {
        for ki in 0..3 {
            for y in 0..oh {
                f(c, ki, y, (2 * y + ki).checked_sub(1).filter(|&iy| iy < h));
            }
        }
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx512 {
    use core::arch::x86_64::*;

    use super::super::winograd_rows::avx512::{EVEN, HIGH, LOW, ODD, PREV, lanes, table, wide_row};

    /// Lane `2t + 1` of a row's first (second) 16 columns takes lane `t + 1` (`t + 9`) of kernel column
    /// 0's row, the one that reads column `2x − 1`; index 16 reads the zero register.
    const SHIFTED_LOW: [i32; 16] = [16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16, 8];
    const SHIFTED_HIGH: [i32; 16] = [16, 9, 16, 10, 16, 11, 16, 12, 16, 13, 16, 14, 16, 15, 16, 16];

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn im2col(h: usize, w: usize, oh: usize, channels: usize, x: *const f32, col: *mut f32) {
        let (ow, plane) = (w / 2, h * w);
        let p = oh * ow;
        let store = lanes(ow);
        for c in 0..channels {
            let src = unsafe { x.add(c * plane) };
            for ki in 0..3 {
                let rows = unsafe { col.add((c * 9 + ki * 3) * p) };
                for y in 0..oh {
                    let (a, b) = unsafe { wide_row(src, h, w, (2 * y + ki) as isize - 1) };
                    let kernel_columns = [
                        _mm512_maskz_permutex2var_ps(0xFFFE, a, table(PREV), b),
                        _mm512_permutex2var_ps(a, table(EVEN), b),
                        _mm512_permutex2var_ps(a, table(ODD), b),
                    ];
                    for (kj, v) in kernel_columns.into_iter().enumerate() {
                        unsafe { _mm512_mask_storeu_ps(rows.add(kj * p + y * ow), store, v) };
                    }
                }
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn col2im(h: usize, w: usize, oh: usize, channels: usize, col: *const f32, dx: *mut f32) {
        let (ow, plane) = (w / 2, h * w);
        let p = oh * ow;
        let (load, low, high) = (lanes(ow), lanes(w.min(16)), lanes(w.saturating_sub(16)));
        let zero = _mm512_setzero_ps();
        super::each_row(h, oh, channels, |c, ki, y, iy| {
            let Some(iy) = iy else { return };
            let at = unsafe { col.add((c * 9 + ki * 3) * p + y * ow) };
            let (k0, k1, k2) = unsafe {
                (_mm512_maskz_loadu_ps(load, at), _mm512_maskz_loadu_ps(load, at.add(p)), _mm512_maskz_loadu_ps(load, at.add(2 * p)))
            };
            let row = unsafe { dx.add(c * plane + iy * w) };
            // Odd columns get kernel column 0 then 2, even ones column 1: the generic order.
            for (half, mask, shifted, interleave) in [(0, low, SHIFTED_LOW, LOW), (16, high, SHIFTED_HIGH, HIGH)] {
                let at = unsafe { row.add(half) };
                let mut sum = unsafe { _mm512_maskz_loadu_ps(mask, at) };
                sum = _mm512_add_ps(sum, _mm512_permutex2var_ps(k0, table(shifted), zero));
                sum = _mm512_add_ps(sum, _mm512_permutex2var_ps(k1, table(interleave), k2));
                unsafe { _mm512_mask_storeu_ps(at, mask, sum) };
            }
        });
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx2 {
    use core::arch::x86_64::*;

    /// Lanes `i` with `lo <= i < hi`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn lanes(lo: isize, hi: isize) -> __m256i {
        let i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let below = _mm256_cmpgt_epi32(_mm256_set1_epi32(lo.clamp(0, 8) as i32), i);
        _mm256_andnot_si256(below, _mm256_cmpgt_epi32(_mm256_set1_epi32(hi.clamp(0, 8) as i32), i))
    }

    /// Elements `start .. start + 8` of a row of `len`, zero outside it.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load(row: *const f32, start: isize, len: usize) -> __m256 {
        if start >= 0 && start as usize + 8 <= len {
            return unsafe { _mm256_loadu_ps(row.offset(start)) };
        }
        // Masked-off lanes are not read, so the address may lie outside the row.
        unsafe { _mm256_maskload_ps(row.wrapping_offset(start), lanes(-start, len as isize - start)) }
    }

    /// Stores the lanes of `v` that fall in a row of `len` from `start` (`start < len`).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store(row: *mut f32, start: usize, len: usize, v: __m256) {
        if start + 8 <= len {
            unsafe { _mm256_storeu_ps(row.add(start), v) };
        } else {
            unsafe { _mm256_maskstore_ps(row.add(start), lanes(0, (len - start) as isize), v) };
        }
    }

    /// The even and the odd columns of the 16 in `a`, `b`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn deinterleave(a: __m256, b: __m256) -> (__m256, __m256) {
        let order = |v: __m256| _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(v)));
        (order(_mm256_shuffle_ps::<0x88>(a, b)), order(_mm256_shuffle_ps::<0xDD>(a, b)))
    }

    /// The 16 columns whose even ones are `even`'s lanes and odd ones `odd`'s.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn interleave(even: __m256, odd: __m256) -> (__m256, __m256) {
        let (lo, hi) = (_mm256_unpacklo_ps(even, odd), _mm256_unpackhi_ps(even, odd));
        (_mm256_permute2f128_ps::<0x20>(lo, hi), _mm256_permute2f128_ps::<0x31>(lo, hi))
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn im2col(h: usize, w: usize, oh: usize, channels: usize, x: *const f32, col: *mut f32) {
        let (ow, plane) = (w / 2, h * w);
        let p = oh * ow;
        super::each_row(h, oh, channels, |c, ki, y, iy| {
            let out = unsafe { col.add((c * 9 + ki * 3) * p + y * ow) };
            for start in (0..ow).step_by(8) {
                let kernel_columns = match iy {
                    Some(iy) => {
                        let row = unsafe { x.add(c * plane + iy * w) };
                        let first = 2 * start as isize;
                        let (even, odd) = unsafe { deinterleave(load(row, first, w), load(row, first + 8, w)) };
                        // Kernel column 0 reads column 2x − 1: the odd columns from two earlier.
                        let (_, before) = unsafe { deinterleave(load(row, first - 2, w), load(row, first + 6, w)) };
                        [before, even, odd]
                    }
                    None => [_mm256_setzero_ps(); 3],
                };
                for (kj, v) in kernel_columns.into_iter().enumerate() {
                    unsafe { store(out.add(kj * p), start, ow, v) };
                }
            }
        });
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn col2im(h: usize, w: usize, oh: usize, channels: usize, col: *const f32, dx: *mut f32) {
        let (ow, plane) = (w / 2, h * w);
        let p = oh * ow;
        let zero = _mm256_setzero_ps();
        super::each_row(h, oh, channels, |c, ki, y, iy| {
            let Some(iy) = iy else { return };
            let at = unsafe { col.add((c * 9 + ki * 3) * p + y * ow) };
            let row = unsafe { dx.add(c * plane + iy * w) };
            for start in (0..ow).step_by(8) {
                let s = start as isize;
                let (k0, k1, k2) = unsafe { (load(at, s + 1, ow), load(at.add(p), s, ow), load(at.add(2 * p), s, ow)) };
                // Odd column 2x + 1 gets kernel column 0 of output x + 1, then column 2 of x; even
                // ones column 1: the generic order.
                let (shifted_low, shifted_high) = interleave(zero, k0);
                let (low, high) = interleave(k1, k2);
                for (offset, shifted, v) in [(0, shifted_low, low), (8, shifted_high, high)] {
                    let first = 2 * start + offset;
                    if first >= w {
                        break;
                    }
                    let sum = _mm256_add_ps(_mm256_add_ps(unsafe { load(row, first as isize, w) }, shifted), v);
                    unsafe { store(row, first, w, sum) };
                }
            }
        });
    }
}
