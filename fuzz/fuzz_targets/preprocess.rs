//! Fuzz target: A run's preprocess.json.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod scratch;
use scratch::scratch;

fuzz_target!(|data: &[u8]| {
    let dir = scratch("preprocess");
    std::fs::write(dir.join("preprocess.json"), data).unwrap();
    let _ = trgl::export::Preprocess::load(&dir);
});
