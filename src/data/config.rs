//! The `[data]` section of a config: which dataset, how it is read, subset and batched.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::augment::{AugmentSpec, default_crop_padding};
use super::catalog::{self, EMBEDDED};
use crate::checks::positive;
use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// `fashion-mnist-demo` (embedded) or a name of `trgl data list`: mnist, fashion-mnist, idx, cifar10,
    /// cifar100, cifar100-coarse, stl10, svhn, svhn-extra, tiny-imagenet, image-folder.
    pub dataset: String,
    /// Folder holding the dataset's files (an ImageFolder may also be a .tar/.tar.gz archive); default:
    /// `$TRGL_DATA_DIR/<dataset>`, else the platform cache folder's `trgl/data/<dataset>`.
    pub dir: Option<PathBuf>,
    /// Image channels for JPEG/PNG datasets: 1 (grey), 3 (RGB) or 0 (from the first image).
    pub channels: usize,
    /// Resize JPEG/PNG images to resize×resize (bilinear); required when their sizes differ.
    pub resize: Option<usize>,
    /// Keep decoded JPEG/PNG datasets in `$TRGL_CACHE_DIR` (default: the platform cache's `trgl/decoded`).
    pub cache: bool,
    /// Use only the first N training images (0 = all). On a set stored class by class this keeps only the
    /// first classes: `train_per_class` / `train_fraction` keep every class.
    pub train_limit: usize,
    /// Use N training images of each class, picked at random per seed (0 = all); refused when a class has
    /// fewer (see `data::subset`).
    pub train_per_class: usize,
    /// Use this fraction of each class's training images, picked at random per seed (1 = all).
    pub train_fraction: f64,
    /// Hold out this fraction of each class's training images as a validation set, picked per seed and
    /// before the training subset; its accuracy is recorded beside the test accuracy (`val_acc`), so that
    /// epochs and settings can be chosen on it (`trgl report --select-on val`). 0 = none.
    pub val_fraction: f64,
    /// Use only the first N test images (0 = all).
    pub test_limit: usize,
    pub batch_size: usize,
    pub test_batch_size: usize,
    pub workers: usize,
    pub prefetch: usize,
    pub augment: AugmentSpec,
}

impl DataConfig {
    /// The side of the images the network will see, where it is known before reading the data.
    pub fn image_side(&self) -> Option<usize> {
        if self.resize.is_some() {
            return self.resize;
        }
        if self.dataset == EMBEDDED {
            return Some(28);
        }
        catalog::find(&self.dataset).ok().and_then(|d| d.image_size)
    }

    /// The crop padding used when the config does not set `data.augment.crop_padding`.
    pub fn default_crop_padding(&self) -> usize {
        default_crop_padding(self.image_side())
    }

    /// The dataset is known, and one read from the user's files says where they are.
    pub fn validate_source(&self) -> Result<()> {
        if self.dataset != EMBEDDED {
            let info = catalog::find(&self.dataset)?;
            if info.remote.is_empty() && self.dir.is_none() {
                return Err(Error::config("data.dir", format!("dataset `{}` is read from your files: set data.dir to their folder", info.name)));
            }
        }
        Ok(())
    }

    /// Checks the section's other fields; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        if ![0, 1, 3].contains(&self.channels) {
            return Err(Error::config("data.channels", format!("must be 0 (from the images), 1 or 3, got {}", self.channels)));
        }
        if let Some(side) = self.resize {
            if !(4..=4096).contains(&side) {
                return Err(Error::config("data.resize", format!("must be between 4 and 4096 pixels, got {side}")));
            }
        }
        let d = self;
        if !(d.train_fraction > 0.0 && d.train_fraction <= 1.0) {
            return Err(Error::config("data.train_fraction", format!("must be in (0, 1], got {}", d.train_fraction)));
        }
        if !(0.0..1.0).contains(&d.val_fraction) {
            return Err(Error::config("data.val_fraction", format!("must be in [0, 1), got {}", d.val_fraction)));
        }
        if d.train_per_class > 0 && d.train_fraction < 1.0 {
            return Err(Error::config("data.train_per_class", "give train_per_class or train_fraction, not both"));
        }
        if d.train_limit > 0 && (d.train_per_class > 0 || d.train_fraction < 1.0 || d.val_fraction > 0.0) {
            return Err(Error::config("data.train_limit", "keeps the first N images; with train_per_class, train_fraction or val_fraction, leave it 0"));
        }
        if self.batch_size < 2 {
            return Err(Error::config("data.batch_size", "must be at least 2 (BatchNorm needs more than one sample)"));
        }
        positive("data.test_batch_size", self.test_batch_size)?;
        positive("data.workers", self.workers)?;
        positive("data.prefetch", self.prefetch)?;
        if self.augment.crop_padding > 16 {
            return Err(Error::config("data.augment.crop_padding", "must be at most 16 pixels"));
        }
        Ok(())
    }
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            dataset: "fashion-mnist-demo".into(),
            dir: None,
            channels: 0,
            resize: None,
            cache: true,
            train_limit: 0,
            train_per_class: 0,
            train_fraction: 1.0,
            val_fraction: 0.0,
            test_limit: 0,
            batch_size: 128,
            test_batch_size: 500,
            workers: 2,
            prefetch: 2,
            augment: AugmentSpec::default(),
        }
    }
}
