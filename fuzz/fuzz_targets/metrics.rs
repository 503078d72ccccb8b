//! Fuzz target: A metrics.jsonl file, resumed as --resume reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A folder of this process's own for the files the parser reads.
fn scratch(target: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("trgl-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch("metrics");
    let p = dir.join("metrics.jsonl");
    std::fs::write(&p, data).unwrap();
    let keep = data.first().map_or(0, |b| (*b % 8) as usize);
    let _ = trgl::report::MetricsWriter::resume(&p, keep);
});
