//! Fuzz target: A decoded-set cache file (.trglset).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod scratch;
use scratch::scratch;

fuzz_target!(|data: &[u8]| {
    let p = scratch("decoded_cache").join("set.trglset");
    std::fs::write(&p, data).unwrap();
    let _ = trgl::data::cache::load(&p, "fuzz");
});
