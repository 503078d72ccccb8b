//! Batches assembled on worker threads with prefetch. Deterministic for a seed whatever the number of
//! workers: the epoch's order comes from (seed, epoch) and each batch's augmentation from its own RNG
//! seeded by (seed, epoch, batch index); batch i is built by worker i mod W and handed out in order.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::augment::{AugmentSpec, Normalize, augment_into, normalize_into};
use super::dataset::ImageSet;

/// One batch, ready to become tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// B×C×H×W, normalised.
    pub images: Vec<f32>,
    pub labels: Vec<i64>,
    pub shape: [usize; 4],
    /// Index of each image in its set.
    pub ids: Vec<u32>,
}

#[derive(Clone, Debug)]
pub struct LoaderSpec {
    pub batch_size: usize,
    pub workers: usize,
    /// Batches each worker may have ready ahead of the consumer.
    pub prefetch: usize,
    pub shuffle: bool,
    /// Drop the last incomplete batch (train time, so BatchNorm never sees a batch of 1).
    pub drop_last: bool,
    /// `None` at test time.
    pub augment: Option<AugmentSpec>,
}

#[derive(Clone)]
pub struct Loader {
    set: Arc<ImageSet>,
    spec: LoaderSpec,
    norm: Arc<Normalize>,
    seed: u64,
}

fn mix(seed: u64, a: u64, b: u64) -> u64 {
    // SplitMix64 over the three words: distinct streams for distinct (seed, epoch, batch).
    let mut z = seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Loader {
    /// How the images are normalised.
    pub fn norm(&self) -> &Normalize {
        &self.norm
    }

    pub fn new(set: Arc<ImageSet>, spec: LoaderSpec, norm: Normalize, seed: u64) -> Self {
        Loader { set, spec, norm: Arc::new(norm), seed }
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn spec(&self) -> &LoaderSpec {
        &self.spec
    }

    /// The same images and normalisation, batched as `spec` says.
    pub fn with_spec(&self, spec: LoaderSpec) -> Loader {
        Loader { set: self.set.clone(), spec, norm: self.norm.clone(), seed: self.seed }
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    pub fn set(&self) -> &ImageSet {
        &self.set
    }

    pub fn num_batches(&self) -> usize {
        let (n, b) = (self.set.len(), self.spec.batch_size);
        if self.spec.drop_last && n >= b { n / b } else { n.div_ceil(b) }
    }

    fn order(&self, epoch: u64) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.set.len() as u32).collect();
        if self.spec.shuffle {
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(mix(self.seed, epoch, u64::MAX)));
        }
        order
    }

    fn build(&self, order: &[u32], epoch: u64, index: usize) -> Batch {
        let set = &self.set;
        let b = self.spec.batch_size;
        let ids = &order[index * b..((index + 1) * b).min(order.len())];
        let (c, h, w) = (set.channels, set.height, set.width);
        let n = set.image_len();
        let mut images = vec![0f32; ids.len() * n];
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed, epoch, index as u64));
        for (slot, &id) in images.chunks_exact_mut(n).zip(ids) {
            let img = set.image(id as usize);
            match &self.spec.augment {
                Some(a) => augment_into(img, c, h, w, a, &self.norm, &mut rng, slot),
                None => normalize_into(img, c, h, w, &self.norm, slot),
            }
        }
        let labels = ids.iter().map(|&id| set.labels[id as usize] as i64).collect();
        Batch { images, labels, shape: [ids.len(), c, h, w], ids: ids.to_vec() }
    }

    /// The batches of one epoch, built ahead on the worker threads.
    pub fn epoch(&self, epoch: u64) -> EpochBatches {
        let order = Arc::new(self.order(epoch));
        let total = self.num_batches();
        let workers = self.spec.workers.max(1).min(total.max(1));
        let mut receivers = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for wid in 0..workers {
            let (tx, rx) = sync_channel(self.spec.prefetch.max(1));
            let loader = self.clone();
            let order = order.clone();
            handles.push(std::thread::spawn(move || {
                for index in (wid..total).step_by(workers) {
                    if tx.send(loader.build(&order, epoch, index)).is_err() {
                        return; // the consumer stopped early
                    }
                }
            }));
            receivers.push(rx);
        }
        EpochBatches { receivers, handles, next: 0, total }
    }
}

pub struct EpochBatches {
    receivers: Vec<Receiver<Batch>>,
    handles: Vec<JoinHandle<()>>,
    next: usize,
    total: usize,
}

impl EpochBatches {
    pub fn total(&self) -> usize {
        self.total
    }
}

impl Iterator for EpochBatches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.total {
            return None;
        }
        let rx = &self.receivers[self.next % self.receivers.len()];
        self.next += 1;
        Some(rx.recv().expect("a loader worker died"))
    }
}

impl Drop for EpochBatches {
    fn drop(&mut self) {
        self.receivers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
