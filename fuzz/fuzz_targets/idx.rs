//! Fuzz target: IDX files, raw or gzipped (MNIST, Fashion-MNIST, KMNIST, EMNIST).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = trgl::data::idx::parse_idx(data, Path::new("fuzz.idx"));
});
