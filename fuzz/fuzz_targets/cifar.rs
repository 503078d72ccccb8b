//! Fuzz target: CIFAR-10/100 binary batches (1 and 2 label bytes).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = Path::new("fuzz.bin");
    let _ = trgl::data::formats::cifar::parse_records(data, p, 1, 0, 10);
    let _ = trgl::data::formats::cifar::parse_records(data, p, 2, 1, 100);
});
