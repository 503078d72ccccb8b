//! Fuzz target: A checkpoint's state.json.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<trgl::train::checkpoint::State>(data);
});
