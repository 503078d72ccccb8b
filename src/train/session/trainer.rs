//! The state that changes with every step: the network, the transport weights (Uzawa's λ), how many passes
//! over the data have begun (each has its own shuffle and augmentation), the frozen prefix's cache.

use burn::module::Module;
use burn::prelude::Device;

use crate::alloc::PhaseMemory;
use crate::data::{Loader, LoaderSpec};
use crate::error::Error;
use crate::model::Network;
use crate::train::prefix_cache::PrefixCache;
use crate::train::running::Reading;
use crate::transport::TransportWeights;

pub struct Trainer {
    pub network: Network,
    pub weights: TransportWeights,
    /// The training device (autodiff); `infer_device` is the same hardware without autodiff.
    pub device: Device,
    pub infer_device: Device,
    /// Passes over the training data begun so far.
    pub(crate) data_epochs: u64,
    /// The frozen prefix's output over the training set, when `train.cache_prefix` is on.
    pub(crate) prefix_cache: Option<PrefixCache>,
    /// Host memory of the last training pass (its steps, without evaluation).
    pub(crate) phase_memory: PhaseMemory,
}

impl Trainer {
    pub fn new(network: Network, weights: TransportWeights, device: Device, infer_device: Device) -> Trainer {
        Trainer { network, weights, device, infer_device, data_epochs: 0, prefix_cache: None, phase_memory: PhaseMemory::default() }
    }

    /// Passes over the training data begun so far.
    pub fn data_epochs(&self) -> usize {
        self.data_epochs as usize
    }

    /// The frozen prefix's cached output over the training set, if a pass built one.
    pub fn prefix_cache(&self) -> Option<&PrefixCache> {
        self.prefix_cache.as_ref()
    }

    /// The error of a reading that found a non-finite loss; `first` is the module of the reading's index 0.
    pub(crate) fn non_finite(&self, reading: &Reading, first: usize) -> Option<Error> {
        reading.non_finite.map(|(j, step, value)| Error::NonFinite { module: first + j + 1, epoch: self.data_epochs as usize, step, value })
    }

    /// Drops the prefix cache when it covers module `start`, which is about to change.
    pub(crate) fn forget_prefix_from(&mut self, start: usize) {
        if self.prefix_cache.as_ref().is_some_and(|c| c.upto > start) {
            self.prefix_cache = None;
        }
    }

    /// Brings the prefix cache to the output of the first `upto` modules (inference copies), over
    /// `train`'s images in order, unaugmented, `batch` at a time.
    pub(crate) fn update_prefix_cache(&mut self, upto: usize, train: &Loader, batch: usize) {
        if self.prefix_cache.is_none() {
            let spec = LoaderSpec { shuffle: false, drop_last: false, augment: None, batch_size: batch, ..train.spec().clone() };
            let first = self.network.modules[0].valid();
            self.prefix_cache = Some(PrefixCache::build(&first, &train.with_spec(spec), &self.infer_device));
        }
        let cache = self.prefix_cache.as_mut().expect("built above");
        while cache.upto < upto {
            let module = self.network.modules[cache.upto].valid();
            cache.extend(&module, batch, &self.infer_device);
        }
    }
}
