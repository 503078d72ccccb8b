//! Decoding JPEG/PNG files into fixed-size u8 planes, in parallel, once.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// How encoded images become one N×C×H×W buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeSpec {
    /// 1 (grey) or 3 (RGB); every image is converted to it.
    pub channels: usize,
    /// Resize every image to side×side (bilinear); `None` keeps sizes, which must then all agree.
    pub resize: Option<usize>,
}

/// An encoded image and where it came from (a file, or a member of an archive).
pub struct Encoded {
    pub source: PathBuf,
    pub bytes: Vec<u8>,
}

pub fn is_image_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".jpg", ".jpeg", ".png"].iter().any(|e| lower.ends_with(e))
}

/// Decodes one image into C×H×W bytes.
pub fn decode_one(source: &Path, bytes: &[u8], spec: DecodeSpec) -> Result<(usize, usize, Vec<u8>)> {
    let img = image::load_from_memory(bytes).map_err(|e| Error::data(source, format!("unreadable image: {e}")))?;
    let img = match spec.resize {
        Some(s) if img.width() as usize != s || img.height() as usize != s => img.resize_exact(s as u32, s as u32, FilterType::Triangle),
        _ => img,
    };
    let (w, h) = (img.width() as usize, img.height() as usize);
    let planar = match spec.channels {
        1 => img.to_luma8().into_raw(),
        _ => {
            let rgb = img.to_rgb8().into_raw();
            let mut out = vec![0u8; rgb.len()];
            for (i, px) in rgb.chunks_exact(3).enumerate() {
                for c in 0..3 {
                    out[c * w * h + i] = px[c];
                }
            }
            out
        }
    };
    Ok((h, w, planar))
}

/// Decodes all images (in parallel) into one buffer; returns (height, width, pixels).
pub fn decode_all(images: &[Encoded], spec: DecodeSpec) -> Result<(usize, usize, Vec<u8>)> {
    let decoded: Vec<(usize, usize, Vec<u8>)> =
        images.par_iter().map(|e| decode_one(&e.source, &e.bytes, spec)).collect::<Result<_>>()?;
    let Some(&(h, w, _)) = decoded.first() else { return Ok((0, 0, Vec::new())) };
    let mut pixels = Vec::with_capacity(decoded.len() * spec.channels * h * w);
    for (e, (hh, ww, p)) in images.iter().zip(decoded) {
        if (hh, ww) != (h, w) {
            return Err(Error::data(
                &e.source,
                format!("image is {ww}×{hh}, the first one is {w}×{h}: set data.resize to train on images of different sizes"),
            ));
        }
        pixels.extend(p);
    }
    Ok((h, w, pixels))
}
