//! CIFAR-10 and CIFAR-100, binary version. A CIFAR-10 record is `<label><3072 pixels>`, a CIFAR-100 record
//! `<coarse label><fine label><3072 pixels>`; pixels are the R, G and B planes of a 32×32 image, row-major.

use std::path::{Path, PathBuf};

use super::read_file;
use crate::data::dataset::{ImageSet, Splits};
use crate::error::{Error, Result};

const PIXELS: usize = 3 * 32 * 32;

pub const CIFAR10_CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// Which CIFAR-100 label a set carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cifar100Labels {
    /// 100 classes.
    Fine,
    /// 20 superclasses.
    Coarse,
}

/// Parses CIFAR records: `label_bytes` label bytes then 3072 pixels each; `label_index` picks the label kept.
pub fn parse_records(bytes: &[u8], path: &Path, label_bytes: usize, label_index: usize, classes: usize) -> Result<(Vec<u8>, Vec<u16>)> {
    let record = label_bytes + PIXELS;
    if bytes.is_empty() {
        return Err(Error::data(path, "empty file: expected CIFAR records"));
    }
    if bytes.len() % record != 0 {
        return Err(Error::data(
            path,
            format!("truncated record {}: {} bytes is not a whole number of {record}-byte records", bytes.len() / record, bytes.len()),
        ));
    }
    let n = bytes.len() / record;
    let mut pixels = Vec::with_capacity(n * PIXELS);
    let mut labels = Vec::with_capacity(n);
    for (i, r) in bytes.chunks_exact(record).enumerate() {
        let label = r[label_index];
        if label as usize >= classes {
            return Err(Error::data(path, format!("label {label} of record {i} is out of range 0..{classes}")));
        }
        labels.push(label as u16);
        pixels.extend_from_slice(&r[label_bytes..]);
    }
    Ok((pixels, labels))
}

fn set_from_files(files: &[PathBuf], label_bytes: usize, label_index: usize, classes: &[String]) -> Result<ImageSet> {
    let mut set = ImageSet { pixels: Vec::new(), labels: Vec::new(), channels: 3, height: 32, width: 32, classes: classes.to_vec() };
    for f in files {
        let bytes = read_file(f)?;
        let (p, l) = parse_records(&bytes, f, label_bytes, label_index, classes.len())?;
        set.pixels.extend(p);
        set.labels.extend(l);
    }
    Ok(set)
}

/// Class names from a `batches.meta.txt`-style file (one per line), or the given defaults when absent.
fn class_names(path: &Path, expected: usize, default: impl FnOnce() -> Vec<String>) -> Result<Vec<String>> {
    if !path.exists() {
        return Ok(default());
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let names: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    if names.len() != expected {
        return Err(Error::data(path, format!("{} class names, expected {expected}", names.len())));
    }
    Ok(names)
}

/// The folder holding the batches: `dir` itself or its `inner` subfolder (as the archive unpacks).
fn batches_dir(dir: &Path, inner: &str, probe: &str) -> PathBuf {
    let nested = dir.join(inner);
    if !dir.join(probe).exists() && nested.join(probe).exists() { nested } else { dir.to_path_buf() }
}

fn require(path: PathBuf, dataset: &str) -> Result<PathBuf> {
    if path.exists() { Ok(path) } else { Err(Error::data(&path, format!("missing: {dataset} needs this file (see `trgl data fetch {dataset}`)"))) }
}

/// `cifar-10-batches-bin/`: `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`, `batches.meta.txt`.
pub fn load_cifar10(dir: &Path) -> Result<Splits> {
    let dir = batches_dir(dir, "cifar-10-batches-bin", "test_batch.bin");
    let classes = class_names(&dir.join("batches.meta.txt"), 10, || CIFAR10_CLASSES.iter().map(|s| s.to_string()).collect())?;
    let train: Vec<PathBuf> = (1..=5).map(|i| require(dir.join(format!("data_batch_{i}.bin")), "cifar10")).collect::<Result<_>>()?;
    let test = [require(dir.join("test_batch.bin"), "cifar10")?];
    Ok(Splits {
        name: "cifar10".into(),
        train: set_from_files(&train, 1, 0, &classes)?,
        test: set_from_files(&test, 1, 0, &classes)?,
    })
}

/// `cifar-100-binary/`: `train.bin`, `test.bin`, `fine_label_names.txt`, `coarse_label_names.txt`.
pub fn load_cifar100(dir: &Path, labels: Cifar100Labels) -> Result<Splits> {
    let dir = batches_dir(dir, "cifar-100-binary", "test.bin");
    let (names_file, count, index, name) = match labels {
        Cifar100Labels::Fine => ("fine_label_names.txt", 100, 1, "cifar100"),
        Cifar100Labels::Coarse => ("coarse_label_names.txt", 20, 0, "cifar100-coarse"),
    };
    let classes = class_names(&dir.join(names_file), count, || (0..count).map(|i| i.to_string()).collect())?;
    Ok(Splits {
        name: name.into(),
        train: set_from_files(&[require(dir.join("train.bin"), name)?], 2, index, &classes)?,
        test: set_from_files(&[require(dir.join("test.bin"), name)?], 2, index, &classes)?,
    })
}
