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

/// Every `(file, line)` of the crate's sources whose code (comments aside) contains `needle`.
fn sites(needle: &str) -> Vec<(String, usize)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut found = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        for (i, line) in std::fs::read_to_string(&f).unwrap().lines().enumerate() {
            let code = line.split("//").next().unwrap();
            if code.contains(needle) {
                found.push((rel.clone(), i + 1));
            }
        }
    }
    found.sort();
    found
}

fn files(sites: &[(String, usize)]) -> Vec<&str> {
    let mut f: Vec<&str> = sites.iter().map(|(f, _)| f.as_str()).collect();
    f.dedup();
    f
}

#[test]
fn the_one_batch_loop_is_the_only_place_training_batches_are_iterated() {
    // A pass over a loader begins with `Loader::epoch`. The training loader's passes begin in the driver
    // only; the other call sites are inference over fixed data (test/validation accuracy, the frozen
    // prefix's cache over the training images in order, unaugmented, `trgl analyze`'s samples) and the
    // loader's own benchmark.
    let passes = sites(".epoch(");
    assert_eq!(files(&passes), ["analyze/mod.rs", "bench/loader.rs", "train/driver.rs", "train/eval.rs", "train/prefix_cache.rs"], "Loader::epoch calls: {passes:?}");
    for (file, line) in &passes {
        let text = std::fs::read_to_string(format!("{}/src/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let code = text.lines().nth(line - 1).unwrap();
        if file == "train/driver.rs" {
            assert!(code.contains("s.loaders.train.epoch("), "{file}:{line} begins a pass over another loader: {code}");
        } else {
            assert!(!code.contains("train.epoch("), "{file}:{line} begins a pass over the training loader outside the driver: {code}");
        }
    }
    // The driver hands every pass's batches to `batch_loop` (the pipeline's feed calls it from inside its
    // thread scope); nothing else loops over batches to train.
    let loops = sites("batch_loop(");
    assert_eq!(files(&loops), ["train/batch_loop.rs", "train/driver.rs", "train/pipelined.rs"], "batch_loop call sites: {loops:?}");
    // The steps themselves are taken only by the end-to-end stepper and `LocalSteps` (which the serial
    // executor and every pipeline worker drive), and in the step's own file.
    let steps: Vec<_> = ["chain_steps(", "local_step(", "e2e_step("].iter().flat_map(|n| sites(n)).collect();
    let mut step_files = files(&steps);
    step_files.sort();
    step_files.dedup();
    assert_eq!(step_files, ["train/end_to_end.rs", "train/serial.rs", "train/step.rs"], "step call sites: {steps:?}");
}
