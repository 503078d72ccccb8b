//! Fuzz target: A metrics.jsonl file, resumed as --resume reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod scratch;
use scratch::scratch;

fuzz_target!(|data: &[u8]| {
    let dir = scratch("metrics");
    let p = dir.join("metrics.jsonl");
    std::fs::write(&p, data).unwrap();
    let keep = data.first().map_or(0, |b| (*b % 8) as usize);
    let _ = trgl::report::MetricsWriter::resume(&p, keep);
});
