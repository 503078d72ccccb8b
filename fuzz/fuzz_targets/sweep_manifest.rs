//! Fuzz target: A sweep's manifest.json.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A folder of this process's own for the files the parser reads.
fn scratch(target: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("trgl-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch("sweep_manifest");
    std::fs::write(dir.join("manifest.json"), data).unwrap();
    let _ = trgl::sweep::manifest::Manifest::load(&dir);
});
