//! Sizes read from files are checked before anything is allocated from them, and data no run can use is
//! refused with a clear error: a gzip bomb behind an IDX header, 0×0 images, train and test images of
//! different shapes, empty sets, a preprocess.json asking for a huge network, a damaged decoded-set cache.

mod common;

use std::io::Write;
use std::path::Path;

use trgl::data::idx::{MAX_GZIP_RATIO, parse_idx};
use trgl::data::{ImageSet, Splits};
use trgl::train::{Mode, Session};

#[global_allocator]
static ALLOC: trgl::alloc::CountingAlloc = trgl::alloc::CountingAlloc;

/// The tests of this file measure the allocator's peak one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn idx_header(dims: &[u32]) -> Vec<u8> {
    let mut h = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        h.extend(d.to_be_bytes());
    }
    h
}

fn gzip(parts: &[&[u8]], zeros: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for p in parts {
        enc.write_all(p).unwrap();
    }
    let chunk = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(chunk.len());
        enc.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    enc.finish().unwrap()
}

#[test]
fn a_gzip_bomb_behind_a_small_idx_header_is_refused_within_bounded_memory() {
    let _g = serial();
    // The header declares 10 images of 28×28 (7 840 bytes); the stream holds 1 GiB of zeros (about 1 MB gzipped).
    let bomb = gzip(&[&idx_header(&[10, 28, 28])], 1 << 30);
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    trgl::alloc::reset_peak();
    let base = trgl::alloc::live_bytes();
    let e = parse_idx(&bomb, Path::new("bomb.gz")).unwrap_err().to_string();
    let peak = trgl::alloc::peak_bytes() - base;
    assert!(e.contains("bomb.gz") && e.contains("trailing"), "{e}");
    assert!(peak < 16 << 20, "decompressing the bomb allocated {peak} bytes; the header declares 7 840");
}

#[test]
fn a_header_declaring_more_than_gzip_can_hold_is_refused_before_decompressing() {
    let _g = serial();
    // 60 000 × 2 000 × 2 000 bytes declared by a file of a few dozen bytes.
    let liar = gzip(&[&idx_header(&[60_000, 2_000, 2_000])], 0);
    trgl::alloc::reset_peak();
    let base = trgl::alloc::live_bytes();
    let e = parse_idx(&liar, Path::new("liar.gz")).unwrap_err().to_string();
    assert!(trgl::alloc::peak_bytes() - base < 1 << 20);
    assert!(e.contains("liar.gz") && e.contains(&format!("{MAX_GZIP_RATIO}×")), "{e}");
}

#[test]
fn idx_images_of_zero_pixels_are_an_error_not_a_panic() {
    let dir = common::tmp("idx-0x0");
    std::fs::create_dir_all(&dir).unwrap();
    let images = idx_header(&[3, 0, 0]);
    let mut labels = idx_header(&[3]);
    labels.extend([0, 1, 2]);
    for split in ["train", "t10k"] {
        std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), &images).unwrap();
        std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), &labels).unwrap();
    }
    let e = trgl::data::load_idx_dir("t", &dir, &trgl::data::dataset::DIGIT_CLASSES).unwrap_err().to_string();
    assert!(e.contains("train-images-idx3-ubyte") && e.contains("0×0"), "{e}");
}

fn splits(train: ImageSet, test: ImageSet) -> Splits {
    Splits { name: "made-up".into(), train, test }
}

#[test]
fn unusable_splits_are_refused_when_a_session_is_built() {
    let config = common::tiny_config(Mode::E2e);
    let good = trgl::data::synthetic(64, 16, 1, 8, 3, 1);
    let other_size = trgl::data::synthetic(64, 16, 1, 12, 3, 1);
    let other_channels = trgl::data::synthetic(64, 16, 3, 8, 3, 1);
    let error = |s: Splits| Session::new(&config, &s, None).err().expect("refused").to_string();
    let e = error(splits(good.train.clone(), other_size.test.clone()));
    assert!(e.contains("made-up") && e.contains("(1, 8, 8)") && e.contains("(1, 12, 12)"), "{e}");
    let e = error(splits(good.train.clone(), other_channels.test.clone()));
    assert!(e.contains("(3, 8, 8)"), "{e}");
    let mut empty = good.test.clone();
    empty.pixels.clear();
    empty.labels.clear();
    let e = error(splits(good.train.clone(), empty));
    assert!(e.contains("test set has no images"), "{e}");
    Session::new(&config, &good, None).unwrap();
}

#[test]
fn a_preprocess_file_asking_for_huge_sizes_is_refused_before_allocating() {
    let _g = serial();
    let dir = common::tmp("huge-preprocess");
    std::fs::create_dir_all(&dir).unwrap();
    for (text, what) in [
        (r#"{"channels": 1, "size": 200000, "mean": [0.5], "std": [0.2], "classes": ["a"]}"#, "size = 200000"),
        (r#"{"channels": 100000, "size": 8, "mean": [], "std": [], "classes": ["a"]}"#, "channels = 100000"),
        (r#"{"channels": 1, "size": 8, "mean": [0.5], "std": [0.0], "classes": ["a"]}"#, "standard deviation 0"),
        (r#"{"channels": 2, "size": 8, "mean": [0.5], "std": [0.2], "classes": ["a"]}"#, "1 means"),
    ] {
        std::fs::write(dir.join("preprocess.json"), text).unwrap();
        trgl::alloc::reset_peak();
        let base = trgl::alloc::live_bytes();
        let e = trgl::export::Preprocess::load(&dir).unwrap_err().to_string();
        assert!(trgl::alloc::peak_bytes() - base < 1 << 20);
        assert!(e.contains("preprocess.json") && e.contains(what), "{what}: {e}");
    }
}

#[test]
fn a_damaged_decoded_set_cache_is_decoded_again() {
    let _g = serial();
    let root = common::tmp("cache-flip");
    let data = trgl::data::synthetic(32, 8, 1, 8, 3, 2);
    let path = root.join("set.trglset");
    trgl::data::cache::store(&path, &data).unwrap();
    let back = trgl::data::cache::load(&path, "made-up").unwrap().expect("a stored set reads back");
    assert_eq!((back.train.pixels, back.test.labels), (data.train.pixels.clone(), data.test.labels.clone()));
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x01; // one pixel of the test set
    std::fs::write(&path, &bytes).unwrap();
    assert!(trgl::data::cache::load(&path, "made-up").unwrap().is_none(), "a flipped bit is noticed: the caller decodes again");
}
