//! Fuzz target: MATLAB v5 files (SVHN's .mat), compressed variables included.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = Path::new("fuzz.mat");
    let _ = trgl::data::formats::matv5::parse_mat(data, p);
    let _ = trgl::data::formats::svhn::parse_svhn(data, p);
});
