//! IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST), raw or gzipped: a big-endian header
//! `0x00 0x00 <type> <ndims>`, `ndims` u32 dimensions, then the data (type 0x08 = unsigned byte).

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The contents of an unsigned-byte IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads `path`, decompressing it when it starts with the gzip magic.
pub fn read_idx_file(path: &Path) -> Result<IdxArray> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_idx(&bytes, path)
}

/// Parses IDX bytes (gzipped or raw); `path` only names the source in errors.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    let raw;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| Error::data(path, format!("corrupt gzip stream: {e}")))?;
        raw = out;
        &raw[..]
    } else {
        bytes
    };
    if bytes.len() < 4 {
        return Err(Error::data(path, format!("file is {} bytes: too short for an IDX header", bytes.len())));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(Error::data(path, format!("bad IDX magic {:02x} {:02x} {:02x} {:02x}: expected 00 00 08 <ndims>", bytes[0], bytes[1], bytes[2], bytes[3])));
    }
    if bytes[2] != 0x08 {
        return Err(Error::data(path, format!("IDX element type 0x{:02x} is not supported: expected 0x08 (unsigned byte)", bytes[2])));
    }
    let ndims = bytes[3] as usize;
    if ndims == 0 {
        return Err(Error::data(path, "IDX header declares 0 dimensions"));
    }
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(Error::data(path, format!("truncated header: {ndims} dimensions need {header} bytes, file has {}", bytes.len())));
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let expected = expected.ok_or_else(|| Error::data(path, format!("dimensions {dims:?} overflow")))?;
    let body = &bytes[header..];
    if body.len() < expected {
        let per_item: usize = dims[1..].iter().product::<usize>().max(1);
        return Err(Error::data(
            path,
            format!("truncated: dimensions {dims:?} need {expected} data bytes, file has {} (record {} is incomplete)", body.len(), body.len() / per_item),
        ));
    }
    if body.len() > expected {
        return Err(Error::data(path, format!("{} trailing bytes after the {expected} data bytes of dimensions {dims:?}", body.len() - expected)));
    }
    Ok(IdxArray { dims, data: body.to_vec() })
}
