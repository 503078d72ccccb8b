//! Fuzz target: STL-10 binary images and labels.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = Path::new("fuzz.bin");
    let _ = trgl::data::formats::stl10::parse_images(data, p);
    let _ = trgl::data::formats::stl10::parse_labels(data, p);
});
