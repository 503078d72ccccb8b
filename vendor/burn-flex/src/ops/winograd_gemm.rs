//! The products of the Winograd convolutions (added for trgl, see `vendor/README.md` in trgl):
//! `M [rows, cols] = U [rows, depth] · V [depth, cols]` with a short reduction (the channels, 8–64)
//! and `V`'s rows long and contiguous (the tiles). The gemm crate packs `V` into panels first — a
//! copy of the whole operand for a reduction of 16 — and its fixed costs show at these sizes. Here a
//! block of 8 rows × 32 columns of `M` stays in 16 vector registers while the reduction streams `V`'s
//! rows straight from memory, one broadcast of `U` per fused multiply-add of 16 lanes.

use super::conv2d_winograd::WinogradElement;

/// Columns per register block: two AVX-512 vectors of f32.
pub(super) const COLUMNS: usize = 32;

/// `M_ξ = U_ξ · V_ξ` for `ξ < positions`: `M_ξ` (`[rows, columns]`) at `m[ξ · rows · ld ..]`, `U_ξ`
/// (`[rows, depth]`) at `u[ξ · rows · depth ..]`, `V_ξ` (`[depth, columns]`) at `v[ξ · depth · ld ..]`,
/// rows `ld` apart, `ld` at least `columns` rounded up to [`COLUMNS`] (the columns past `columns` are
/// computed too, from whatever `V` holds there). With `parallel`, positions run on several threads.
#[allow(clippy::too_many_arguments)]
pub(super) fn products<T: WinogradElement>(positions: usize, rows: usize, depth: usize, columns: usize, m: &mut [T], ld: usize, u: &[T], v: &[T], parallel: bool) {
    let cols = columns.next_multiple_of(COLUMNS);
    let one = |xi: usize, m: &mut [T]| tile_products(rows, cols, depth, m, ld, &u[xi * rows * depth..][..rows * depth], &v[xi * depth * ld..]);
    let m = &mut m[..positions * rows * ld];
    #[cfg(feature = "rayon")]
    if parallel {
        use rayon::prelude::*;
        m.par_chunks_mut(rows * ld).enumerate().for_each(|(xi, m)| one(xi, m));
        return;
    }
    let _ = parallel;
    m.chunks_mut(rows * ld).enumerate().for_each(|(xi, m)| one(xi, m));
}

/// `m[r · ld + j] = Σ_c u[r · depth + c] · v[c · ld + j]` for `r < rows`, `j < cols`; `cols` is a
/// multiple of [`COLUMNS`] and at most `ld`. The register block fits the vector registers: 8 rows ×
/// 32 columns is 16 AVX-512 registers, but 32 AVX2 ones (of 16), which spilled to the stack and ran
/// the 64-channel products at half speed; AVX2 and the portable copy take 6 rows × 16 columns.
#[allow(clippy::too_many_arguments)]
fn tile_products<T: WinogradElement>(rows: usize, cols: usize, depth: usize, m: &mut [T], ld: usize, u: &[T], v: &[T]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
        unsafe fn avx512<T: WinogradElement>(rows: usize, cols: usize, depth: usize, m: &mut [T], ld: usize, u: &[T], v: &[T]) {
            tile_products_body::<T, 8, 32>(rows, cols, depth, m, ld, u, v)
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<T: WinogradElement>(rows: usize, cols: usize, depth: usize, m: &mut [T], ld: usize, u: &[T], v: &[T]) {
            tile_products_body::<T, 6, 16>(rows, cols, depth, m, ld, u, v)
        }
        if super::wide_simd::has_avx512() {
            // Safety: the CPU has the features the copy is compiled for.
            return unsafe { avx512(rows, cols, depth, m, ld, u, v) };
        }
        if super::wide_simd::has_avx2() {
            // Safety: as above.
            return unsafe { avx2(rows, cols, depth, m, ld, u, v) };
        }
    }
    tile_products_body::<T, 6, 16>(rows, cols, depth, m, ld, u, v)
}

/// [`tile_products`] with blocks of `R` rows × `C` columns (`C` divides [`COLUMNS`]), then 4, 2 and 1
/// rows for the rest.
#[inline(always)]
fn tile_products_body<T: WinogradElement, const R: usize, const C: usize>(rows: usize, cols: usize, depth: usize, m: &mut [T], ld: usize, u: &[T], v: &[T]) {
    assert!(cols % COLUMNS == 0 && cols <= ld, "tile_products: {cols} columns in rows of {ld}");
    assert!(u.len() >= rows * depth && v.len() >= depth.saturating_sub(1) * ld + cols, "tile_products: operands too small");
    assert!(m.len() >= rows.saturating_sub(1) * ld + cols, "tile_products: destination too small");
    // Column blocks outermost: a block of V (depth × C) stays in L1 while every row of M uses it.
    for j in (0..cols).step_by(C) {
        let mut r = 0;
        while r + R <= rows {
            block::<T, R, C>(r, j, depth, m, ld, u, v);
            r += R;
        }
        while r + 4 <= rows {
            block::<T, 4, C>(r, j, depth, m, ld, u, v);
            r += 4;
        }
        while r + 2 <= rows {
            block::<T, 2, C>(r, j, depth, m, ld, u, v);
            r += 2;
        }
        while r < rows {
            block::<T, 1, C>(r, j, depth, m, ld, u, v);
            r += 1;
        }
    }
}

/// Rows `first .. first + R`, columns `j .. j + C` of the product.
#[inline(always)]
fn block<T: WinogradElement, const R: usize, const C: usize>(first: usize, j: usize, depth: usize, m: &mut [T], ld: usize, u: &[T], v: &[T]) {
    let weights = &u[first * depth..][..R * depth];
    let mut acc = [[T::zero(); C]; R];
    for c in 0..depth {
        let vc: &[T; C] = v[c * ld + j..][..C].try_into().expect("a block of columns");
        for (i, acc) in acc.iter_mut().enumerate() {
            let w = weights[i * depth + c];
            for (a, &x) in acc.iter_mut().zip(vc) {
                *a = w.mul_add(x, *a);
            }
        }
    }
    for (i, acc) in acc.iter().enumerate() {
        m[(first + i) * ld + j..][..C].copy_from_slice(acc);
    }
}
