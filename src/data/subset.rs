//! Seeded, class-balanced subsets of a training set, and a validation split held out from it.
//!
//! Image sets are often stored class by class (ImageFolder, the CIFAR-10 JPEG archive), so "the first N
//! images" may hold only the first classes. Here each class's images are shuffled by a generator seeded
//! with (seed, class); the validation images are taken first from each class, and the training subset
//! from what remains — so that a run with fewer training images keeps the same validation set. The
//! images keep the set's order (the loader shuffles them each epoch).

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::ImageSet;
use crate::error::{Error, Result};

/// How much of each class a run uses: all, `per_class` images, or a `fraction`; and the fraction of each
/// class held out for validation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SubsetSpec {
    /// Training images per class (0 = no limit).
    pub per_class: usize,
    /// Fraction of each class's images (after the validation images are taken) used for training.
    pub fraction: f64,
    /// Fraction of each class held out for validation (0 = none).
    pub val_fraction: f64,
}

impl SubsetSpec {
    pub fn is_everything(&self) -> bool {
        self.per_class == 0 && self.fraction >= 1.0 && self.val_fraction == 0.0
    }
}

/// The images of `set` at `indices`, in that order.
pub fn gather(set: &ImageSet, indices: &[usize]) -> ImageSet {
    let mut pixels = Vec::with_capacity(indices.len() * set.image_len());
    for &i in indices {
        pixels.extend_from_slice(set.image(i));
    }
    ImageSet {
        pixels,
        labels: indices.iter().map(|&i| set.labels[i]).collect(),
        channels: set.channels,
        height: set.height,
        width: set.width,
        classes: set.classes.clone(),
    }
}

/// (training indices, validation indices) of `set` for `spec` and `seed`, each in the set's order. An
/// error names the class that has too few images.
pub fn stratified_indices(set: &ImageSet, spec: &SubsetSpec, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); set.classes.len().max(1)];
    for (i, &l) in set.labels.iter().enumerate() {
        if let Some(c) = by_class.get_mut(l as usize) {
            c.push(i);
        }
    }
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for (c, mut members) in by_class.into_iter().enumerate() {
        if members.is_empty() {
            continue;
        }
        let name = set.classes.get(c).cloned().unwrap_or_else(|| c.to_string());
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (c as u64).wrapping_add(0xA076_1D64_78BD_642F));
        members.shuffle(&mut rng);
        let n_val = (spec.val_fraction * members.len() as f64).round() as usize;
        if spec.val_fraction > 0.0 && (n_val == 0 || n_val >= members.len()) {
            return Err(Error::config(
                "data.val_fraction",
                format!("{} of class `{name}`'s {} images leaves {} for validation and {} for training: each needs at least one", spec.val_fraction, members.len(), n_val, members.len() - n_val.min(members.len())),
            ));
        }
        let rest = &members[n_val..];
        let n_train = if spec.per_class > 0 {
            if rest.len() < spec.per_class {
                return Err(Error::config(
                    "data.train_per_class",
                    format!("{} images per class asked, class `{name}` has {}{}", spec.per_class, rest.len(), if n_val > 0 { format!(" once {n_val} are held out for validation") } else { String::new() }),
                ));
            }
            spec.per_class
        } else {
            ((spec.fraction * rest.len() as f64).round() as usize).clamp(1, rest.len())
        };
        val.extend_from_slice(&members[..n_val]);
        train.extend_from_slice(&rest[..n_train]);
    }
    train.sort_unstable();
    val.sort_unstable();
    Ok((train, val))
}

/// The training images and the validation set (`None` without `val_fraction`) of `set`.
pub fn stratified(set: &ImageSet, spec: &SubsetSpec, seed: u64) -> Result<(ImageSet, Option<ImageSet>)> {
    if spec.is_everything() {
        return Ok((set.clone(), None));
    }
    let (train, val) = stratified_indices(set, spec, seed)?;
    Ok((gather(set, &train), (!val.is_empty()).then(|| gather(set, &val))))
}
