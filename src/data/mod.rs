//! Datasets decoded once into memory, augmented on loader threads.

pub mod augment;
pub mod dataset;
pub mod idx;
pub mod loader;
pub mod synthetic;

pub use augment::{AugmentSpec, Normalize, PaddingMode};
pub use dataset::{ImageSet, Splits, embedded_fashion_mnist, load_idx_dir};
pub use loader::{Batch, Loader, LoaderSpec};
pub use synthetic::synthetic;

use crate::error::{Error, Result};

/// The names `data.dataset` accepts.
pub const DATASETS: [&str; 4] = ["fashion-mnist-demo", "fashion-mnist", "mnist", "idx"];

/// The dataset a config names: the embedded demo set, or IDX files in `dir`.
pub fn open(dataset: &str, dir: Option<&std::path::Path>) -> Result<Splits> {
    use dataset::{DIGIT_CLASSES, FASHION_MNIST_CLASSES};
    let dir_for = |name: &str| dir.ok_or_else(|| Error::config("data.dir", format!("dataset `{name}` is read from files: set data.dir")));
    match dataset {
        "fashion-mnist-demo" => Ok(embedded_fashion_mnist()),
        "fashion-mnist" => load_idx_dir(dataset, dir_for(dataset)?, &FASHION_MNIST_CLASSES),
        "mnist" | "idx" => load_idx_dir(dataset, dir_for(dataset)?, &DIGIT_CLASSES),
        other => Err(Error::config("data.dataset", format!("unknown dataset `{other}`; expected one of {}", DATASETS.join(", ")))),
    }
}
