//! Fuzz target: A SHA256SUMS file.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod scratch;
use scratch::scratch;

fuzz_target!(|data: &[u8]| {
    let dir = scratch("sha256sums");
    std::fs::write(dir.join("SHA256SUMS"), data).unwrap();
    let _ = trgl::integrity::read_sums(&dir);
});
