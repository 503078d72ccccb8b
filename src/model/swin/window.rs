//! Shifted windows (Liu et al. 2021, §3.2) on token grids `[batch, side, side, dim]`: window partition and
//! its reverse, the cyclic shift, the attention mask of a shifted window, and the relative-position index.
//!
//! A grid whose side is not a multiple of the window is padded at the bottom and right (torchvision's Swin
//! does the same); unlike torchvision, the padding positions are masked as keys, so a real token attends
//! only to real tokens of its window and the result does not depend on the padding.

use burn::prelude::*;

/// The mask value between two tokens that may not attend to each other (the official code's −100:
/// e^−100 is 0 in f32 after the softmax, and a row never becomes all −∞).
pub const MASKED: f32 = -100.0;

/// The side of a grid of `side` padded up to a multiple of `window`.
pub fn padded(side: usize, window: usize) -> usize {
    side.div_ceil(window) * window
}

/// `[b, h, w, c]` → `[b · (h/window) · (w/window), window², c]`: windows in row-major order, the tokens of
/// each in row-major order. `h` and `w` are multiples of `window`.
pub fn partition(x: Tensor<4>, window: usize) -> Tensor<3> {
    let [b, h, w, c] = x.dims();
    let (rows, cols) = (h / window, w / window);
    x.reshape([b, rows, window, cols, window, c]).permute([0, 1, 3, 2, 4, 5]).reshape([b * rows * cols, window * window, c])
}

/// The inverse of [`partition`] for grids of `h` × `w`.
pub fn reverse(windows: Tensor<3>, window: usize, h: usize, w: usize) -> Tensor<4> {
    let [n, _, c] = windows.dims();
    let (rows, cols) = (h / window, w / window);
    let b = n / (rows * cols);
    windows.reshape([b, rows, cols, window, window, c]).permute([0, 1, 3, 2, 4, 5]).reshape([b, h, w, c])
}

/// The cyclic shift: the grid rolled up and left by `shift` (`torch.roll(x, (−s, −s), (1, 2))`), so that the
/// token at (r, c) moves to (r − s, c − s) mod side.
pub fn shift(x: Tensor<4>, shift: usize) -> Tensor<4> {
    let s = -(shift as isize);
    x.roll(&[s, s], &[1, 2])
}

/// The inverse of [`shift`].
pub fn unshift(x: Tensor<4>, shift: usize) -> Tensor<4> {
    let s = shift as isize;
    x.roll(&[s, s], &[1, 2])
}

/// Which tokens of each window may attend to which, for a grid of `side` (padded to a multiple of
/// `window`) after a cyclic shift of `shift`: `[windows, window², window²]`, row-major, 0 where they may and
/// [`MASKED`] where not; `None` when every pair may (no shift, no padding).
///
/// As in the official code, the shifted grid is cut into 3 × 3 regions by rows and columns
/// `[0, P − window)`, `[P − window, P − shift)`, `[P − shift, P)` (P the padded side): tokens of different
/// regions were not neighbours before the shift. A padding position is a region of its own.
pub fn attention_mask(side: usize, window: usize, shift: usize) -> Option<Vec<f32>> {
    let p = padded(side, window);
    if shift == 0 && p == side {
        return None;
    }
    let band = |i: usize| if shift == 0 || i < p - window { 0 } else if i < p - shift { 1 } else { 2 };
    // A shifted position i held the unshifted position (i + shift) mod p: padding when that is ≥ side.
    let pad = |i: usize| (i + shift) % p >= side;
    let region = |r: usize, c: usize| if pad(r) || pad(c) { 9 } else { 3 * band(r) + band(c) };
    let n = window * window;
    let per_side = p / window;
    let mut mask = Vec::with_capacity(per_side * per_side * n * n);
    for (wr, wc) in (0..per_side).flat_map(|wr| (0..per_side).map(move |wc| (wr, wc))) {
        let regions: Vec<u8> = (0..n).map(|t| region(wr * window + t / window, wc * window + t % window)).collect();
        for a in &regions {
            mask.extend(regions.iter().map(|b| if a == b { 0.0 } else { MASKED }));
        }
    }
    Some(mask)
}

/// The relative-position index of a window: entry (i, j), row-major over window² × window², is the row of
/// the bias table for the offset of token i from token j, `(Δrow + window − 1)·(2·window − 1) + Δcol +
/// window − 1` — every offset in `(1 − window)..window` on each axis gets its own row of the
/// `(2·window − 1)²` rows.
pub fn relative_position_index(window: usize) -> Vec<i64> {
    let n = window * window;
    let span = 2 * window as i64 - 1;
    let coords = |t: usize| ((t / window) as i64, (t % window) as i64);
    (0..n)
        .flat_map(|i| (0..n).map(move |j| (coords(i), coords(j))))
        .map(|((ri, ci), (rj, cj))| (ri - rj + window as i64 - 1) * span + ci - cj + window as i64 - 1)
        .collect()
}
