//! Fuzz target: A SHA256SUMS file.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A folder of this process's own for the files the parser reads.
fn scratch(target: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("trgl-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch("sha256sums");
    std::fs::write(dir.join("SHA256SUMS"), data).unwrap();
    let _ = trgl::integrity::read_sums(&dir);
});
