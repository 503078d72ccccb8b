//! `trgl data fetch` and `trgl data check`: downloads from the publisher's URL with resume and checksum
//! verification, and verifies a folder against the published checksums.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use super::catalog::{DatasetInfo, RemoteFile, Unpack};
use crate::error::{Error, Result};

/// md5 of a file's bytes, or of its decompressed content when `decompress` and it is gzipped.
pub fn md5_of(path: &Path, decompress: bool) -> Result<String> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buffered = std::io::BufReader::new(file);
    let gzipped = decompress && buffered.fill_buf().map_err(|e| Error::io(path, e))?.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn Read> = if gzipped { Box::new(flate2::read::MultiGzDecoder::new(buffered)) } else { Box::new(buffered) };
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).map_err(|e| Error::data(path, format!("unreadable: {e}")))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// What a user without network must do: every file, its URL and checksum, and where to put it.
pub fn manual_instructions(info: &DatasetInfo, dir: &Path) -> String {
    let mut s = format!("download these files into {} yourself, then run `trgl data check {} --dir {}`:\n", dir.display(), info.name, dir.display());
    for f in info.remote {
        s += &format!("  {}  (md5 {}){}\n", f.url, f.md5, if f.unpack == Unpack::None { "" } else { ", then unpack it there" });
    }
    s
}

/// Downloads `file.url` to `dest` through `dest.part`, continuing a partial `.part` left by an interrupted
/// download (HTTP range request), and renames it into place only once its md5 is the published one.
pub fn download(file: &RemoteFile, dest: &Path) -> std::result::Result<(), String> {
    let part = dest.with_extension(format!("{}.part", dest.extension().and_then(|e| e.to_str()).unwrap_or("")));
    let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let mut request = ureq::get(file.url);
    if have > 0 {
        request = request.set("Range", &format!("bytes={have}-"));
    }
    let response = request.call().map_err(|e| format!("could not download {}: {e}", file.url))?;
    // 206 continues the partial file; 200 means the server ignored the range and sends it all.
    let append = have > 0 && response.status() == 206;
    let mut out = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&part)
        .map_err(|e| format!("{}: {e}", part.display()))?;
    let start = if append { have } else { 0 };
    let total = response.header("Content-Length").and_then(|v| v.parse::<u64>().ok()).map(|n| n + start);
    let bar = indicatif::ProgressBar::new(total.unwrap_or(0));
    bar.set_position(start);
    let mut reader = response.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut at = start;
    let interrupted = |at: u64, why: String| format!("download of {} interrupted at byte {at} (run fetch again to resume): {why}", file.url);
    loop {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                let _ = out.sync_all();
                return Err(interrupted(at, e.to_string()));
            }
        };
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(|e| format!("{}: {e}", part.display()))?;
        at += n as u64;
        bar.inc(n as u64);
    }
    out.sync_all().map_err(|e| format!("{}: {e}", part.display()))?;
    bar.finish_and_clear();
    if let Some(total) = total.filter(|&t| at < t) {
        return Err(interrupted(at, format!("the server closed the connection {} bytes early", total - at)));
    }
    let md5 = md5_of(&part, false).map_err(|e| e.to_string())?;
    if md5 != file.md5 {
        let _ = std::fs::remove_file(&part);
        return Err(format!("{}: md5 {md5}, expected {} (the partial file was removed; run fetch again)", file.url, file.md5));
    }
    std::fs::rename(&part, dest).map_err(|e| format!("{}: {e}", dest.display()))
}

fn unpack(file: &RemoteFile, archive: &Path, dir: &Path) -> Result<()> {
    let open = || File::open(archive).map_err(|e| Error::io(archive, e));
    let bad = |e: &dyn std::fmt::Display| Error::data(archive, format!("cannot unpack: {e}"));
    match file.unpack {
        Unpack::None => Ok(()),
        Unpack::TarGz => tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(open()?))).unpack(dir).map_err(|e| bad(&e)),
        Unpack::Zip => zip::ZipArchive::new(open()?).and_then(|mut z| z.extract(dir)).map_err(|e| bad(&e)),
    }
}

/// Downloads (resuming partial files) and unpacks every file of `info` into `dir`; files already present
/// with the right checksum are kept.
pub fn fetch(info: &DatasetInfo, dir: &Path) -> Result<Vec<PathBuf>> {
    if info.remote.is_empty() {
        return Err(Error::config("dataset", format!("`{}` has no official download: point data.dir at your files", info.name)));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut done = Vec::new();
    for file in info.remote {
        let dest = dir.join(file.file);
        let good = dest.exists() && md5_of(&dest, false)? == file.md5;
        if !good {
            eprintln!("downloading {} -> {}", file.url, dest.display());
            download(file, &dest).map_err(|why| Error::data(dir, format!("{why}\n{}", manual_instructions(info, dir))))?;
        }
        unpack(file, &dest, dir)?;
        done.push(dest);
    }
    Ok(done)
}

/// One verified file: its path and whether its checksum matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub path: PathBuf,
    pub md5: String,
    pub expected: &'static str,
}

impl Checked {
    pub fn ok(&self) -> bool {
        self.md5 == self.expected
    }
}

/// Checksums of the files the publisher gives them for: the content checks, and any downloaded archive
/// still present. A missing file is an error naming it.
pub fn check_files(info: &DatasetInfo, dir: &Path) -> Result<Vec<Checked>> {
    let mut out = Vec::new();
    for c in info.checks {
        let gz = dir.join(c.path);
        let raw = c.path.strip_suffix(".gz").map(|p| dir.join(p));
        let path = match (gz.exists(), raw) {
            (true, _) => gz,
            (false, Some(r)) if r.exists() => r,
            _ => return Err(Error::data(&gz, format!("missing: {} needs this file", info.name))),
        };
        out.push(Checked { md5: md5_of(&path, true)?, path, expected: c.md5 });
    }
    for f in info.remote {
        let p = dir.join(f.file);
        // Archives that were unpacked and deleted are fine; what is there must match.
        if p.exists() && (f.unpack != Unpack::None || info.checks.is_empty()) {
            out.push(Checked { md5: md5_of(&p, false)?, path: p, expected: f.md5 });
        } else if !p.exists() && f.unpack == Unpack::None && info.checks.is_empty() {
            return Err(Error::data(&p, format!("missing: {} needs this file", info.name)));
        }
    }
    Ok(out)
}
