//! Fuzz target: A sweep's manifest.json.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod scratch;
use scratch::scratch;

fuzz_target!(|data: &[u8]| {
    let dir = scratch("sweep_manifest");
    std::fs::write(dir.join("manifest.json"), data).unwrap();
    let _ = trgl::sweep::manifest::Manifest::load(&dir);
});
