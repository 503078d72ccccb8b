//! Runtime dispatch to wider vector instructions for plain Rust loops (added for trgl; see
//! `vendor/README.md` in trgl).
//!
//! The crate is compiled for baseline x86-64, so a loop that the compiler vectorises uses SSE (4 f32
//! lanes). [`wide!`] turns an `#[inline(always)]` kernel into a function that runs a copy of it
//! compiled for AVX-512 or AVX2+FMA when the CPU has them (16 or 8 lanes). Results are identical on
//! every path: Rust neither reassociates nor fuses floating-point operations, so only the width of the
//! instructions changes, not the arithmetic.

#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl")
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// AVX2 and FMA without AVX-512: the CPUs where F(4×4, 3×3) takes every 3×3 plane and its fused
/// kernels (`winograd_rows_f4.rs`) run, as measured on one (see `conv2d_winograd::f4_everywhere`).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) fn avx2_only() -> bool {
    has_avx2() && !has_avx512()
}

/// `wide!(fn name = body<T: Bound>(a: A, b: B) -> R);` defines `name`, which calls the
/// `#[inline(always)]` function `body` compiled for the widest vector extension available.
macro_rules! wide {
    (fn $name:ident = $body:ident <$T:ident : $bound:path> ($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)?) => {
        #[allow(clippy::too_many_arguments)]
        fn $name<$T: $bound>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            {
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                unsafe fn avx512<$T: $bound>($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2<$T: $bound>($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if $crate::ops::wide_simd::has_avx512() {
                    // Safety: the CPU has the features the copy is compiled for.
                    return unsafe { avx512($($arg),*) };
                }
                if $crate::ops::wide_simd::has_avx2() {
                    // Safety: as above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use wide;
