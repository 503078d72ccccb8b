//! SVHN cropped digits (`train_32x32.mat`, `test_32x32.mat`, `extra_32x32.mat`): MAT-files holding `X`, a
//! 32×32×3×N uint8 array, and `y`, N labels 1–10 where 10 stands for the digit 0.

use std::path::Path;

use super::matv5::parse_mat;
use super::read_file;
use crate::data::dataset::{DIGIT_CLASSES, ImageSet, Splits};
use crate::error::{Error, Result};

const SIDE: usize = 32;

/// Parses one SVHN MAT-file's bytes into a 3×32×32 image set.
pub fn parse_svhn(bytes: &[u8], path: &Path) -> Result<ImageSet> {
    let arrays = parse_mat(bytes, path)?;
    let find = |name: &str| {
        arrays.iter().find(|a| a.name == name).ok_or_else(|| Error::data(path, format!("no numeric variable `{name}`: not an SVHN cropped-digits file")))
    };
    let (x, y) = (find("X")?, find("y")?);
    if x.dims.len() != 4 || x.dims[..3] != [SIDE, SIDE, 3] {
        return Err(Error::data(path, format!("variable `X` has dimensions {:?}, expected [32, 32, 3, N]", x.dims)));
    }
    let n = x.dims[3];
    if y.len() != n {
        return Err(Error::data(path, format!("{} labels in `y` for {n} images in `X`", y.len())));
    }
    let labels = y
        .to_f64()
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            v if v.fract() == 0.0 && (1.0..=10.0).contains(&v) => Ok((v as u16) % 10),
            v => Err(Error::data(path, format!("label {v} of record {i} is out of range 1..=10"))),
        })
        .collect::<Result<Vec<u16>>>()?;
    let raw = x.to_u8(path)?;
    let plane = SIDE * SIDE;
    let mut pixels = vec![0u8; raw.len()];
    // Column-major [row, col, channel, image] to row-major N×C×H×W.
    for img in 0..n {
        for ch in 0..3 {
            let src = &raw[img * 3 * plane + ch * plane..][..plane];
            let dst = &mut pixels[img * 3 * plane + ch * plane..][..plane];
            for col in 0..SIDE {
                for row in 0..SIDE {
                    dst[row * SIDE + col] = src[col * SIDE + row];
                }
            }
        }
    }
    Ok(ImageSet { pixels, labels, channels: 3, height: SIDE, width: SIDE, classes: DIGIT_CLASSES.iter().map(|s| s.to_string()).collect() })
}

fn load(dir: &Path, file: &str) -> Result<ImageSet> {
    let path = dir.join(file);
    if !path.exists() {
        return Err(Error::data(&path, "missing: svhn needs this file (see `trgl data fetch svhn`)"));
    }
    parse_svhn(&read_file(&path)?, &path)
}

/// The standard split: `train_32x32.mat` (73 257) / `test_32x32.mat` (26 032); with `extra`, the 531 131
/// images of `extra_32x32.mat` join the training set.
pub fn load_svhn(dir: &Path, extra: bool) -> Result<Splits> {
    let mut train = load(dir, "train_32x32.mat")?;
    if extra {
        let e = load(dir, "extra_32x32.mat")?;
        train.pixels.extend(e.pixels);
        train.labels.extend(e.labels);
    }
    Ok(Splits { name: if extra { "svhn-extra" } else { "svhn" }.into(), train, test: load(dir, "test_32x32.mat")? })
}
