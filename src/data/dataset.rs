//! Images decoded once into one compact u8 buffer (N×C×H×W), with their labels and class names.

use std::path::Path;

use super::idx::{IdxArray, parse_idx, read_idx_file};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct ImageSet {
    /// N×C×H×W bytes.
    pub pixels: Vec<u8>,
    pub labels: Vec<u16>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub classes: Vec<String>,
}

/// A dataset's standard train/test split.
#[derive(Debug, Clone)]
pub struct Splits {
    pub name: String,
    pub train: ImageSet,
    pub test: ImageSet,
}

impl Splits {
    /// Refuses splits no run can use: no images, images of no pixels, or train and test images of
    /// different shapes (every test accuracy would be meaningless).
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::config("data.dataset", format!("{}: {m}", self.name)));
        for (what, set) in [("training", &self.train), ("test", &self.test)] {
            if set.is_empty() {
                return bad(format!("the {what} set has no images"));
            }
            if set.image_len() == 0 {
                return bad(format!("the {what} images are {}×{}×{}: no pixels", set.channels, set.height, set.width));
            }
            if set.pixels.len() != set.len() * set.image_len() {
                return bad(format!("the {what} set holds {} bytes for {} images of {} bytes", set.pixels.len(), set.len(), set.image_len()));
            }
        }
        let shape = |s: &ImageSet| (s.channels, s.height, s.width);
        if shape(&self.train) != shape(&self.test) {
            return bad(format!("training images are {:?} (channels, height, width), test images {:?}: a network takes one shape", shape(&self.train), shape(&self.test)));
        }
        if self.train.classes.len() != self.test.classes.len() {
            return bad(format!("the training set has {} classes, the test set {}", self.train.classes.len(), self.test.classes.len()));
        }
        Ok(())
    }
}

impl ImageSet {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Per-channel mean and standard deviation of the pixels scaled to [0, 1].
    pub fn channel_stats(&self) -> (Vec<f32>, Vec<f32>) {
        let plane = self.height * self.width;
        let mut sum = vec![0f64; self.channels];
        let mut sq = vec![0f64; self.channels];
        for img in self.pixels.chunks_exact(self.image_len()) {
            for (c, p) in img.chunks_exact(plane).enumerate() {
                for &v in p {
                    let v = v as f64 / 255.0;
                    sum[c] += v;
                    sq[c] += v * v;
                }
            }
        }
        let n = (self.len() * plane).max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq.iter().zip(&mean).map(|(s, m)| ((s / n - m * m).max(1e-12)).sqrt() as f32).collect();
        (mean.into_iter().map(|m| m as f32).collect(), std)
    }

    /// The first `n` images (all when `n` is 0 or larger than the set).
    pub fn truncate(mut self, n: usize) -> Self {
        if n > 0 && n < self.len() {
            self.pixels.truncate(n * self.image_len());
            self.labels.truncate(n);
        }
        self
    }

    /// Builds a grey-image set from an IDX image array `[N, H, W]` and label array `[N]`.
    pub fn from_idx(images: IdxArray, labels: IdxArray, classes: Vec<String>, images_path: &Path, labels_path: &Path) -> Result<Self> {
        if images.dims.len() != 3 {
            return Err(Error::data(images_path, format!("expected an image array of 3 dimensions [N, H, W], got {:?}", images.dims)));
        }
        if labels.dims.len() != 1 {
            return Err(Error::data(labels_path, format!("expected a label array of 1 dimension [N], got {:?}", labels.dims)));
        }
        if images.dims[1] == 0 || images.dims[2] == 0 {
            return Err(Error::data(images_path, format!("images of {}×{} pixels: an image needs at least one", images.dims[1], images.dims[2])));
        }
        if images.dims[0] != labels.dims[0] {
            return Err(Error::data(
                labels_path,
                format!("{} labels for {} images in {}", labels.dims[0], images.dims[0], images_path.display()),
            ));
        }
        if let Some((i, &l)) = labels.data.iter().enumerate().find(|(_, l)| **l as usize >= classes.len()) {
            return Err(Error::data(labels_path, format!("label {l} of record {i} is out of range 0..{}", classes.len())));
        }
        Ok(ImageSet {
            pixels: images.data,
            labels: labels.data.iter().map(|&l| l as u16).collect(),
            channels: 1,
            height: images.dims[1],
            width: images.dims[2],
            classes,
        })
    }
}

pub const FASHION_MNIST_CLASSES: [&str; 10] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

pub const DIGIT_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Reads the four files of an MNIST-like IDX dataset in `dir` (each `.gz` or raw).
pub fn load_idx_dir(name: &str, dir: &Path, classes: &[&str]) -> Result<Splits> {
    let classes: Vec<String> = classes.iter().map(|s| s.to_string()).collect();
    let find = |stem: &str| -> Result<std::path::PathBuf> {
        for candidate in [format!("{stem}.gz"), stem.to_string()] {
            let p = dir.join(&candidate);
            if p.exists() {
                return Ok(p);
            }
        }
        Err(Error::data(dir.join(format!("{stem}.gz")), format!("missing: {name} needs {stem}.gz (or {stem}) in {}", dir.display())))
    };
    let load = |img: &str, lab: &str| -> Result<ImageSet> {
        let (ip, lp) = (find(img)?, find(lab)?);
        ImageSet::from_idx(read_idx_file(&ip)?, read_idx_file(&lp)?, classes.clone(), &ip, &lp)
    };
    Ok(Splits {
        name: name.to_string(),
        train: load("train-images-idx3-ubyte", "train-labels-idx1-ubyte")?,
        test: load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?,
    })
}

/// Any MNIST-like IDX folder: the one `<prefix>train-images-idx3-ubyte` / `<prefix>t10k-…` set in `dir`
/// (KMNIST's plain names, EMNIST's `emnist-<split>-` prefix), raw or gzipped. Classes are numbered from the
/// labels, or named by `<prefix>mapping.txt` (EMNIST: `label ascii-code` lines). `transpose` undoes EMNIST's
/// column-major image storage.
pub fn load_idx_any(name: &str, dir: &Path, transpose: bool) -> Result<Splits> {
    let suffix = "train-images-idx3-ubyte";
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut prefixes: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".gz").unwrap_or(&n).strip_suffix(suffix).map(String::from)
        })
        .collect();
    prefixes.sort();
    prefixes.dedup();
    let prefix = match prefixes.as_slice() {
        [p] => p.clone(),
        [] => return Err(Error::data(dir, format!("no *{suffix}[.gz] file: {name} needs the four IDX files"))),
        many => return Err(Error::data(dir, format!("several IDX sets ({}): point data.dir at a folder holding one", many.iter().map(|p| format!("{p}{suffix}")).collect::<Vec<_>>().join(", ")))),
    };
    let find = |stem: &str| -> Result<std::path::PathBuf> {
        let stem = format!("{prefix}{stem}");
        [format!("{stem}.gz"), stem.clone()].into_iter().map(|c| dir.join(c)).find(|p| p.exists()).ok_or_else(|| Error::data(dir.join(format!("{stem}.gz")), format!("missing: {name} needs this file")))
    };
    let read = |img: &str, lab: &str| -> Result<(IdxArray, IdxArray, std::path::PathBuf, std::path::PathBuf)> {
        let (ip, lp) = (find(img)?, find(lab)?);
        Ok((read_idx_file(&ip)?, read_idx_file(&lp)?, ip, lp))
    };
    let (train, test) = (read("train-images-idx3-ubyte", "train-labels-idx1-ubyte")?, read("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?);
    let max_label = train.1.data.iter().chain(&test.1.data).copied().max().unwrap_or(0) as usize;
    let mapping = dir.join(format!("{prefix}mapping.txt"));
    let classes: Vec<String> = match std::fs::read_to_string(&mapping) {
        Ok(text) => {
            let mut names = vec![String::new(); max_label + 1];
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let mut f = line.split_whitespace();
                let parsed = (f.next().and_then(|l| l.parse::<usize>().ok()), f.next().and_then(|c| c.parse::<u32>().ok()).and_then(char::from_u32));
                let (Some(label), Some(ch)) = parsed else {
                    return Err(Error::data(&mapping, format!("line {}: expected `<label> <ascii code>`", i + 1)));
                };
                if label > u16::MAX as usize {
                    return Err(Error::data(&mapping, format!("line {}: label {label} is past the largest label an IDX file can hold (255)", i + 1)));
                }
                if label >= names.len() {
                    names.resize(label + 1, String::new());
                }
                names[label] = ch.to_string();
            }
            names.iter().enumerate().map(|(i, n)| if n.is_empty() { i.to_string() } else { n.clone() }).collect()
        }
        Err(_) => (0..=max_label).map(|i| i.to_string()).collect(),
    };
    let set = |(img, lab, ip, lp): (IdxArray, IdxArray, std::path::PathBuf, std::path::PathBuf)| -> Result<ImageSet> {
        let mut s = ImageSet::from_idx(img, lab, classes.clone(), &ip, &lp)?;
        if transpose {
            let (h, w) = (s.height, s.width);
            for img in s.pixels.chunks_exact_mut(h * w) {
                let t: Vec<u8> = (0..h * w).map(|i| img[(i % h) * w + i / h]).collect();
                img.copy_from_slice(&t);
            }
            (s.height, s.width) = (w, h);
        }
        Ok(s)
    };
    Ok(Splits { name: name.to_string(), train: set(train)?, test: set(test)? })
}

/// The demo subset of Fashion-MNIST compiled into the binary (see data/fashion-mnist-demo/COPYRIGHT).
pub fn embedded_fashion_mnist() -> Splits {
    const DIR: &str = "fashion-mnist-demo (embedded)";
    let parse = |bytes: &[u8], name: &str| parse_idx(bytes, &Path::new(DIR).join(name)).expect("the embedded dataset is valid");
    let classes: Vec<String> = FASHION_MNIST_CLASSES.iter().map(|s| s.to_string()).collect();
    let set = |img: &[u8], lab: &[u8], in_: &str, ln: &str| {
        ImageSet::from_idx(parse(img, in_), parse(lab, ln), classes.clone(), Path::new(in_), Path::new(ln))
            .expect("the embedded dataset is valid")
    };
    Splits {
        name: "fashion-mnist-demo".into(),
        train: set(
            include_bytes!("../../data/fashion-mnist-demo/train-images-idx3-ubyte.gz"),
            include_bytes!("../../data/fashion-mnist-demo/train-labels-idx1-ubyte.gz"),
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
        ),
        test: set(
            include_bytes!("../../data/fashion-mnist-demo/t10k-images-idx3-ubyte.gz"),
            include_bytes!("../../data/fashion-mnist-demo/t10k-labels-idx1-ubyte.gz"),
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ),
    }
}
