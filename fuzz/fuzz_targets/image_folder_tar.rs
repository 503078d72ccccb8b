//! Fuzz target: An ImageFolder archive (.tar or .tar.gz).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A folder of this process's own for the files the parser reads.
fn scratch(target: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("trgl-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fuzz_target!(|data: &[u8]| {
    let gz = data.starts_with(&[0x1f, 0x8b]);
    let p = scratch("image_folder_tar").join(if gz { "set.tar.gz" } else { "set.tar" });
    std::fs::write(&p, data).unwrap();
    let _ = trgl::data::formats::image_folder::read_image_folder(&p, 0, Some(8));
});
