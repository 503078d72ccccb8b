//! Fuzz target: A run config (TOML).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = trgl::config::Config::from_toml_str(text, "fuzz.toml", &[]);
    }
});
