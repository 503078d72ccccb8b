//! IDX reading (raw and gzipped) with a clear error for each kind of bad file; the loader's determinism
//! and augmentation.

use std::io::Write;
use std::path::{Path, PathBuf};

use trgl::data::augment::{AugmentSpec, Normalize, PaddingMode};
use trgl::data::idx::parse_idx;
use trgl::data::{Loader, LoaderSpec, load_idx_dir, synthetic};

fn idx_images(n: u32, h: u32, w: u32) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    for d in [n, h, w] {
        v.extend(d.to_be_bytes());
    }
    v.extend((0..n * h * w).map(|i| (i % 251) as u8));
    v
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend((labels.len() as u32).to_be_bytes());
    v.extend(labels);
    v
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trgl-data-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_set(d: &Path, train_images: &[u8], train_labels: &[u8], gzip: bool) {
    let files = [
        ("train-images-idx3-ubyte", train_images.to_vec()),
        ("train-labels-idx1-ubyte", train_labels.to_vec()),
        ("t10k-images-idx3-ubyte", idx_images(3, 4, 4)),
        ("t10k-labels-idx1-ubyte", idx_labels(&[0, 1, 2])),
    ];
    for (name, bytes) in files {
        if gzip {
            std::fs::write(d.join(format!("{name}.gz")), gz(&bytes)).unwrap();
        } else {
            std::fs::write(d.join(name), bytes).unwrap();
        }
    }
}

#[test]
fn reads_raw_and_gzipped_idx_alike() {
    let (a, b) = (dir("raw"), dir("gz"));
    write_set(&a, &idx_images(5, 4, 4), &idx_labels(&[0, 1, 2, 3, 9]), false);
    write_set(&b, &idx_images(5, 4, 4), &idx_labels(&[0, 1, 2, 3, 9]), true);
    let classes: Vec<&str> = (0..10).map(|_| "c").collect();
    let (x, y) = (load_idx_dir("t", &a, &classes).unwrap(), load_idx_dir("t", &b, &classes).unwrap());
    assert_eq!(x.train.len(), 5);
    assert_eq!(x.test.len(), 3);
    assert_eq!((x.train.height, x.train.width, x.train.channels), (4, 4, 1));
    assert_eq!(x.train.pixels, y.train.pixels);
    assert_eq!(x.train.labels, vec![0, 1, 2, 3, 9]);
}

#[test]
fn each_corruption_has_its_own_error() {
    let p = Path::new("f.idx");
    let good = idx_images(2, 3, 3);
    let msg = |bytes: &[u8]| parse_idx(bytes, p).unwrap_err().to_string();

    let mut flipped = good.clone();
    flipped[0] = 0x1f ^ 0xff;
    assert!(msg(&flipped).contains("bad IDX magic"), "{}", msg(&flipped));
    let mut wrong_type = good.clone();
    wrong_type[2] = 0x0D;
    assert!(msg(&wrong_type).contains("element type 0x0d"));
    assert!(msg(&good[..10]).contains("truncated header"));
    let e = msg(&good[..good.len() - 4]);
    assert!(e.contains("truncated") && e.contains("record 1"), "{e}");
    let mut long = good.clone();
    long.push(7);
    assert!(msg(&long).contains("trailing"));
    let broken_gz = &gz(&good)[..20];
    assert!(msg(broken_gz).contains("gzip"));
    assert!(msg(&good[..2]).contains("too short"));
    for e in [msg(&flipped), msg(&good[..10])] {
        assert!(e.starts_with("f.idx"), "the file is named: {e}");
    }

    // label out of range and count mismatch are checked across the pair of files
    let classes: Vec<&str> = (0..10).map(|_| "c").collect();
    let d = dir("badlabel");
    write_set(&d, &idx_images(3, 4, 4), &idx_labels(&[0, 11, 2]), true);
    let e = load_idx_dir("t", &d, &classes).unwrap_err().to_string();
    assert!(e.contains("label 11 of record 1") && e.contains("train-labels"), "{e}");
    let d = dir("mismatch");
    write_set(&d, &idx_images(4, 4, 4), &idx_labels(&[0, 1, 2]), true);
    let e = load_idx_dir("t", &d, &classes).unwrap_err().to_string();
    assert!(e.contains("3 labels for 4 images"), "{e}");
    let d = dir("missing");
    let e = load_idx_dir("t", &d, &classes).unwrap_err().to_string();
    assert!(e.contains("missing") && e.contains("train-images-idx3-ubyte"), "{e}");
}

#[test]
fn loader_is_deterministic_whatever_the_worker_count() {
    let data = synthetic(50, 10, 1, 8, 3, 1);
    let set = std::sync::Arc::new(data.train);
    let norm = Normalize { mean: vec![0.5], std: vec![0.25] };
    let spec = |workers| LoaderSpec {
        batch_size: 8,
        workers,
        prefetch: 2,
        shuffle: true,
        drop_last: true,
        augment: Some(AugmentSpec { crop_padding: 2, padding_mode: PaddingMode::Reflect, flip: true }),
    };
    let one: Vec<_> = Loader::new(set.clone(), spec(1), norm.clone(), 3).epoch(0).collect();
    let three: Vec<_> = Loader::new(set.clone(), spec(3), norm.clone(), 3).epoch(0).collect();
    assert_eq!(one.len(), 6, "50 images, batch 8, drop_last");
    assert_eq!(one, three);
    let next: Vec<_> = Loader::new(set.clone(), spec(1), norm.clone(), 3).epoch(1).collect();
    assert_ne!(one[0].labels, next[0].labels, "each epoch has its own order");
}

/// A consumer that stops after one batch of six: dropping the epoch's iterator returns within a deadline
/// (the workers, blocked on full queues, are released and joined, not left hanging), the batch it got is
/// the epoch's first, and the loader then gives a whole epoch again.
#[test]
fn an_early_stop_releases_the_workers_within_a_deadline() {
    let data = synthetic(50, 10, 1, 8, 3, 1);
    let set = std::sync::Arc::new(data.train);
    let norm = Normalize { mean: vec![0.5], std: vec![0.25] };
    // Queues of 1 on 2 workers of 3 batches each: after one batch is taken, both workers are blocked.
    let spec = LoaderSpec { batch_size: 8, workers: 2, prefetch: 1, shuffle: true, drop_last: true, augment: None };
    let loader = Loader::new(set, spec, norm, 3);
    let full: Vec<_> = loader.epoch(0).collect();
    assert_eq!(full.len(), 6);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let stopper = loader.clone();
    std::thread::spawn(move || {
        let mut it = stopper.epoch(0);
        let first = it.next().expect("a first batch");
        std::thread::sleep(std::time::Duration::from_millis(50)); // let the workers fill their queues
        drop(it);
        let _ = done_tx.send(first);
    });
    let first = done_rx.recv_timeout(std::time::Duration::from_secs(10)).expect("dropping a partly read epoch hung: workers not released within 10 s");
    assert_eq!(first, full[0], "the batch taken before the stop is the epoch's first");
    let again: Vec<_> = loader.epoch(0).collect();
    assert_eq!(again, full, "after an early stop the loader gives the whole epoch again");
}

#[test]
fn augmentation_crops_flips_and_normalises() {
    use trgl::data::augment::{augment_into, normalize_into};
    // a 1×2×3 image: rows [10 20 30] [40 50 60]
    let img = [10u8, 20, 30, 40, 50, 60];
    let norm = Normalize { mean: vec![0.0], std: vec![1.0 / 255.0] };
    let mut out = [0f32; 6];
    normalize_into(&img, 1, 2, 3, &norm, &mut out);
    assert_eq!(out.map(|v| v.round() as i32), [10, 20, 30, 40, 50, 60]);
    let flip_only = AugmentSpec { crop_padding: 0, padding_mode: PaddingMode::Zero, flip: true };
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        augment_into(&img, 1, 2, 3, &flip_only, &norm, &mut rng, &mut out);
        seen.insert(out.map(|v| v.round() as i32));
    }
    assert_eq!(seen, [[10, 20, 30, 40, 50, 60], [30, 20, 10, 60, 50, 40]].into_iter().collect());
    let crop = AugmentSpec { crop_padding: 1, padding_mode: PaddingMode::Zero, flip: false };
    let mut shifts = std::collections::HashSet::new();
    for _ in 0..200 {
        augment_into(&img, 1, 2, 3, &crop, &norm, &mut rng, &mut out);
        shifts.insert(out.map(|v| v.round() as i32));
    }
    assert_eq!(shifts.len(), 9, "3×3 offsets of a 1-pixel padded crop");
    assert!(shifts.contains(&[0, 0, 0, 0, 10, 20]), "zero padding shifts content right and down");
}

#[test]
fn the_embedded_demo_set_is_a_balanced_fashion_mnist_subset() {
    let d = trgl::data::embedded_fashion_mnist();
    assert_eq!((d.train.len(), d.test.len()), (6000, 1000));
    assert_eq!((d.train.height, d.train.width), (28, 28));
    assert_eq!(d.train.classes.len(), 10);
    for c in 0..10u16 {
        let n = d.train.labels.iter().filter(|&&l| l == c).count();
        assert!((500..=700).contains(&n), "class {c}: {n}");
    }
}
