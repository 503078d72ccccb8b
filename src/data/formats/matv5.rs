//! The numeric arrays of a MATLAB level-5 MAT-file (what `scipy.io.savemat` and MATLAB's `-v7` write):
//! a 128-byte header, then data elements `<type u32><bytes u32><data>` padded to 8 bytes; a variable is a
//! `miMATRIX` element (flags, dimensions, name, real part), possibly wrapped in a zlib `miCOMPRESSED` one.
//! Cell arrays, structs, sparse and complex arrays are skipped, never misread.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;

/// A numeric variable: its dimensions (column-major, MATLAB order) and its real part as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MatArray {
    pub name: String,
    pub dims: Vec<usize>,
    /// The storage type (`miUINT8`, `miDOUBLE`, …), which may be narrower than the MATLAB class.
    data_type: u32,
    data: Vec<u8>,
    big_endian: bool,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    big_endian: bool,
    path: &'a Path,
}

fn element_size(t: u32) -> Option<usize> {
    Some(match t {
        MI_INT8 | MI_UINT8 => 1,
        MI_INT16 | MI_UINT16 => 2,
        MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
        MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
        _ => return None,
    })
}

impl<'a> Cursor<'a> {
    fn u32_at(&self, at: usize) -> u32 {
        let b: [u8; 4] = self.bytes[at..at + 4].try_into().expect("4 bytes");
        if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
    }

    /// The next element: its type and data. `None` at the end.
    fn next(&mut self, context: &str) -> Result<Option<(u32, &'a [u8])>> {
        if self.pos >= self.bytes.len() {
            return Ok(None);
        }
        if self.bytes.len() - self.pos < 8 {
            return Err(Error::data(self.path, format!("truncated {context}: element tag at byte {} is incomplete", self.pos)));
        }
        let word = self.u32_at(self.pos);
        if word >> 16 != 0 {
            // Small data element: type and size share the first word, up to 4 data bytes follow.
            let (t, n) = (word & 0xffff, (word >> 16) as usize);
            if n > 4 {
                return Err(Error::data(self.path, format!("corrupt {context}: small element at byte {} claims {n} bytes", self.pos)));
            }
            let data = &self.bytes[self.pos + 4..self.pos + 4 + n];
            self.pos += 8;
            return Ok(Some((t, data)));
        }
        let n = self.u32_at(self.pos + 4) as usize;
        let start = self.pos + 8;
        let end = start.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            Error::data(self.path, format!("truncated {context}: element at byte {} claims {n} bytes, {} remain", self.pos, self.bytes.len() - start))
        })?;
        // Compressed elements are not padded; all others are padded to a multiple of 8 bytes.
        self.pos = if word == MI_COMPRESSED { end } else { (start + n.div_ceil(8) * 8).min(self.bytes.len()) };
        Ok(Some((word, &self.bytes[start..end])))
    }
}

/// Parses a MAT-file's bytes; `path` only names it in errors.
pub fn parse_mat(bytes: &[u8], path: &Path) -> Result<Vec<MatArray>> {
    if bytes.len() < 128 {
        return Err(Error::data(path, format!("{} bytes: too short for a MAT-file header (128 bytes)", bytes.len())));
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        other => return Err(Error::data(path, format!("bad MAT-file endian indicator {other:?}: expected \"IM\" or \"MI\" (a MATLAB v5/v7 file)"))),
    };
    if bytes.starts_with(b"\x89HDF") || bytes[..116].windows(10).any(|w| w == b"MATLAB 7.3") {
        return Err(Error::data(path, "MATLAB v7.3 (HDF5) files are not supported: save with -v7"));
    }
    let mut cursor = Cursor { bytes, pos: 128, big_endian, path };
    let mut arrays = Vec::new();
    while let Some((t, data)) = cursor.next("MAT-file")? {
        match t {
            MI_MATRIX => arrays.extend(parse_matrix(data, big_endian, path)?),
            MI_COMPRESSED => {
                let mut inflated = Vec::new();
                // deflate cannot expand past ~1032:1: more is a bomb, not a variable, and is not read on.
                let limit = data.len().saturating_mul(crate::data::idx::MAX_GZIP_RATIO);
                flate2::read::ZlibDecoder::new(data)
                    .take(limit as u64 + 1)
                    .read_to_end(&mut inflated)
                    .map_err(|e| Error::data(path, format!("corrupt compressed variable: {e}")))?;
                if inflated.len() > limit {
                    return Err(Error::data(path, format!("a compressed variable of {} bytes inflates past {limit} bytes: not a real MAT-file", data.len())));
                }
                let mut inner = Cursor { bytes: &inflated, pos: 0, big_endian, path };
                while let Some((t, d)) = inner.next("compressed variable")? {
                    if t == MI_MATRIX {
                        arrays.extend(parse_matrix(d, big_endian, path)?);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(arrays)
}

fn parse_matrix(bytes: &[u8], big_endian: bool, path: &Path) -> Result<Option<MatArray>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let mut c = Cursor { bytes, pos: 0, big_endian, path };
    let missing = |what: &str| Error::data(path, format!("corrupt variable: missing its {what}"));
    let (_, flags) = c.next("array flags")?.ok_or_else(|| missing("array flags"))?;
    if flags.len() < 8 {
        return Err(Error::data(path, "corrupt variable: array flags shorter than 8 bytes"));
    }
    let word = if big_endian { u32::from_be_bytes(flags[..4].try_into().unwrap()) } else { u32::from_le_bytes(flags[..4].try_into().unwrap()) };
    let (class, complex) = (word & 0xff, word & 0x800 != 0);
    let (dt, dims_bytes) = c.next("dimensions")?.ok_or_else(|| missing("dimensions"))?;
    if dt != MI_INT32 || dims_bytes.len() % 4 != 0 {
        return Err(Error::data(path, format!("corrupt variable: dimensions stored as type {dt}, expected miINT32")));
    }
    let dims: Vec<usize> = dims_bytes
        .chunks_exact(4)
        .map(|b| if big_endian { i32::from_be_bytes(b.try_into().unwrap()) } else { i32::from_le_bytes(b.try_into().unwrap()) })
        .map(|d| d.max(0) as usize)
        .collect();
    let (_, name) = c.next("name")?.ok_or_else(|| missing("name"))?;
    let name = String::from_utf8_lossy(name).into_owned();
    // Numeric classes are 6 (double) to 15 (uint64); cells, structs, objects, chars and sparse are skipped.
    if !(6..=15).contains(&class) || complex {
        return Ok(None);
    }
    let (data_type, data) = c.next("real part")?.ok_or_else(|| missing("real part"))?;
    let size = element_size(data_type).ok_or_else(|| Error::data(path, format!("variable `{name}`: unsupported storage type {data_type}")))?;
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| Error::data(path, format!("variable `{name}`: dimensions {dims:?} overflow")))?;
    if data.len() != count * size {
        return Err(Error::data(path, format!("variable `{name}`: dimensions {dims:?} need {} bytes of data, found {}", count * size, data.len())));
    }
    Ok(Some(MatArray { name, dims, data_type, data: data.to_vec(), big_endian }))
}

impl MatArray {
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f64, in storage (column-major) order.
    pub fn to_f64(&self) -> Vec<f64> {
        let size = element_size(self.data_type).expect("checked at parse time");
        self.data
            .chunks_exact(size)
            .map(|b| {
                let mut a = [0u8; 8];
                a[..size].copy_from_slice(b);
                if self.big_endian {
                    a[..size].reverse();
                }
                match self.data_type {
                    MI_INT8 => a[0] as i8 as f64,
                    MI_UINT8 => a[0] as f64,
                    MI_INT16 => i16::from_le_bytes([a[0], a[1]]) as f64,
                    MI_UINT16 => u16::from_le_bytes([a[0], a[1]]) as f64,
                    MI_INT32 => i32::from_le_bytes(a[..4].try_into().unwrap()) as f64,
                    MI_UINT32 => u32::from_le_bytes(a[..4].try_into().unwrap()) as f64,
                    MI_SINGLE => f32::from_le_bytes(a[..4].try_into().unwrap()) as f64,
                    MI_DOUBLE => f64::from_le_bytes(a),
                    MI_INT64 => i64::from_le_bytes(a) as f64,
                    _ => u64::from_le_bytes(a) as f64,
                }
            })
            .collect()
    }

    /// The values as bytes: stored as uint8, or any type whose values are all whole numbers in 0..=255.
    pub fn to_u8(&self, path: &Path) -> Result<Vec<u8>> {
        if self.data_type == MI_UINT8 {
            return Ok(self.data.clone());
        }
        self.to_f64()
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                if v.fract() == 0.0 && (0.0..=255.0).contains(&v) {
                    Ok(v as u8)
                } else {
                    Err(Error::data(path, format!("variable `{}`: value {v} at index {i} is not a byte", self.name)))
                }
            })
            .collect()
    }
}
