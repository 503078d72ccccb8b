//! The crate's structure rules (issue #24), checked by `tools/import_graph.py`: no import circle between
//! source files, no source file over 300 lines, and `src/config.rs` assembling the sections from their
//! owners' `config` modules only.

use std::process::Command;

#[test]
fn no_import_circle_no_long_file_config_imports_sections_only() {
    let root = env!("CARGO_MANIFEST_DIR");
    let script = format!("{root}/tools/import_graph.py");
    let out = match Command::new("python3").arg(&script).output() {
        Ok(out) => out,
        Err(e) => {
            println!("skipped: python3 is not available ({e}), so {script} cannot run");
            return;
        }
    };
    assert!(
        out.status.success(),
        "{script} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
