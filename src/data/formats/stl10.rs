//! STL-10, binary version: `*_X.bin` holds 96×96 RGB images as uint8, each image its three planes stored
//! column-major (MATLAB order); `*_y.bin` holds one label byte per image, 1–10.

use std::path::{Path, PathBuf};

use super::read_file;
use crate::data::dataset::{ImageSet, Splits};
use crate::error::{Error, Result};

pub const SIDE: usize = 96;
const IMAGE: usize = 3 * SIDE * SIDE;

pub const STL10_CLASSES: [&str; 10] = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"];

/// Parses an `*_X.bin` file into N×3×96×96 row-major pixels.
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    if bytes.is_empty() || bytes.len() % IMAGE != 0 {
        return Err(Error::data(
            path,
            format!("truncated image {}: {} bytes is not a whole number of {IMAGE}-byte 3×96×96 images", bytes.len() / IMAGE, bytes.len()),
        ));
    }
    let mut out = vec![0u8; bytes.len()];
    for (src, dst) in bytes.chunks_exact(IMAGE).zip(out.chunks_exact_mut(IMAGE)) {
        for (sp, dp) in src.chunks_exact(SIDE * SIDE).zip(dst.chunks_exact_mut(SIDE * SIDE)) {
            // Column-major to row-major: source (row r, column c) sits at c·96 + r.
            for c in 0..SIDE {
                for r in 0..SIDE {
                    dp[r * SIDE + c] = sp[c * SIDE + r];
                }
            }
        }
    }
    Ok(out)
}

/// Parses a `*_y.bin` file: labels 1–10 become 0–9.
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u16>> {
    if bytes.is_empty() {
        return Err(Error::data(path, "empty label file"));
    }
    bytes
        .iter()
        .enumerate()
        .map(|(i, &l)| match l {
            1..=10 => Ok(l as u16 - 1),
            _ => Err(Error::data(path, format!("label {l} of record {i} is out of range 1..=10"))),
        })
        .collect()
}

fn stl_dir(dir: &Path) -> PathBuf {
    let nested = dir.join("stl10_binary");
    if !dir.join("test_X.bin").exists() && nested.join("test_X.bin").exists() { nested } else { dir.to_path_buf() }
}

fn load_split(dir: &Path, split: &str, classes: &[String]) -> Result<ImageSet> {
    let (xp, yp) = (dir.join(format!("{split}_X.bin")), dir.join(format!("{split}_y.bin")));
    for p in [&xp, &yp] {
        if !p.exists() {
            return Err(Error::data(p, "missing: stl10 needs this file (see `trgl data fetch stl10`)"));
        }
    }
    let pixels = parse_images(&read_file(&xp)?, &xp)?;
    let labels = parse_labels(&read_file(&yp)?, &yp)?;
    if pixels.len() / IMAGE != labels.len() {
        return Err(Error::data(&yp, format!("{} labels for {} images in {}", labels.len(), pixels.len() / IMAGE, xp.display())));
    }
    Ok(ImageSet { pixels, labels, channels: 3, height: SIDE, width: SIDE, classes: classes.to_vec() })
}

/// `stl10_binary/`: the labelled 5 000 train / 8 000 test images.
pub fn load_stl10(dir: &Path) -> Result<Splits> {
    let dir = stl_dir(dir);
    let names = dir.join("class_names.txt");
    let classes: Vec<String> = match std::fs::read_to_string(&names) {
        Ok(t) => t.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
        Err(_) => STL10_CLASSES.iter().map(|s| s.to_string()).collect(),
    };
    if classes.len() != 10 {
        return Err(Error::data(&names, format!("{} class names, expected 10", classes.len())));
    }
    Ok(Splits { name: "stl10".into(), train: load_split(&dir, "train", &classes)?, test: load_split(&dir, "test", &classes)? })
}

/// `unlabeled_X.bin` (100 000 images): an image set whose labels are all 0 and which has no classes.
pub fn load_stl10_unlabeled(dir: &Path) -> Result<ImageSet> {
    let path = stl_dir(dir).join("unlabeled_X.bin");
    let pixels = parse_images(&read_file(&path)?, &path)?;
    let n = pixels.len() / IMAGE;
    Ok(ImageSet { pixels, labels: vec![0; n], channels: 3, height: SIDE, width: SIDE, classes: Vec::new() })
}
