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

/// gzip cannot expand data by much more than 1032:1 (deflate's limit). A gzipped IDX file whose header
/// declares more data than this factor × its compressed size is refused before anything is decompressed,
/// and decompression never reads past what the header declares (+1 byte, to notice trailing data), so
/// a gzip bomb costs at most the declared size.
pub const MAX_GZIP_RATIO: usize = 1100;

/// Parses IDX bytes (gzipped or raw); `path` only names the source in errors.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let limit = bytes.len().saturating_mul(MAX_GZIP_RATIO);
        parse_stream(flate2::read::MultiGzDecoder::new(bytes), path, limit, true)
    } else {
        parse_stream(bytes, path, bytes.len(), false)
    }
}

/// Reads into `buf` until it is full or the stream ends; the count read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// `limit`: the most data bytes the source can hold (a raw file's size; a gzip stream's size × the ratio).
fn parse_stream(mut r: impl Read, path: &Path, limit: usize, gzipped: bool) -> Result<IdxArray> {
    let corrupt = |e: std::io::Error| Error::data(path, format!("corrupt gzip stream: {e}"));
    let mut head = [0u8; 4];
    let n = read_full(&mut r, &mut head).map_err(corrupt)?;
    if n < 4 {
        return Err(Error::data(path, format!("file is {n} bytes: too short for an IDX header")));
    }
    if head[0] != 0 || head[1] != 0 {
        return Err(Error::data(
            path,
            format!(
                "not an IDX file: it starts {:02x} {:02x} {:02x} {:02x}, an IDX file starts 00 00 08 <number of dimensions> (bad IDX magic)",
                head[0], head[1], head[2], head[3]
            ),
        ));
    }
    if head[2] != 0x08 {
        return Err(Error::data(path, format!("IDX element type 0x{:02x} is not supported: expected 0x08 (unsigned byte)", head[2])));
    }
    let ndims = head[3] as usize;
    if ndims == 0 {
        return Err(Error::data(path, "IDX header declares 0 dimensions"));
    }
    let mut dim_bytes = vec![0u8; 4 * ndims];
    let n = read_full(&mut r, &mut dim_bytes).map_err(corrupt)?;
    if n < dim_bytes.len() {
        return Err(Error::data(path, format!("truncated header: {ndims} dimensions need {} bytes, file has {}", 4 + 4 * ndims, 4 + n)));
    }
    let dims: Vec<usize> = dim_bytes.chunks_exact(4).map(|b| u32::from_be_bytes(b.try_into().unwrap()) as usize).collect();
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let expected = expected.ok_or_else(|| Error::data(path, format!("dimensions {dims:?} overflow")))?;
    // Saturating: with a first dimension of 0 the others may multiply past usize without `expected` overflowing.
    let per_item = dims[1..].iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(usize::MAX).max(1);
    if gzipped && expected > limit {
        return Err(Error::data(
            path,
            format!("header declares {expected} data bytes (dimensions {dims:?}), more than {MAX_GZIP_RATIO}× the {} compressed bytes can hold: not a real IDX file", limit / MAX_GZIP_RATIO),
        ));
    }
    let mut data = Vec::new();
    // Never more than the header declares (+1 to notice trailing data): a bomb cannot fill memory.
    r.by_ref().take(expected as u64 + 1).read_to_end(&mut data).map_err(corrupt)?;
    if data.len() < expected {
        return Err(Error::data(
            path,
            format!("truncated: dimensions {dims:?} need {expected} data bytes, file has {} (record {} is incomplete)", data.len(), data.len() / per_item),
        ));
    }
    if data.len() > expected {
        let more = if gzipped { "more".to_string() } else { format!("{}", limit - 4 - 4 * ndims - expected) };
        return Err(Error::data(path, format!("{more} trailing bytes after the {expected} data bytes of dimensions {dims:?}")));
    }
    Ok(IdxArray { dims, data })
}
