//! Fuzz target: An ImageFolder archive (.tar or .tar.gz).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod scratch;
use scratch::scratch;

fuzz_target!(|data: &[u8]| {
    let gz = data.starts_with(&[0x1f, 0x8b]);
    let p = scratch("image_folder_tar").join(if gz { "set.tar.gz" } else { "set.tar" });
    std::fs::write(&p, data).unwrap();
    let _ = trgl::data::formats::image_folder::read_image_folder(&p, 0, Some(8));
});
