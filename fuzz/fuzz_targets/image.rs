//! Fuzz target: One image file (PNG, JPEG) decoded as an ImageFolder image is.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use trgl::data::formats::decode::{DecodeSpec, decode_one};
    let p = Path::new("fuzz.png");
    let _ = decode_one(p, data, DecodeSpec { channels: 3, resize: None });
    let _ = decode_one(p, data, DecodeSpec { channels: 1, resize: Some(8) });
});
