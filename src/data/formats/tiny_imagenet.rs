//! TinyImageNet (`tiny-imagenet-200/`): `wnids.txt` (200 WordNet ids), `words.txt` (id → names),
//! `train/<wnid>/images/*.JPEG` (500 each) and `val/images/*.JPEG` labelled by `val/val_annotations.txt`.
//! The standard split is train / val (the test images have no labels). Classes are the sorted wnids, as an
//! ImageFolder over `train/` would number them.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::decode::{DecodeSpec, Encoded, decode_all, is_image_name};
use crate::data::dataset::{ImageSet, Splits};
use crate::error::{Error, Result};

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

fn read_images(files: &[(u16, PathBuf)], resize: Option<usize>, classes: &[String]) -> Result<ImageSet> {
    let encoded: Vec<Encoded> = files
        .par_iter()
        .map(|(_, p)| std::fs::read(p).map(|bytes| Encoded { source: p.clone(), bytes }).map_err(|e| Error::io(p, e)))
        .collect::<Result<_>>()?;
    let (height, width, pixels) = decode_all(&encoded, DecodeSpec { channels: 3, resize })?;
    Ok(ImageSet { pixels, labels: files.iter().map(|f| f.0).collect(), channels: 3, height, width, classes: classes.to_vec() })
}

pub fn load_tiny_imagenet(dir: &Path, resize: Option<usize>) -> Result<Splits> {
    let nested = dir.join("tiny-imagenet-200");
    let dir = if !dir.join("wnids.txt").exists() && nested.join("wnids.txt").exists() { nested } else { dir.to_path_buf() };
    let wnids_path = dir.join("wnids.txt");
    let mut wnids: Vec<String> = read_text(&wnids_path)?.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    wnids.sort();
    wnids.dedup();
    if wnids.is_empty() {
        return Err(Error::data(&wnids_path, "no WordNet ids"));
    }
    let index = |wnid: &str| wnids.binary_search_by(|w| w.as_str().cmp(wnid)).ok().map(|i| i as u16);
    // Readable names from words.txt when present (first synonym), the wnid otherwise.
    let words = read_text(&dir.join("words.txt")).unwrap_or_default();
    let mut classes = wnids.clone();
    for line in words.lines() {
        if let Some((id, names)) = line.split_once('\t') {
            if let Some(i) = index(id) {
                classes[i as usize] = names.split(',').next().unwrap_or(id).trim().to_string();
            }
        }
    }
    let mut train = Vec::new();
    for (label, wnid) in wnids.iter().enumerate() {
        let folder = dir.join("train").join(wnid).join("images");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map_err(|e| Error::io(&folder, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_image_name(&p.to_string_lossy()))
            .collect();
        if files.is_empty() {
            return Err(Error::data(&folder, "empty class folder: no .JPEG file"));
        }
        files.sort();
        train.extend(files.into_iter().map(|p| (label as u16, p)));
    }
    let ann_path = dir.join("val").join("val_annotations.txt");
    let mut val = Vec::new();
    for (i, line) in read_text(&ann_path)?.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let mut fields = line.split('\t');
        let (Some(file), Some(wnid)) = (fields.next(), fields.next()) else {
            return Err(Error::data(&ann_path, format!("line {}: expected <file>\\t<wnid>\\t…", i + 1)));
        };
        let label = index(wnid).ok_or_else(|| Error::data(&ann_path, format!("line {}: wnid `{wnid}` is not in wnids.txt", i + 1)))?;
        val.push((label, dir.join("val").join("images").join(file)));
    }
    val.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(Splits { name: "tiny-imagenet".into(), train: read_images(&train, resize, &classes)?, test: read_images(&val, resize, &classes)? })
}
