//! Every parser of a file trgl reads, fed thousands of damaged copies of each seed of its fuzz corpus
//! (fuzz/corpus/<target>: cut from the real data and real runs by tools/fuzz/make_corpus.py, the hostile
//! files included): none panics, and none allocates more than a bound. The deterministic, bounded companion
//! of the libFuzzer targets in fuzz/ (run by tools/fuzz.sh). `TRGL_MUTATIONS` sets the copies per seed.

mod common;

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[global_allocator]
static ALLOC: trgl::alloc::CountingAlloc = trgl::alloc::CountingAlloc;

/// What the fuzz script caps inputs at (tools/fuzz.sh `-max_len`), for the same reason: within gzip's
/// 1100:1, a valid 64 KiB input can declare at most 72 MB.
const MAX_LEN: usize = 64 << 10;
/// The most any one parse may allocate at its peak.
const MAX_PEAK: usize = 160 << 20;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let mut bytes = std::fs::read(&p).unwrap();
            bytes.truncate(MAX_LEN);
            (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "{}: no seeds", dir.display());
    out
}

fn scratch(target: &str) -> PathBuf {
    let d = common::tmp(&format!("mutation-{target}"));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Feeds each seed of `target`, then `TRGL_MUTATIONS` (default 2000) damaged copies of it, to `parse`.
fn mutate_all(target: &str, mut parse: impl FnMut(&[u8])) {
    let n: usize = std::env::var("TRGL_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    for (name, seed) in seeds(target) {
        let mut worst = 0;
        for i in 0..=n {
            let input = if i == 0 { seed.clone() } else { common::mutate(&mut rng, &seed) };
            trgl::alloc::reset_peak();
            let base = trgl::alloc::live_bytes();
            parse(&input);
            worst = worst.max(trgl::alloc::peak_bytes().saturating_sub(base));
        }
        assert!(worst < MAX_PEAK, "{target}/{name}: a damaged copy made the parser allocate {worst} bytes at its peak");
    }
}

#[test]
fn binary_parsers_survive_damaged_real_files() {
    use trgl::data::formats::decode::{DecodeSpec, decode_one};
    let p = Path::new("mutated");
    mutate_all("idx", |b| drop(trgl::data::idx::parse_idx(b, p)));
    mutate_all("cifar", |b| {
        let _ = trgl::data::formats::cifar::parse_records(b, p, 1, 0, 10);
        let _ = trgl::data::formats::cifar::parse_records(b, p, 2, 1, 100);
    });
    mutate_all("stl10", |b| {
        let _ = trgl::data::formats::stl10::parse_images(b, p);
        let _ = trgl::data::formats::stl10::parse_labels(b, p);
    });
    mutate_all("svhn_mat", |b| {
        let _ = trgl::data::formats::matv5::parse_mat(b, p);
        let _ = trgl::data::formats::svhn::parse_svhn(b, p);
    });
    mutate_all("image", |b| {
        let _ = decode_one(p, b, DecodeSpec { channels: 3, resize: None });
        let _ = decode_one(p, b, DecodeSpec { channels: 1, resize: Some(8) });
    });
}

#[test]
fn archives_and_caches_survive_damage() {
    let dir = scratch("archives");
    mutate_all("image_folder_tar", |b| {
        let p = dir.join(if b.starts_with(&[0x1f, 0x8b]) { "set.tar.gz" } else { "set.tar" });
        std::fs::write(&p, b).unwrap();
        let _ = trgl::data::formats::image_folder::read_image_folder(&p, 0, Some(8));
    });
    let cache = dir.join("set.trglset");
    mutate_all("decoded_cache", |b| {
        std::fs::write(&cache, b).unwrap();
        let _ = trgl::data::cache::load(&cache, "mutated");
    });
}

#[test]
fn text_files_survive_damage() {
    let dir = scratch("text");
    mutate_all("config", |b| {
        if let Ok(t) = std::str::from_utf8(b) {
            let _ = trgl::config::Config::from_toml_str(t, "mutated.toml", &[]);
        }
    });
    mutate_all("sweep", |b| {
        if let Ok(t) = std::str::from_utf8(b).map(|t| t.replace("base", "bse")) {
            let _ = trgl::sweep::spec::Sweep::from_str(&t, &dir.join("sweep.toml"));
        }
    });
    mutate_all("sweep_manifest", |b| {
        std::fs::write(dir.join("manifest.json"), b).unwrap();
        let _ = trgl::sweep::manifest::Manifest::load(&dir);
    });
    mutate_all("metrics", |b| {
        let p = dir.join("metrics.jsonl");
        std::fs::write(&p, b).unwrap();
        let _ = trgl::report::MetricsWriter::resume(&p, b.first().map_or(0, |v| (*v % 8) as usize));
    });
    mutate_all("checkpoint_state", |b| drop(serde_json::from_slice::<trgl::train::checkpoint::State>(b)));
    mutate_all("sha256sums", |b| {
        std::fs::write(dir.join("SHA256SUMS"), b).unwrap();
        let _ = trgl::integrity::read_sums(&dir);
    });
    mutate_all("preprocess", |b| {
        std::fs::write(dir.join("preprocess.json"), b).unwrap();
        let _ = trgl::export::Preprocess::load(&dir);
    });
}
