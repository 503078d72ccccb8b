//! The one helper the file-reading targets share (each target is a binary of its own that includes it).

/// A folder of this process's own for the files the parser reads.
pub fn scratch(target: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("trgl-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
