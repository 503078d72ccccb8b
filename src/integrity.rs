//! Checksums of the files a run keeps (weights, checkpoints, exports), in a `SHA256SUMS` file beside them
//! in coreutils' format, so that `sha256sum -c SHA256SUMS` checks them too. A file whose bytes no longer
//! match its line (a bit flip, a truncated copy, an edit) is refused by name before anything reads it.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub const SUMS_FILE: &str = "SHA256SUMS";

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a file's contents, read in chunks.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(hex(&h.finalize()));
        }
        h.update(&buf[..n]);
    }
}

/// The entries of `dir/SHA256SUMS` (file name → hex digest); empty when there is none.
pub fn read_sums(dir: &Path) -> Result<BTreeMap<String, String>> {
    let p = dir.join(SUMS_FILE);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(Error::io(&p, e)),
    };
    let mut sums = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let parsed = line.split_once("  ").filter(|(d, n)| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()) && !n.is_empty());
        let (digest, name) = parsed.ok_or_else(|| Error::data(&p, format!("line {}: expected `<64 hex digits>  <file name>`", i + 1)))?;
        sums.insert(name.to_string(), digest.to_ascii_lowercase());
    }
    Ok(sums)
}

/// Records the current checksums of `names` (files in `dir`) in `dir/SHA256SUMS`, keeping its other lines.
/// Written to a temporary file, synced, then renamed into place.
pub fn record(dir: &Path, names: &[&str]) -> Result<()> {
    let mut sums = read_sums(dir)?;
    for name in names {
        sums.insert(name.to_string(), sha256_file(&dir.join(name))?);
    }
    write_sums(dir, &sums)
}

fn write_sums(dir: &Path, sums: &BTreeMap<String, String>) -> Result<()> {
    let text: String = sums.iter().map(|(n, d)| format!("{d}  {n}\n")).collect();
    let (tmp, p) = (dir.join(format!("{SUMS_FILE}.tmp")), dir.join(SUMS_FILE));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut f, text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &p)
    };
    write().map_err(|e| Error::io(&p, e))
}

/// Checks `dir/name` against its line in `dir/SHA256SUMS`. A file with no line (written before checksums
/// were kept) passes when `required` is false.
pub fn verify(dir: &Path, name: &str, required: bool) -> Result<()> {
    let sums = read_sums(dir)?;
    let path = dir.join(name);
    match sums.get(name) {
        None if required => Err(Error::data(&path, format!("has no checksum in {}: it cannot be trusted", dir.join(SUMS_FILE).display()))),
        None => Ok(()),
        Some(expected) => {
            let actual = sha256_file(&path)?;
            if &actual == expected {
                Ok(())
            } else {
                Err(Error::data(
                    &path,
                    format!("checksum mismatch: SHA-256 {actual}, {} records {expected} (the file was corrupted or changed after it was written)", SUMS_FILE),
                ))
            }
        }
    }
}

/// Checks every file `dir/SHA256SUMS` lists.
pub fn verify_all(dir: &Path) -> Result<()> {
    for name in read_sums(dir)?.keys() {
        verify(dir, name, true)?;
    }
    Ok(())
}
