//! Fuzz target: A decoded-set cache file (.trglset).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A folder of this process's own for the files the parser reads.
fn scratch(target: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("trgl-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fuzz_target!(|data: &[u8]| {
    let p = scratch("decoded_cache").join("set.trglset");
    std::fs::write(&p, data).unwrap();
    let _ = trgl::data::cache::load(&p, "fuzz");
});
