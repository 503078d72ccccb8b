//! The frozen prefix's output, kept for the whole training set (`train.cache_prefix`).
//!
//! In sequential and multi-lap training, module k trains on the output of modules 1..k−1, which are frozen
//! and run in inference mode: each image's prefix output depends on that image alone. Without augmentation
//! an image is the same at every epoch, so its prefix output can be computed once. The cache holds, for
//! every training image (by index in the set), the output of the first `upto` modules. Moving on to the next
//! module extends it by running only the module just finished, once, over the cached features — never the
//! whole prefix again — so an epoch of module k costs about what an epoch of module 1 costs.
//!
//! Training on the cache sees exactly the batches of uncached training (the same images in the same order,
//! the same labels); the features agree up to floating-point summation order, since the cache is built in
//! other batches than training uses. A module inside the cached prefix that trains again (the next lap of
//! multi-lap training) drops the cache, which is then rebuilt from the images. It costs host memory: N × the
//! size of one feature map (resnet20/110 on CIFAR-10 after stage 1: 50 000 × 16×32×32 floats = 3.3 GB).

use burn::prelude::*;

use crate::data::Loader;
use crate::model::LocalModule;
use crate::readback;

pub struct PrefixCache {
    /// How many modules the cached features have gone through.
    pub upto: usize,
    /// C×H×W of one image's features.
    pub shape: [usize; 3],
    pub features: Vec<f32>,
}

/// `module`'s features of `x`, on the host: their C×H×W and values.
fn features_on_host(module: &LocalModule, x: Tensor<4>) -> ([usize; 3], Vec<f32>) {
    let y = module.features(x);
    let [_, c, h, w] = y.dims();
    ([c, h, w], readback::read_f32(y))
}

impl PrefixCache {
    /// Runs module 0 over every image of `in_order` (a loader without shuffling or augmentation).
    pub fn build(first: &LocalModule, in_order: &Loader, device: &Device) -> Self {
        let mut features = Vec::new();
        let mut shape = [0; 3];
        for batch in in_order.epoch(0) {
            let (s, f) = features_on_host(first, Tensor::from_data(TensorData::new(batch.images, batch.shape), device));
            shape = s;
            features.extend(f);
        }
        PrefixCache { upto: 1, shape, features }
    }

    pub fn len(&self) -> usize {
        self.features.len() / self.shape.iter().product::<usize>().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Passes the cached features through `module` (module `upto`), `batch` images at a time.
    pub fn extend(&mut self, module: &LocalModule, batch: usize, device: &Device) {
        let per = self.shape.iter().product::<usize>();
        let mut next = Vec::new();
        let mut shape = self.shape;
        for chunk in self.features.chunks(per * batch) {
            let n = chunk.len() / per;
            let x = Tensor::from_data(TensorData::new(chunk.to_vec(), [n, self.shape[0], self.shape[1], self.shape[2]]), device);
            let (s, f) = features_on_host(module, x);
            shape = s;
            next.extend(f);
        }
        *self = PrefixCache { upto: self.upto + 1, shape, features: next };
    }

    /// The cached features of images `ids`, as one batch.
    pub fn gather(&self, ids: &[u32], device: &Device) -> Tensor<4> {
        let per = self.shape.iter().product::<usize>();
        let mut out = Vec::with_capacity(ids.len() * per);
        for &id in ids {
            out.extend_from_slice(&self.features[id as usize * per..(id as usize + 1) * per]);
        }
        Tensor::from_data(TensorData::new(out, [ids.len(), self.shape[0], self.shape[1], self.shape[2]]), device)
    }
}
