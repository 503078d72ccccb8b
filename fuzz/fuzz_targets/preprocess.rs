//! Fuzz target: A run's preprocess.json.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A folder of this process's own for the files the parser reads.
fn scratch(target: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("trgl-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch("preprocess");
    std::fs::write(dir.join("preprocess.json"), data).unwrap();
    let _ = trgl::train::export::Preprocess::load(&dir);
});
