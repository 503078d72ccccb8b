//! ImageFolder: `root/<class>/*.{jpg,jpeg,png}`, classes sorted by name (torchvision's convention), read from
//! a directory or straight from a `.tar`/`.tar.gz` archive. A dataset in this layout has `train/` and `test/`
//! (or `val/`) folders, possibly under one top folder, as `cifar10-images.tar.gz` has.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::decode::{DecodeSpec, Encoded, decode_all, is_image_name};
use crate::data::dataset::{ImageSet, Splits};
use crate::error::{Error, Result};

/// The files of a tree: each image's path components below the root, and every folder seen.
struct Tree {
    root: PathBuf,
    images: Vec<(Vec<String>, Source)>,
    folders: BTreeSet<Vec<String>>,
}

enum Source {
    File(PathBuf),
    Bytes(Vec<u8>),
}

pub fn is_archive(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    name.ends_with(".tar") || name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

fn list_dir(root: &Path) -> Result<Tree> {
    let mut tree = Tree { root: root.to_path_buf(), images: Vec::new(), folders: BTreeSet::new() };
    let mut stack = vec![Vec::<String>::new()];
    while let Some(parts) = stack.pop() {
        let dir = parts.iter().fold(root.to_path_buf(), |p, c| p.join(c));
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let mut child = parts.clone();
            child.push(name.clone());
            let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            let kind_is_dir = kind.is_dir() || (kind.is_symlink() && entry.path().is_dir());
            if kind_is_dir {
                tree.folders.insert(child.clone());
                stack.push(child);
            } else if is_image_name(&name) {
                tree.images.push((child, Source::File(entry.path())));
            }
        }
    }
    Ok(tree)
}

/// The largest archive member read as an image (a 16k × 16k RGB PNG stored raw is 768 MiB; datasets' images
/// are kilobytes).
const MAX_MEMBER_BYTES: u64 = 256 << 20;

fn list_archive(path: &Path) -> Result<Tree> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let name = path.to_string_lossy().to_ascii_lowercase();
    let reader: Box<dyn Read> =
        if name.ends_with(".tar") { Box::new(std::io::BufReader::new(file)) } else { Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file))) };
    let mut archive = tar::Archive::new(reader);
    let mut tree = Tree { root: path.to_path_buf(), images: Vec::new(), folders: BTreeSet::new() };
    let bad = |e: std::io::Error| Error::data(path, format!("corrupt archive: {e}"));
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let member = entry.path().map_err(bad)?.into_owned();
        let parts: Vec<String> = member
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        if parts.is_empty() {
            continue;
        }
        for i in 1..parts.len() {
            tree.folders.insert(parts[..i].to_vec());
        }
        if entry.header().entry_type().is_dir() {
            tree.folders.insert(parts);
        } else if entry.header().entry_type().is_file() && is_image_name(parts.last().unwrap()) {
            // The size is the archive's word: checked before it sizes anything, and read no further.
            let size = entry.size();
            if size > MAX_MEMBER_BYTES {
                return Err(Error::data(path.join(&member), format!("an image of {size} bytes: larger than any image trgl reads ({MAX_MEMBER_BYTES} bytes)")));
            }
            let mut bytes = Vec::with_capacity(size.min(1 << 20) as usize);
            (&mut entry).take(size).read_to_end(&mut bytes).map_err(|e| Error::data(path.join(&member), format!("truncated archive member: {e}")))?;
            if (bytes.len() as u64) < size {
                return Err(Error::data(path.join(&member), format!("truncated archive member: {} of its {size} bytes", bytes.len())));
            }
            tree.images.push((parts, Source::Bytes(bytes)));
        }
    }
    Ok(tree)
}

fn list(root: &Path) -> Result<Tree> {
    if !root.exists() {
        return Err(Error::data(root, "not found: expected an ImageFolder directory or a .tar/.tar.gz archive of one"));
    }
    if root.is_dir() { list_dir(root) } else if is_archive(root) { list_archive(root) } else {
        Err(Error::data(root, "not a directory nor a .tar/.tar.gz archive"))
    }
}

/// Channel count for `channels == 0` (automatic): grey when the first image is grey, RGB otherwise.
fn resolve_channels(channels: usize, first: Option<&Encoded>) -> usize {
    match (channels, first) {
        (0, Some(e)) => match image::load_from_memory(&e.bytes).map(|i| i.color().channel_count()) {
            Ok(1 | 2) => 1,
            _ => 3,
        },
        (0, None) => 3,
        (c, _) => c,
    }
}

/// Builds the set of the class folders directly under `prefix`.
fn set_under(tree: &Tree, prefix: &[String], channels: usize, resize: Option<usize>) -> Result<ImageSet> {
    let at = |parts: &[String]| parts.iter().fold(tree.root.clone(), |p, c| p.join(c));
    let classes: Vec<String> =
        tree.folders.iter().filter(|f| f.len() == prefix.len() + 1 && f.starts_with(prefix)).map(|f| f[prefix.len()].clone()).collect();
    if classes.is_empty() {
        return Err(Error::data(at(prefix), "no class folders: expected <class>/*.jpg|jpeg|png"));
    }
    let mut by_class: BTreeMap<&str, Vec<(&str, &Source, PathBuf)>> = classes.iter().map(|c| (c.as_str(), Vec::new())).collect();
    for (parts, source) in &tree.images {
        if parts.len() == prefix.len() + 2 && parts.starts_with(prefix) {
            by_class.get_mut(parts[prefix.len()].as_str()).expect("folder listed").push((&parts[prefix.len() + 1], source, at(parts)));
        }
    }
    let mut order = Vec::new();
    for (label, (class, files)) in by_class.iter_mut().enumerate() {
        if files.is_empty() {
            return Err(Error::data(at(&[prefix, &[class.to_string()]].concat()), "empty class folder: no .jpg, .jpeg or .png file"));
        }
        files.sort_by(|a, b| a.0.cmp(b.0));
        order.extend(files.iter().map(|(_, s, p)| (label as u16, *s, p.clone())));
    }
    let encoded: Vec<Encoded> = order
        .par_iter()
        .map(|(_, s, p)| match s {
            Source::Bytes(b) => Ok(Encoded { source: p.clone(), bytes: b.clone() }),
            Source::File(f) => std::fs::read(f).map(|bytes| Encoded { source: f.clone(), bytes }).map_err(|e| Error::io(f, e)),
        })
        .collect::<Result<_>>()?;
    let channels = resolve_channels(channels, encoded.first());
    let (height, width, pixels) = decode_all(&encoded, DecodeSpec { channels, resize })?;
    Ok(ImageSet { pixels, labels: order.iter().map(|o| o.0).collect(), channels, height, width, classes })
}

/// One ImageFolder: `root/<class>/*.{jpg,jpeg,png}` (root a directory or an archive).
pub fn read_image_folder(root: &Path, channels: usize, resize: Option<usize>) -> Result<ImageSet> {
    set_under(&list(root)?, &[], channels, resize)
}

/// A dataset in ImageFolder layout: `train/` and `test/` (or `val/`) under `root` or under one folder in it.
pub fn load_image_folder_splits(name: &str, root: &Path, channels: usize, resize: Option<usize>) -> Result<Splits> {
    let tree = list(root)?;
    let split_prefix = |split: &str| -> Option<Vec<String>> {
        let direct = vec![split.to_string()];
        if tree.folders.contains(&direct) {
            return Some(direct);
        }
        tree.folders.iter().find(|f| f.len() == 2 && f[1] == split).cloned()
    };
    let train = split_prefix("train")
        .ok_or_else(|| Error::data(root, "no `train/` folder: expected train/<class>/*.jpg and test/<class>/*.jpg (or val/)"))?;
    let test = split_prefix("test")
        .or_else(|| split_prefix("val"))
        .ok_or_else(|| Error::data(root, "no `test/` (or `val/`) folder: expected train/<class>/*.jpg and test/<class>/*.jpg"))?;
    let train = set_under(&tree, &train, channels, resize)?;
    // The test set takes the train set's channel count, so the two always agree.
    let test_set = set_under(&tree, &test, train.channels, resize)?;
    if test_set.classes != train.classes {
        return Err(Error::data(
            test.iter().fold(root.to_path_buf(), |p, c| p.join(c)),
            format!("test classes {:?} differ from train classes {:?}", test_set.classes, train.classes),
        ));
    }
    if (test_set.height, test_set.width) != (train.height, train.width) {
        return Err(Error::data(root, format!("test images are {}×{}, train images {}×{}: set data.resize", test_set.width, test_set.height, train.width, train.height)));
    }
    Ok(Splits { name: name.to_string(), train, test: test_set })
}
