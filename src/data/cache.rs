//! Decoded sets kept on disk, so that JPEG/PNG datasets are decoded once, not at every run.
//!
//! The key hashes the source's path, the decoding options and the modification times and sizes of the
//! source (an archive) or of every folder under it (adding, removing or renaming an image changes its
//! folder's time). Editing an image in place keeps its folder's time: delete the cache (or set
//! `data.cache = false`) after doing that.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::dataset::{ImageSet, Splits};
use crate::error::{Error, Result};

/// Then the SHA-256 of everything after it: a flipped bit or a torn write is noticed, and the set
/// decoded again.
const MAGIC: &[u8; 8] = b"TRGLSET2";

/// `$TRGL_CACHE_DIR`, else the platform's cache folder + `trgl/decoded`.
pub fn cache_root() -> PathBuf {
    if let Some(d) = std::env::var_os("TRGL_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("trgl").join("decoded")
}

fn stamp(path: &Path, hasher: &mut Sha256) {
    if let Ok(m) = std::fs::metadata(path) {
        let t = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
        hasher.update(format!("{}|{}|{}\n", path.display(), m.len(), t));
    }
}

/// The cache file for reading `source` as dataset `name` with these options.
pub fn cache_path(name: &str, source: &Path, options: &str) -> PathBuf {
    let source = source.canonicalize().unwrap_or_else(|_| source.to_path_buf());
    let mut h = Sha256::new();
    h.update(format!("{name}|{}|{options}\n", source.display()));
    stamp(&source, &mut h);
    if source.is_dir() {
        let mut stack = vec![source.clone()];
        let mut dirs = Vec::new();
        while let Some(d) = stack.pop() {
            if let Ok(entries) = std::fs::read_dir(&d) {
                for e in entries.flatten() {
                    if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                        stack.push(e.path());
                    }
                }
            }
            dirs.push(d);
        }
        dirs.sort();
        for d in &dirs {
            stamp(d, &mut h);
        }
    }
    let digest = h.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    cache_root().join(format!("{name}-{hex}.trglset"))
}

fn write_set(out: &mut Vec<u8>, set: &ImageSet) {
    let header = serde_json::json!({
        "n": set.len(), "channels": set.channels, "height": set.height, "width": set.width, "classes": set.classes,
    })
    .to_string();
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header.as_bytes());
    for l in &set.labels {
        out.extend(l.to_le_bytes());
    }
    out.extend(&set.pixels);
}

/// Writes `splits` atomically (temporary file, then rename).
pub fn store(path: &Path, splits: &Splits) -> Result<()> {
    let dir = path.parent().expect("cache files live in a folder");
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut body = Vec::new();
    write_set(&mut body, &splits.train);
    write_set(&mut body, &splits.test);
    let mut bytes = MAGIC.to_vec();
    bytes.extend(Sha256::digest(&body));
    bytes.extend(body);
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(&bytes).and_then(|_| f.sync_all()).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

fn read_set(bytes: &[u8], pos: &mut usize, path: &Path) -> Result<ImageSet> {
    let corrupt = || Error::data(path, "corrupt cache file: delete it to decode the dataset again");
    let mut take = |n: usize| -> Result<&[u8]> {
        let s = bytes.get(*pos..pos.checked_add(n).ok_or_else(corrupt)?).ok_or_else(corrupt)?;
        *pos += n;
        Ok(s)
    };
    let len = u64::from_le_bytes(take(8)?.try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(take(len)?).map_err(|_| corrupt())?;
    let get = |k: &str| header[k].as_u64().map(|v| v as usize).ok_or_else(corrupt);
    let (n, channels, height, width) = (get("n")?, get("channels")?, get("height")?, get("width")?);
    let classes: Vec<String> = serde_json::from_value(header["classes"].clone()).map_err(|_| corrupt())?;
    let labels = take(n.checked_mul(2).ok_or_else(corrupt)?)?.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
    let size = [n, channels, height, width].iter().try_fold(1usize, |a, &b| a.checked_mul(b)).ok_or_else(corrupt)?;
    let pixels = take(size)?.to_vec();
    Ok(ImageSet { pixels, labels, channels, height, width, classes })
}

/// Reads a cache file written by [`store`]; `None` when there is none, or when it is damaged or of an
/// older format (then the caller decodes the set again and replaces it).
pub fn load(path: &Path, name: &str) -> Result<Option<Splits>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if !bytes.starts_with(MAGIC) {
        eprintln!("warning: {}: not a cache file of this trgl version: decoding the set again", path.display());
        return Ok(None);
    }
    let (digest, body) = bytes[MAGIC.len()..].split_at(32.min(bytes.len() - MAGIC.len()));
    if Sha256::digest(body)[..] != *digest {
        eprintln!("warning: {}: checksum mismatch (corrupted): decoding the set again", path.display());
        return Ok(None);
    }
    let mut pos = MAGIC.len() + 32;
    let train = read_set(&bytes, &mut pos, path)?;
    let test = read_set(&bytes, &mut pos, path)?;
    Ok(Some(Splits { name: name.to_string(), train, test }))
}
