//! Fuzz target: A sweep file (TOML), without a base file.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if !text.contains("base") {
            let _ = trgl::sweep::spec::Sweep::from_str(text, Path::new("fuzz/sweep.toml"));
        }
    }
});
