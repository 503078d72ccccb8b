//! Datasets decoded once into memory, augmented on loader threads.

pub mod augment;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod dataset;
pub mod fetch;
pub mod formats;
pub mod idx;
pub mod loader;
pub mod subset;
pub mod synthetic;

pub use augment::{AugmentSpec, Normalize, PaddingMode};
pub use catalog::{CATALOG, DatasetInfo, EMBEDDED, data_root, dataset_dir};
pub use config::DataConfig;
pub use dataset::{ImageSet, Splits, embedded_fashion_mnist, load_idx_dir};
pub use loader::{Batch, Loader, LoaderSpec};
pub use subset::{SubsetSpec, stratified};
pub use synthetic::synthetic;

use crate::error::Result;

/// The dataset a config names, from its folder (`data.dir`, else the default data root), through the
/// decoded-set cache for formats that are slow to decode.
pub fn open(config: &DataConfig) -> Result<Splits> {
    if config.dataset == EMBEDDED {
        return Ok(embedded_fashion_mnist());
    }
    let info = catalog::find(&config.dataset)?;
    let dir = dataset_dir(info, config.dir.as_deref());
    if !(info.cache_decoded && config.cache) {
        return catalog::read(info, &dir, config.channels, config.resize);
    }
    let key = cache::cache_path(info.name, &dir, &format!("channels={} resize={:?}", config.channels, config.resize));
    if let Some(splits) = cache::load(&key, info.name)? {
        return Ok(splits);
    }
    let splits = catalog::read(info, &dir, config.channels, config.resize)?;
    // A cache that cannot be written only costs the next run a decode.
    if let Err(e) = cache::store(&key, &splits) {
        eprintln!("warning: decoded set not cached: {e}");
    }
    Ok(splits)
}
