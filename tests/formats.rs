//! Every official format, read from fixtures written here in its exact layout; each corruption gets its own
//! error; and a bounded fuzz of the binary parsers (random mutations of valid files never panic).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use trgl::data::config::DataConfig;
use trgl::data::formats::cifar::{Cifar100Labels, load_cifar10, load_cifar100, parse_records};
use trgl::data::formats::decode::decode_one;
use trgl::data::formats::decode::DecodeSpec;
use trgl::data::formats::image_folder::{load_image_folder_splits, read_image_folder};
use trgl::data::formats::matv5::parse_mat;
use trgl::data::formats::stl10::{load_stl10, load_stl10_unlabeled, parse_images, parse_labels};
use trgl::data::formats::svhn::{load_svhn, parse_svhn};
use trgl::data::formats::tiny_imagenet::load_tiny_imagenet;
use trgl::data::idx::parse_idx;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn err_text<T: std::fmt::Debug>(r: trgl::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

/// Pixel value of image `i`, channel `c`, row `r`, column `x` in the fixtures: distinct in each coordinate.
fn px(i: usize, c: usize, r: usize, x: usize) -> u8 {
    (i * 7 + c * 50 + r * 3 + x) as u8
}

// ---------- CIFAR ----------

fn cifar_record(labels: &[u8], i: usize) -> Vec<u8> {
    let mut rec = labels.to_vec();
    for c in 0..3 {
        for r in 0..32 {
            for x in 0..32 {
                rec.push(px(i, c, r, x));
            }
        }
    }
    rec
}

#[test]
fn cifar10_binary_batches() {
    let d = common::tmp("cifar10").join("cifar-10-batches-bin");
    for b in 1..=5 {
        let bytes: Vec<u8> = (0..3).flat_map(|i| cifar_record(&[((b + i) % 10) as u8], i)).collect();
        write(&d.join(format!("data_batch_{b}.bin")), &bytes);
    }
    write(&d.join("test_batch.bin"), &cifar_record(&[9], 4));
    write(&d.join("batches.meta.txt"), b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
    // The folder the archive unpacks into, or its parent: both work.
    let s = load_cifar10(d.parent().unwrap()).unwrap();
    assert_eq!((s.train.len(), s.test.len(), s.train.channels, s.train.height), (15, 1, 3, 32));
    assert_eq!(s.train.labels[..4], [1, 2, 3, 2]);
    assert_eq!(s.test.labels, [9]);
    assert_eq!(s.train.classes[9], "truck");
    let img = s.test.image(0);
    assert_eq!(img[2 * 1024 + 5 * 32 + 7], px(4, 2, 5, 7));

    // Corruptions, each with its own error.
    let t = d.join("test_batch.bin");
    write(&t, &cifar_record(&[9], 4)[..3000]);
    assert!(err_text(load_cifar10(&d)).contains("truncated record 0"));
    write(&t, &cifar_record(&[10], 4));
    assert!(err_text(load_cifar10(&d)).contains("label 10 of record 0 is out of range 0..10"));
    std::fs::remove_file(&t).unwrap();
    let e = err_text(load_cifar10(&d));
    assert!(e.contains("test_batch.bin") && e.contains("missing"), "{e}");
}

#[test]
fn cifar100_fine_and_coarse_labels() {
    let d = common::tmp("cifar100").join("cifar-100-binary");
    write(&d.join("train.bin"), &[cifar_record(&[3, 77], 0), cifar_record(&[19, 99], 1)].concat());
    write(&d.join("test.bin"), &cifar_record(&[0, 5], 2));
    let fine = load_cifar100(&d, Cifar100Labels::Fine).unwrap();
    let coarse = load_cifar100(&d, Cifar100Labels::Coarse).unwrap();
    assert_eq!((fine.train.labels.clone(), fine.train.classes.len()), (vec![77, 99], 100));
    assert_eq!((coarse.train.labels.clone(), coarse.train.classes.len()), (vec![3, 19], 20));
    assert_eq!(fine.train.image(1)[0], px(1, 0, 0, 0));
    write(&d.join("test.bin"), &cifar_record(&[20, 5], 2));
    assert!(err_text(load_cifar100(&d, Cifar100Labels::Coarse)).contains("label 20 of record 0 is out of range 0..20"));
}

// ---------- STL-10 ----------

fn stl_images(n: usize) -> Vec<u8> {
    // Column-major planes, as the publisher writes them.
    let mut out = Vec::new();
    for i in 0..n {
        for c in 0..3 {
            for x in 0..96 {
                for r in 0..96 {
                    out.push(px(i, c, r, x));
                }
            }
        }
    }
    out
}

#[test]
fn stl10_binary_is_column_major() {
    let d = common::tmp("stl10").join("stl10_binary");
    write(&d.join("train_X.bin"), &stl_images(2));
    write(&d.join("train_y.bin"), &[1, 10]);
    write(&d.join("test_X.bin"), &stl_images(1));
    write(&d.join("test_y.bin"), &[4]);
    write(&d.join("unlabeled_X.bin"), &stl_images(3));
    let s = load_stl10(d.parent().unwrap()).unwrap();
    assert_eq!((s.train.len(), s.train.height, s.train.labels.clone(), s.test.labels.clone()), (2, 96, vec![0, 9], vec![3]));
    assert_eq!(s.train.classes[7], "monkey");
    // Row 5, column 40 of channel 1 of image 1.
    assert_eq!(s.train.image(1)[96 * 96 + 5 * 96 + 40], px(1, 1, 5, 40));
    assert_eq!(load_stl10_unlabeled(&d).unwrap().len(), 3);

    write(&d.join("train_y.bin"), &[1, 11]);
    assert!(err_text(load_stl10(&d)).contains("label 11 of record 1 is out of range 1..=10"));
    write(&d.join("train_y.bin"), &[1]);
    assert!(err_text(load_stl10(&d)).contains("1 labels for 2 images"));
    write(&d.join("train_X.bin"), &stl_images(2)[..30000]);
    assert!(err_text(load_stl10(&d)).contains("truncated image 1"));
}

// ---------- SVHN (MATLAB v5) ----------

/// A MAT-file writer for the fixtures, after the MAT-File Format reference (level 5).
mod mat {
    pub fn element(t: u32, data: &[u8]) -> Vec<u8> {
        let mut e = t.to_le_bytes().to_vec();
        e.extend((data.len() as u32).to_le_bytes());
        e.extend(data);
        while e.len() % 8 != 0 {
            e.push(0);
        }
        e
    }

    /// A numeric variable: `class` (6 double, 9 uint8), stored as `data_type` (9 miDOUBLE, 2 miUINT8).
    pub fn matrix(name: &str, class: u32, dims: &[i32], data_type: u32, data: &[u8]) -> Vec<u8> {
        let mut body = element(6, &[class.to_le_bytes(), 0u32.to_le_bytes()].concat());
        body.extend(element(5, &dims.iter().flat_map(|d| d.to_le_bytes()).collect::<Vec<u8>>()));
        body.extend(element(1, name.as_bytes()));
        body.extend(element(data_type, data));
        element(14, &body)
    }

    pub fn compressed(element: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(element).unwrap();
        let data = z.finish().unwrap();
        let mut e = 15u32.to_le_bytes().to_vec();
        e.extend((data.len() as u32).to_le_bytes());
        e.extend(data);
        e
    }

    pub fn file(vars: &[Vec<u8>]) -> Vec<u8> {
        let mut h = format!("MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Thu Nov 26 2026").into_bytes();
        h.resize(116, b' ');
        h.extend([0u8; 8]);
        h.extend(0x0100u16.to_le_bytes());
        h.extend(b"IM");
        for v in vars {
            h.extend(v);
        }
        h
    }
}

fn svhn_file(labels: &[f64], compressed: bool) -> Vec<u8> {
    let n = labels.len();
    // X is 32×32×3×N, column-major: (row, col, channel, image) at row + 32·col + 1024·channel + 3072·image.
    let mut x = vec![0u8; 3072 * n];
    for i in 0..n {
        for c in 0..3 {
            for r in 0..32 {
                for col in 0..32 {
                    x[r + 32 * col + 1024 * c + 3072 * i] = px(i, c, r, col);
                }
            }
        }
    }
    let header = mat::matrix("__ignored_text", 4, &[1, 2], 4, &[65, 0, 66, 0]); // a char array: skipped
    let xv = mat::matrix("X", 9, &[32, 32, 3, n as i32], 2, &x);
    let yv = mat::matrix("y", 6, &[n as i32, 1], 9, &labels.iter().flat_map(|l| l.to_le_bytes()).collect::<Vec<u8>>());
    if compressed { mat::file(&[mat::compressed(&header), mat::compressed(&xv), mat::compressed(&yv)]) } else { mat::file(&[header, xv, yv]) }
}

#[test]
fn svhn_mat_files_compressed_or_not() {
    let p = Path::new("train_32x32.mat");
    for compressed in [false, true] {
        let s = parse_svhn(&svhn_file(&[1.0, 10.0, 3.0], compressed), p).unwrap();
        assert_eq!((s.len(), s.channels, s.height, s.labels.clone()), (3, 3, 32, vec![1, 0, 3]));
        assert_eq!(s.image(2)[1024 * 2 + 32 * 4 + 9], px(2, 2, 4, 9));
    }
    let d = common::tmp("svhn");
    write(&d.join("train_32x32.mat"), &svhn_file(&[1.0, 2.0], true));
    write(&d.join("test_32x32.mat"), &svhn_file(&[5.0], false));
    write(&d.join("extra_32x32.mat"), &svhn_file(&[7.0, 8.0, 9.0], true));
    assert_eq!(load_svhn(&d, false).unwrap().train.len(), 2);
    let extra = load_svhn(&d, true).unwrap();
    assert_eq!((extra.train.len(), extra.test.labels.clone()), (5, vec![5]));

    assert!(err_text(parse_svhn(&svhn_file(&[11.0], false), p)).contains("label 11 of record 0 is out of range 1..=10"));
    let mut flipped = svhn_file(&[1.0], false);
    flipped[126..128].copy_from_slice(b"XX");
    assert!(err_text(parse_svhn(&flipped, p)).contains("endian indicator"));
    let full = svhn_file(&[1.0, 2.0], false);
    assert!(err_text(parse_svhn(&full[..full.len() - 100], p)).contains("truncated"));
    let wrong = mat::file(&[mat::matrix("X", 9, &[32, 32, 3, 1], 2, &[0u8; 3072]), mat::matrix("y", 6, &[2, 1], 9, &[0u8; 16])]);
    assert!(err_text(parse_svhn(&wrong, p)).contains("2 labels in `y` for 1 images"));
    let missing = mat::file(&[mat::matrix("X", 9, &[32, 32, 3, 1], 2, &[0u8; 3072])]);
    assert!(err_text(parse_svhn(&missing, p)).contains("no numeric variable `y`"));
}

// ---------- ImageFolder and TinyImageNet ----------

fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([seed, x as u8 * 10, y as u8 * 10]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |_, _| image::Rgb([seed, 128, 255 - seed]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn image_folder(root: &Path) {
    for (split, n) in [("train", 3), ("test", 2)] {
        for (k, class) in ["zebra", "ant", "cat"].iter().enumerate() {
            for i in 0..n {
                write(&root.join(split).join(class).join(format!("{i:04}.png")), &png(6, 5, (k * 40 + i) as u8));
            }
        }
    }
    write(&root.join("train").join("README.txt"), b"not an image: ignored");
}

#[test]
fn image_folder_from_a_directory_and_from_a_tar_gz() {
    let base = common::tmp("imagefolder");
    let root = base.join("set");
    image_folder(&root);
    let s = load_image_folder_splits("image-folder", &root, 0, None).unwrap();
    assert_eq!(s.train.classes, ["ant", "cat", "zebra"]);
    assert_eq!((s.train.len(), s.test.len(), s.train.channels, s.train.height, s.train.width), (9, 6, 3, 5, 6));
    assert_eq!(s.train.labels, [0, 0, 0, 1, 1, 1, 2, 2, 2]);
    // Image 4 is cat/0001.png: red = 2·40 + 1, green = 10·x, blue = 10·y, in planes.
    let img = s.train.image(4);
    assert_eq!((img[0], img[30 + 2 * 6 + 3], img[60 + 2 * 6 + 3]), (81, 30, 20));

    // The same tree as a .tar.gz under a top folder, as cifar10-images.tar.gz is laid out.
    let archive = base.join("set.tar.gz");
    let mut t = tar::Builder::new(flate2::write::GzEncoder::new(std::fs::File::create(&archive).unwrap(), flate2::Compression::fast()));
    t.append_dir_all("set-images", &root).unwrap();
    t.into_inner().unwrap().finish().unwrap();
    let a = load_image_folder_splits("image-folder", &archive, 0, None).unwrap();
    assert_eq!((a.train.pixels.clone(), a.test.labels.clone(), a.train.classes.clone()), (s.train.pixels.clone(), s.test.labels.clone(), s.train.classes.clone()));

    // Grey and resized.
    let g = read_image_folder(&root.join("test"), 1, Some(4)).unwrap();
    assert_eq!((g.channels, g.height, g.width, g.len()), (1, 4, 4, 6));

    // Errors: an empty class folder, an unreadable image, sizes that differ, no test split.
    std::fs::create_dir_all(root.join("train").join("dog")).unwrap();
    let e = err_text(load_image_folder_splits("image-folder", &root, 0, None));
    assert!(e.contains("dog") && e.contains("empty class folder"), "{e}");
    std::fs::remove_dir(root.join("train").join("dog")).unwrap();
    write(&root.join("train/ant/0001.png"), b"\x89PNG garbage");
    let e = err_text(load_image_folder_splits("image-folder", &root, 0, None));
    assert!(e.contains("ant/0001.png") && e.contains("unreadable image"), "{e}");
    write(&root.join("train/ant/0001.png"), &png(7, 7, 1));
    let e = err_text(load_image_folder_splits("image-folder", &root, 0, None));
    assert!(e.contains("ant/0001.png") && e.contains("set data.resize"), "{e}");
    assert_eq!(load_image_folder_splits("image-folder", &root, 0, Some(8)).unwrap().train.height, 8);
    std::fs::rename(root.join("test"), root.join("holdout")).unwrap();
    assert!(err_text(load_image_folder_splits("image-folder", &root, 0, None)).contains("no `test/` (or `val/`) folder"));
}

#[test]
fn tiny_imagenet_layout() {
    let d = common::tmp("tiny").join("tiny-imagenet-200");
    let wnids = ["n02", "n01"];
    write(&d.join("wnids.txt"), wnids.join("\n").as_bytes());
    write(&d.join("words.txt"), b"n01\tgoldfish, Carassius auratus\nn02\tEuropean fire salamander\nn99\tother\n");
    for (k, w) in wnids.iter().enumerate() {
        for i in 0..2 {
            write(&d.join(format!("train/{w}/images/{w}_{i}.JPEG")), &jpeg(8, 8, (k * 100 + i) as u8));
        }
        write(&d.join(format!("train/{w}/{w}_boxes.txt")), b"");
    }
    write(&d.join("val/images/val_0.JPEG"), &jpeg(8, 8, 3));
    write(&d.join("val/images/val_1.JPEG"), &jpeg(8, 8, 200));
    write(&d.join("val/val_annotations.txt"), b"val_0.JPEG\tn02\t0\t0\t8\t8\nval_1.JPEG\tn01\t1\t1\t7\t7\n");
    let s = load_tiny_imagenet(d.parent().unwrap(), None).unwrap();
    assert_eq!(s.train.classes, ["goldfish", "European fire salamander"]);
    assert_eq!((s.train.len(), s.test.labels.clone(), s.train.height), (4, vec![1, 0], 8));
    write(&d.join("val/val_annotations.txt"), b"val_0.JPEG\tn77\t0\t0\t8\t8\n");
    assert!(err_text(load_tiny_imagenet(&d, None)).contains("line 1: wnid `n77` is not in wnids.txt"));
}

// ---------- the decoded-set cache, through data::open ----------

#[test]
fn jpeg_datasets_are_decoded_once_then_read_from_the_cache() {
    let base = common::tmp("cache");
    image_folder(&base.join("set"));
    // SAFETY of set_var: this test binary's other tests do not read TRGL_CACHE_DIR.
    unsafe { std::env::set_var("TRGL_CACHE_DIR", base.join("cache")) };
    let config = DataConfig { dataset: "image-folder".into(), dir: Some(base.join("set")), ..DataConfig::default() };
    let first = trgl::data::open(&config).unwrap();
    let files: Vec<PathBuf> = std::fs::read_dir(base.join("cache")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let again = trgl::data::open(&config).unwrap();
    assert_eq!((again.train.pixels, again.test.labels, again.train.classes), (first.train.pixels, first.test.labels, first.train.classes));
    // A new image changes the key: decoded again, into a second cache file.
    write(&base.join("set/train/ant/0009.png"), &png(6, 5, 9));
    assert_eq!(trgl::data::open(&config).unwrap().train.len(), 10);
    assert_eq!(std::fs::read_dir(base.join("cache")).unwrap().count(), 2);
}

// ---------- bounded fuzz of the binary parsers ----------

#[test]
fn fuzz_binary_parsers_never_panic() {
    let iterations: usize = std::env::var("TRGL_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let p = Path::new("fuzz");
    let idx_valid = {
        let mut v = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4];
        v.extend(0..32u8);
        v
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&idx_valid).unwrap();
    let idx_gz = gz.finish().unwrap();
    let cifar_valid = [cifar_record(&[1], 0), cifar_record(&[2], 1)].concat();
    let svhn_plain = svhn_file(&[1.0, 2.0], false);
    let svhn_z = svhn_file(&[3.0], true);
    let stl = stl_images(1);
    let png_valid = png(6, 5, 1);
    let jpeg_valid = jpeg(8, 8, 1);
    for _ in 0..iterations {
        let _ = parse_idx(&common::mutate(&mut rng, &idx_valid), p);
        let _ = parse_idx(&common::mutate(&mut rng, &idx_gz), p);
        let _ = parse_records(&common::mutate(&mut rng, &cifar_valid), p, 1, 0, 10);
        let _ = parse_records(&common::mutate(&mut rng, &cifar_valid), p, 2, 1, 100);
        let _ = parse_mat(&common::mutate(&mut rng, &svhn_plain), p);
        let _ = parse_svhn(&common::mutate(&mut rng, &svhn_plain), p);
        let _ = parse_svhn(&common::mutate(&mut rng, &svhn_z), p);
        let _ = parse_images(&common::mutate(&mut rng, &stl), p);
        let _ = parse_labels(&common::mutate(&mut rng, &[1, 2, 3]), p);
        let spec = DecodeSpec { channels: 3, resize: None };
        let _ = decode_one(p, &common::mutate(&mut rng, &png_valid), spec);
        let _ = decode_one(p, &common::mutate(&mut rng, &jpeg_valid), spec);
    }
}

// ---------- IDX folders of any prefix: KMNIST, EMNIST ----------

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(data);
    v
}

#[test]
fn emnist_split_with_its_mapping_and_transposed_images() {
    let d = common::tmp("emnist");
    // Image i has value 10·row + col *as EMNIST stores it*: column-major, so after transposing back,
    // pixel (row r, col c) holds 10·c + r.
    let img: Vec<u8> = (0..2).flat_map(|_| (0..4u8).flat_map(|r| (0..3u8).map(move |c| 10 * r + c))).collect();
    write(&d.join("emnist-letters-train-images-idx3-ubyte"), &idx(&[2, 4, 3], &img));
    write(&d.join("emnist-letters-train-labels-idx1-ubyte"), &idx(&[2], &[1, 26]));
    write(&d.join("emnist-letters-t10k-images-idx3-ubyte"), &idx(&[2, 4, 3], &img));
    write(&d.join("emnist-letters-t10k-labels-idx1-ubyte"), &idx(&[2], &[3, 2]));
    let mapping: String = (1..=26).map(|i| format!("{i} {} {}\n", 64 + i, 96 + i)).collect();
    write(&d.join("emnist-letters-mapping.txt"), mapping.as_bytes());
    let config = DataConfig { dataset: "emnist".into(), dir: Some(d.clone()), ..DataConfig::default() };
    let s = trgl::data::open(&config).unwrap();
    assert_eq!((s.train.height, s.train.width), (3, 4));
    assert_eq!(s.train.classes.len(), 27);
    assert_eq!((s.train.classes[1].as_str(), s.train.classes[26].as_str()), ("A", "Z"));
    assert_eq!(s.train.image(0)[2 * 4 + 1], 12, "row 2, column 1 after transposing back");
    // The same folder as plain `idx`: numbered classes, images as stored.
    std::fs::remove_file(d.join("emnist-letters-mapping.txt")).unwrap();
    let plain = trgl::data::open(&DataConfig { dataset: "idx".into(), ..config }).unwrap();
    assert_eq!((plain.train.height, plain.train.classes[26].as_str()), (4, "26"));
    // Two sets in one folder are ambiguous.
    write(&d.join("train-images-idx3-ubyte"), &idx(&[2, 4, 3], &img));
    let e = err_text(trgl::data::open(&DataConfig { dataset: "idx".into(), dir: Some(d.clone()), ..DataConfig::default() }));
    assert!(e.contains("several IDX sets"), "{e}");
}
