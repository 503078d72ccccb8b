//! Every dataset trgl knows by name: where its official files come from, their published checksums, and
//! how its folder is read.

use std::path::{Path, PathBuf};

use super::dataset::{DIGIT_CLASSES, FASHION_MNIST_CLASSES, Splits, load_idx_dir};
use super::formats::cifar::{Cifar100Labels, load_cifar10, load_cifar100};
use super::formats::image_folder::load_image_folder_splits;
use super::formats::stl10::load_stl10;
use super::formats::svhn::load_svhn;
use super::formats::tiny_imagenet::load_tiny_imagenet;
use crate::error::{Error, Result};

/// The name of the dataset compiled into the binary.
pub const EMBEDDED: &str = "fashion-mnist-demo";

/// An archive that `fetch` unpacks into the dataset folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unpack {
    None,
    TarGz,
    Zip,
}

/// One file as its publisher distributes it.
#[derive(Clone, Copy, Debug)]
pub struct RemoteFile {
    pub url: &'static str,
    /// Name it is saved under in the dataset folder.
    pub file: &'static str,
    /// md5 of the downloaded file, as published.
    pub md5: &'static str,
    pub unpack: Unpack,
}

/// What `data check` verifies in a dataset folder.
#[derive(Clone, Copy, Debug)]
pub struct FileCheck {
    /// Path relative to the dataset folder; a `.gz` may also be present raw (without `.gz`).
    pub path: &'static str,
    /// md5 of the content (decompressed, for `.gz` files).
    pub md5: &'static str,
}

/// How a dataset's folder becomes splits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    Idx(&'static [&'static str]),
    /// Any IDX set; `transpose` for EMNIST's column-major images.
    IdxAny { transpose: bool },
    Cifar10,
    Cifar100(Cifar100Labels),
    Stl10,
    Svhn { extra: bool },
    TinyImageNet,
    ImageFolder,
}

#[derive(Clone, Copy, Debug)]
pub struct DatasetInfo {
    pub name: &'static str,
    pub about: &'static str,
    pub remote: &'static [RemoteFile],
    pub checks: &'static [FileCheck],
    pub reader: Reader,
    /// Decoding is slow enough (JPEG/PNG) that the decoded set is cached on disk.
    pub cache_decoded: bool,
    /// The side of its images, where the format fixes it.
    pub image_size: Option<usize>,
}

/// A file at `$base$file` (both literals), not unpacked.
macro_rules! remote {
    ($base:literal, $file:literal, $md5:literal) => {
        RemoteFile { url: concat!($base, $file), file: $file, md5: $md5, unpack: Unpack::None }
    };
}

pub const CATALOG: &[DatasetInfo] = &[
    DatasetInfo {
        name: "mnist",
        image_size: Some(28),
        about: "MNIST, 60 000 / 10 000 grey 28×28 digits (IDX)",
        remote: &[
            remote!("https://ossci-datasets.s3.amazonaws.com/mnist/", "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            remote!("https://ossci-datasets.s3.amazonaws.com/mnist/", "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
            remote!("https://ossci-datasets.s3.amazonaws.com/mnist/", "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
            remote!("https://ossci-datasets.s3.amazonaws.com/mnist/", "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
        ],
        checks: &[
            FileCheck { path: "train-images-idx3-ubyte.gz", md5: "6bbc9ace898e44ae57da46a324031adb" },
            FileCheck { path: "train-labels-idx1-ubyte.gz", md5: "a25bea736e30d166cdddb491f175f624" },
            FileCheck { path: "t10k-images-idx3-ubyte.gz", md5: "2646ac647ad5339dbf082846283269ea" },
            FileCheck { path: "t10k-labels-idx1-ubyte.gz", md5: "27ae3e4e09519cfbb04c329615203637" },
        ],
        reader: Reader::Idx(&DIGIT_CLASSES),
        cache_decoded: false,
    },
    DatasetInfo {
        name: "fashion-mnist",
        image_size: Some(28),
        about: "Fashion-MNIST, 60 000 / 10 000 grey 28×28 clothes (IDX)",
        remote: &[
            remote!("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            remote!("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
            remote!("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
            remote!("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
        ],
        checks: &[
            FileCheck { path: "train-images-idx3-ubyte.gz", md5: "f4a8712d7a061bf5bd6d2ca38dc4d50a" },
            FileCheck { path: "train-labels-idx1-ubyte.gz", md5: "9018921c3c673c538a1fc5bad174d6f9" },
            FileCheck { path: "t10k-images-idx3-ubyte.gz", md5: "8181f5470baa50b63fa0f6fddb340f0a" },
            FileCheck { path: "t10k-labels-idx1-ubyte.gz", md5: "15d484375f8d13e6eb1aabb0c3f46965" },
        ],
        reader: Reader::Idx(&FASHION_MNIST_CLASSES),
        cache_decoded: false,
    },
    DatasetInfo {
        name: "idx",
        image_size: None,
        about: "any MNIST-like IDX folder (KMNIST, …): the four *train-/*t10k- files; classes from the labels",
        remote: &[],
        checks: &[],
        reader: Reader::IdxAny { transpose: false },
        cache_decoded: false,
    },
    DatasetInfo {
        name: "emnist",
        image_size: Some(28),
        about: "an EMNIST split's folder (emnist-<split>-*-idx?-ubyte[.gz], mapping.txt): images transposed back",
        remote: &[],
        checks: &[],
        reader: Reader::IdxAny { transpose: true },
        cache_decoded: false,
    },
    DatasetInfo {
        name: "cifar10",
        image_size: Some(32),
        about: "CIFAR-10, 50 000 / 10 000 RGB 32×32, 10 classes (binary version)",
        remote: &[RemoteFile {
            url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
            file: "cifar-10-binary.tar.gz",
            md5: "c32a1d4ab5d03f1284b67883e8d87530",
            unpack: Unpack::TarGz,
        }],
        checks: &[],
        reader: Reader::Cifar10,
        cache_decoded: false,
    },
    DatasetInfo {
        name: "cifar100",
        image_size: Some(32),
        about: "CIFAR-100, 50 000 / 10 000 RGB 32×32, 100 fine classes (binary version)",
        remote: &[CIFAR100_ARCHIVE],
        checks: &[],
        reader: Reader::Cifar100(Cifar100Labels::Fine),
        cache_decoded: false,
    },
    DatasetInfo {
        name: "cifar100-coarse",
        image_size: Some(32),
        about: "CIFAR-100 with its 20 coarse superclasses",
        remote: &[CIFAR100_ARCHIVE],
        checks: &[],
        reader: Reader::Cifar100(Cifar100Labels::Coarse),
        cache_decoded: false,
    },
    DatasetInfo {
        name: "stl10",
        image_size: Some(96),
        about: "STL-10, 5 000 / 8 000 labelled RGB 96×96, 10 classes (binary version; unlabeled_X.bin readable too)",
        remote: &[RemoteFile {
            url: "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
            file: "stl10_binary.tar.gz",
            md5: "91f7769df0f17e558f3565bffb0c7dfb",
            unpack: Unpack::TarGz,
        }],
        checks: &[
            FileCheck { path: "stl10_binary/train_X.bin", md5: "918c2871b30a85fa023e0c44e0bee87f" },
            FileCheck { path: "stl10_binary/train_y.bin", md5: "5a34089d4802c674881badbb80307741" },
            FileCheck { path: "stl10_binary/test_X.bin", md5: "7f263ba9f9e0b06b93213547f721ac82" },
            FileCheck { path: "stl10_binary/test_y.bin", md5: "36f9794fa4beb8a2c72628de14fa638e" },
        ],
        reader: Reader::Stl10,
        cache_decoded: false,
    },
    DatasetInfo {
        name: "svhn",
        image_size: Some(32),
        about: "SVHN cropped digits, 73 257 / 26 032 RGB 32×32 (MATLAB .mat)",
        remote: &[SVHN_TRAIN, SVHN_TEST],
        checks: &[],
        reader: Reader::Svhn { extra: false },
        cache_decoded: false,
    },
    DatasetInfo {
        name: "svhn-extra",
        image_size: Some(32),
        about: "SVHN with the 531 131 extra images added to the training set",
        remote: &[SVHN_TRAIN, SVHN_TEST, SVHN_EXTRA],
        checks: &[],
        reader: Reader::Svhn { extra: true },
        cache_decoded: false,
    },
    DatasetInfo {
        name: "tiny-imagenet",
        image_size: Some(64),
        about: "TinyImageNet, 100 000 train / 10 000 val RGB 64×64, 200 classes (JPEG)",
        remote: &[RemoteFile {
            url: "http://cs231n.stanford.edu/tiny-imagenet-200.zip",
            file: "tiny-imagenet-200.zip",
            md5: "90528d7ca1a48142e341f4ef8d21d0de",
            unpack: Unpack::Zip,
        }],
        checks: &[],
        reader: Reader::TinyImageNet,
        cache_decoded: true,
    },
    DatasetInfo {
        name: "image-folder",
        image_size: None,
        about: "ImageFolder layout: train/<class>/*.jpg|png and test/<class>/ (or val/), a folder or a .tar/.tar.gz",
        remote: &[],
        checks: &[],
        reader: Reader::ImageFolder,
        cache_decoded: true,
    },
];

const CIFAR100_ARCHIVE: RemoteFile = RemoteFile {
    url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
    file: "cifar-100-binary.tar.gz",
    md5: "03b5dce01913d631647c71ecec9e9cb8",
    unpack: Unpack::TarGz,
};
const SVHN_TRAIN: RemoteFile = RemoteFile {
    url: "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
    file: "train_32x32.mat",
    md5: "e26dedcc434d2e4c54c9b2d4a06d8373",
    unpack: Unpack::None,
};
const SVHN_TEST: RemoteFile = RemoteFile {
    url: "http://ufldl.stanford.edu/housenumbers/test_32x32.mat",
    file: "test_32x32.mat",
    md5: "eb5a983be6a315427106f1b8d8a22ed8",
    unpack: Unpack::None,
};
const SVHN_EXTRA: RemoteFile = RemoteFile {
    url: "http://ufldl.stanford.edu/housenumbers/extra_32x32.mat",
    file: "extra_32x32.mat",
    md5: "a93ce644f1a588dc4d68dda5feec44a7",
    unpack: Unpack::None,
};

pub fn find(name: &str) -> Result<&'static DatasetInfo> {
    if name == EMBEDDED {
        return Err(Error::config(
            "data.dataset",
            format!("`{name}` is compiled into trgl: it has no files to fetch or check (`trgl data fetch fashion-mnist` downloads the full set)"),
        ));
    }
    CATALOG.iter().find(|d| d.name == name).ok_or_else(|| {
        let names: Vec<&str> = CATALOG.iter().map(|d| d.name).collect();
        Error::config("data.dataset", format!("unknown dataset `{name}`; expected fashion-mnist-demo or one of {}", names.join(", ")))
    })
}

/// Where datasets live when no folder is given: `$TRGL_DATA_DIR`, else the platform's cache folder
/// (`~/.cache/trgl/data` on Linux, `~/Library/Caches/trgl/data` on macOS, `%LOCALAPPDATA%\trgl\data`).
pub fn data_root() -> PathBuf {
    if let Some(d) = std::env::var_os("TRGL_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("trgl").join("data")
}

/// The folder of a dataset: the given one, or `data_root()/<name>`.
pub fn dataset_dir(info: &DatasetInfo, dir: Option<&Path>) -> PathBuf {
    dir.map(Path::to_path_buf).unwrap_or_else(|| data_root().join(info.name))
}

/// Reads a dataset folder (or ImageFolder archive) with the dataset's reader.
pub fn read(info: &DatasetInfo, dir: &Path, channels: usize, resize: Option<usize>) -> Result<Splits> {
    if !dir.exists() {
        let hint = if info.remote.is_empty() { String::new() } else { format!("; `trgl data fetch {}` downloads it", info.name) };
        return Err(Error::data(dir, format!("dataset folder not found{hint}")));
    }
    match info.reader {
        Reader::Idx(classes) => load_idx_dir(info.name, dir, classes),
        Reader::IdxAny { transpose } => super::dataset::load_idx_any(info.name, dir, transpose),
        Reader::Cifar10 => load_cifar10(dir),
        Reader::Cifar100(labels) => load_cifar100(dir, labels),
        Reader::Stl10 => load_stl10(dir),
        Reader::Svhn { extra } => load_svhn(dir, extra),
        Reader::TinyImageNet => load_tiny_imagenet(dir, resize),
        Reader::ImageFolder => load_image_folder_splits(info.name, dir, channels, resize),
    }
}
