//! Loader-only throughput: batches assembled (augmentation and normalisation included) per second, with
//! the configured workers and prefetch, and nothing consuming them but a counter.

use std::time::Instant;

use crate::data::Loader;

#[derive(Clone, Debug, serde::Serialize)]
pub struct LoaderTiming {
    pub images: usize,
    pub seconds: f64,
    pub images_per_second: f64,
}

/// Draws `batches` batches (at most one epoch) from epoch 0 of `loader`.
pub fn time_loader(loader: &Loader, batches: usize) -> LoaderTiming {
    let start = Instant::now();
    let mut images = 0;
    for b in loader.epoch(0).take(batches) {
        images += b.shape[0];
        std::hint::black_box(&b.images);
    }
    let seconds = start.elapsed().as_secs_f64();
    LoaderTiming { images, seconds, images_per_second: images as f64 / seconds }
}
