//! Train-time augmentation on u8 images: random crop from a padded image, horizontal flip, then
//! per-channel normalisation into f32.

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PaddingMode {
    Zero,
    Reflect,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AugmentSpec {
    /// Pixels of padding around the image before a random crop back to its size (0 = no crop). When a
    /// config does not set it: 4 for images of 32 px and more (the usual CIFAR/SVHN recipe, and the paper's
    /// published code), 2 below (28-px MNIST-like sets); the resolved config records the value used.
    pub crop_padding: usize,
    pub padding_mode: PaddingMode,
    /// Random horizontal flip with probability 1/2.
    pub flip: bool,
}

impl Default for AugmentSpec {
    fn default() -> Self {
        AugmentSpec { crop_padding: 2, padding_mode: PaddingMode::Zero, flip: true }
    }
}

/// The crop padding for images of `side` pixels (unknown: 2).
pub fn default_crop_padding(side: Option<usize>) -> usize {
    match side {
        Some(s) if s >= 32 => 4,
        _ => 2,
    }
}

impl AugmentSpec {
    pub fn is_identity(&self) -> bool {
        self.crop_padding == 0 && !self.flip
    }
}

/// Per-channel normalisation (x/255 - mean) / std.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalize {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalize {
    /// The pixels in [0, 1] again, from normalised C×H×W images (batched or not): what InfoPro's
    /// reconstruction is compared with.
    pub fn restore(&self, images: &[f32], [c, h, w]: [usize; 3]) -> Vec<f32> {
        let channel = |i: usize| (i / (h * w)) % c;
        images.iter().enumerate().map(|(i, v)| (v * self.std[channel(i)] + self.mean[channel(i)]).clamp(0.0, 1.0)).collect()
    }
}

/// Writes one C×H×W image into `out` as normalised f32, cropped at offset (dy, dx) of the image padded by
/// `pad`, flipped if asked. Offsets run over 0..=2·pad; pad - offset is the shift.
#[allow(clippy::too_many_arguments)]
fn write_view(img: &[u8], c: usize, h: usize, w: usize, pad: usize, dy: usize, dx: usize, flip: bool, mode: PaddingMode, norm: &Normalize, out: &mut [f32]) {
    let lookup = |i: isize, n: usize| -> Option<usize> {
        if (0..n as isize).contains(&i) {
            return Some(i as usize);
        }
        match mode {
            PaddingMode::Zero => None,
            // Reflection without repeating the edge pixel (numpy/PyTorch "reflect").
            PaddingMode::Reflect => {
                let period = 2 * (n as isize - 1);
                if period == 0 {
                    return Some(0);
                }
                let mut j = i.rem_euclid(period);
                if j >= n as isize {
                    j = period - j;
                }
                Some(j as usize)
            }
        }
    };
    for ch in 0..c {
        let (mean, std) = (norm.mean[ch], norm.std[ch]);
        let zero = (0.0 - mean) / std;
        let plane = &img[ch * h * w..(ch + 1) * h * w];
        let out_plane = &mut out[ch * h * w..(ch + 1) * h * w];
        for y in 0..h {
            let sy = lookup(y as isize + dy as isize - pad as isize, h);
            for x in 0..w {
                let xx = if flip { w - 1 - x } else { x };
                let sx = lookup(xx as isize + dx as isize - pad as isize, w);
                out_plane[y * w + x] = match (sy, sx) {
                    (Some(sy), Some(sx)) => (plane[sy * w + sx] as f32 / 255.0 - mean) / std,
                    _ => zero,
                };
            }
        }
    }
}

/// The augmented, normalised image (train time).
#[allow(clippy::too_many_arguments)]
pub fn augment_into(img: &[u8], c: usize, h: usize, w: usize, spec: &AugmentSpec, norm: &Normalize, rng: &mut impl Rng, out: &mut [f32]) {
    let pad = spec.crop_padding;
    let (dy, dx) = if pad > 0 { (rng.random_range(0..=2 * pad), rng.random_range(0..=2 * pad)) } else { (0, 0) };
    let flip = spec.flip && rng.random_bool(0.5);
    write_view(img, c, h, w, pad, dy, dx, flip, spec.padding_mode, norm, out);
}

/// The plain normalised image (test time).
pub fn normalize_into(img: &[u8], c: usize, h: usize, w: usize, norm: &Normalize, out: &mut [f32]) {
    write_view(img, c, h, w, 0, 0, 0, false, PaddingMode::Zero, norm, out);
}
