//! `data fetch` against a local HTTP server: a download cut off midway resumes with a range request, a
//! corrupted download is refused, and an unreachable host says which files to place where.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use md5::{Digest, Md5};
use trgl::data::catalog::{DatasetInfo, Reader, RemoteFile, Unpack};
use trgl::data::fetch::{download, fetch};

/// Serves `body` on 127.0.0.1 for `requests` connections. The first response is cut off after `cut` bytes;
/// `Range: bytes=N-` is honoured with a 206. Returns the port and the ranges asked for.
fn serve(body: Vec<u8>, cut: usize, requests: usize) -> (u16, Arc<std::sync::Mutex<Vec<u64>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ranges = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = ranges.clone();
    let served = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut from = 0u64;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    from = v.trim().trim_end_matches('-').parse().unwrap();
                }
            }
            seen.lock().unwrap().push(from);
            let rest = &body[from as usize..];
            let status = if from > 0 { "206 Partial Content" } else { "200 OK" };
            let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", rest.len());
            stream.write_all(head.as_bytes()).unwrap();
            let n = if served.fetch_add(1, Ordering::SeqCst) == 0 { cut.min(rest.len()) } else { rest.len() };
            let _ = stream.write_all(&rest[..n]);
            let _ = stream.flush();
        }
    });
    (port, ranges)
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn md5_hex(b: &[u8]) -> String {
    format!("{:x}", Md5::digest(b))
}

#[test]
fn an_interrupted_download_resumes_and_is_verified() {
    let body: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let (port, ranges) = serve(body.clone(), 70_000, 2);
    let dir = common::tmp("fetch-resume");
    std::fs::create_dir_all(&dir).unwrap();
    let file = RemoteFile { url: leak(format!("http://127.0.0.1:{port}/data.bin")), file: "data.bin", md5: leak(md5_hex(&body)), unpack: Unpack::None };
    let dest = dir.join("data.bin");
    let first = download(&file, &dest).unwrap_err();
    assert!(first.contains("interrupted at byte 70000"), "{first}");
    assert!(!dest.exists());
    download(&file, &dest).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(*ranges.lock().unwrap(), vec![0, 70_000], "the second request continues where the first stopped");
}

#[test]
fn a_download_with_the_wrong_checksum_is_refused() {
    let body = b"not the file the publisher made".to_vec();
    let (port, _) = serve(body, usize::MAX, 1);
    let dir = common::tmp("fetch-md5");
    std::fs::create_dir_all(&dir).unwrap();
    let file = RemoteFile { url: leak(format!("http://127.0.0.1:{port}/x.bin")), file: "x.bin", md5: "00000000000000000000000000000000", unpack: Unpack::None };
    let e = download(&file, &dir.join("x.bin")).unwrap_err();
    assert!(e.contains("md5") && e.contains("expected 00000000000000000000000000000000"), "{e}");
    assert!(!dir.join("x.bin").exists() && !dir.join("x.bin.part").exists());
}

#[test]
fn without_network_fetch_says_which_files_to_put_where() {
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let remote: &'static [RemoteFile] = Box::leak(Box::new([RemoteFile {
        url: leak(format!("http://127.0.0.1:{port}/train_32x32.mat")),
        file: "train_32x32.mat",
        md5: "e26dedcc434d2e4c54c9b2d4a06d8373",
        unpack: Unpack::None,
    }]));
    let info = DatasetInfo { name: "svhn", about: "", remote, checks: &[], reader: Reader::Svhn { extra: false }, cache_decoded: false, image_size: Some(32) };
    let dir = common::tmp("fetch-offline");
    let e = fetch(&info, &dir).unwrap_err().to_string();
    assert!(e.contains("download these files into") && e.contains("train_32x32.mat") && e.contains("e26dedcc434d2e4c54c9b2d4a06d8373"), "{e}");
}
