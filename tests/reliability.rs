//! A user's run is never lost or silently changed: training into a run directory refuses (or, with
//! --force, moves the old run aside), --resume refuses a changed config and a damaged checkpoint, export
//! never overwrites a run's files, predict never uses a stale export, and a resumed run's time counts
//! every process.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TRGL: &str = env!("CARGO_BIN_EXE_trgl");

fn config_text(dir: &Path) -> String {
    format!(
        r#"seed = 5
[data]
dataset = "fashion-mnist-demo"
train_limit = 256
test_limit = 64
batch_size = 32
[model]
arch = "resnet8"
width = 4
[split]
modules = 2
[head]
pool = 2
[method]
tau = 1.0
[train]
mode = "parallel"
epochs = 2
[optim]
lr = 0.05
[output]
dir = "{}"
progress = false
timings = false
checkpoint_every = 1
"#,
        dir.display()
    )
}

/// A config file beside `dir` that trains into `dir`.
fn write_config(dir: &Path) -> PathBuf {
    let p = dir.with_extension("toml");
    std::fs::write(&p, config_text(dir)).unwrap();
    p
}

fn trgl(args: &[&str], paths: &[&Path]) -> Output {
    let mut cmd = Command::new(TRGL);
    cmd.args(args);
    for p in paths {
        cmd.arg(p);
    }
    cmd.output().unwrap()
}

fn ok(out: &Output) {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn failure(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure; stdout {}", String::from_utf8_lossy(&out.stdout));
    let e = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!e.contains("panicked"), "a clear error, not a panic: {e}");
    e
}

/// Every file under `dir` (relative path → bytes).
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn trained_run(name: &str) -> (PathBuf, PathBuf) {
    let dir = common::tmp(name);
    let config = write_config(&dir);
    ok(&trgl(&["train", "--config"], &[&config]));
    (dir, config)
}

#[test]
fn training_into_a_finished_run_refuses_and_force_moves_it_aside() {
    let (dir, config) = trained_run("twice");
    let before = files(&dir);
    assert!(before.contains_key(Path::new("SHA256SUMS")) && before.contains_key(Path::new("weights.bpk")));
    let e = failure(&trgl(&["train", "--config"], &[&config]));
    assert!(e.contains("finished run") && e.contains("--resume") && e.contains("--force"), "{e}");
    assert_eq!(files(&dir), before, "the refused second run changed nothing");
    // --resume of a finished run: nothing to resume, nothing rewritten.
    let e = failure(&trgl(&["train", "--resume"], &[&dir]));
    assert!(e.contains("finished run"), "{e}");
    assert_eq!(files(&dir), before);
    // --force: the old run is moved aside whole, and a new one trained in its place.
    ok(&trgl(&["train", "--force", "--config"], &[&config]));
    let aside = PathBuf::from(format!("{}.replaced-1", dir.display()));
    assert_eq!(files(&aside), before, "the replaced run is kept, byte for byte");
    assert!(dir.join("summary.json").is_file());
    // Same seed and config, timings off: the new run is the same run.
    assert_eq!(std::fs::read(dir.join("metrics.jsonl")).unwrap(), before[Path::new("metrics.jsonl")]);
}

#[test]
fn wrong_output_dirs_are_refused() {
    let base = common::tmp("wrong-dirs");
    std::fs::create_dir_all(&base).unwrap();
    let config = write_config(&base.join("unused"));
    let with_dir = |d: &Path| trgl(&["train", "--set", &format!("output.dir=\"{}\"", d.display()), "--config"], &[&config]);
    let e = failure(&with_dir(Path::new("/")));
    assert!(e.contains("filesystem root"), "{e}");
    // A folder with other files: not a run directory, even with --force.
    let foreign = base.join("notes");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("paper.tex"), "keep me").unwrap();
    let e = failure(&with_dir(&foreign));
    assert!(e.contains("holds no trgl run") && e.contains("paper.tex"), "{e}");
    let forced = trgl(&["train", "--force", "--set", &format!("output.dir=\"{}\"", foreign.display()), "--config"], &[&config]);
    failure(&forced);
    assert_eq!(std::fs::read_to_string(foreign.join("paper.tex")).unwrap(), "keep me");
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1);
    // The home folder ($HOME here, a folder of the test's own).
    let home = base.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new(TRGL)
        .env("HOME", &home)
        .args(["train", "--set", &format!("output.dir=\"{}\"", home.display()), "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let e = failure(&out);
    assert!(e.contains("home folder"), "{e}");
}

/// A finished run made resumable again: its summary removed, its checkpoint (after the last unit) kept.
fn interrupted_run(name: &str) -> PathBuf {
    let (dir, _) = trained_run(name);
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    std::fs::remove_file(dir.join("weights.bpk")).unwrap();
    dir
}

#[test]
fn resume_refuses_a_changed_config_naming_each_field() {
    let dir = interrupted_run("changed-config");
    let before = files(&dir);
    // Edited in the run directory's config.toml.
    let c = dir.join("config.toml");
    let original = std::fs::read_to_string(&c).unwrap();
    std::fs::write(&c, original.replace("lr = 0.05", "lr = 0.07").replace("batch_size = 32", "batch_size = 64")).unwrap();
    let e = failure(&trgl(&["train", "--resume"], &[&dir]));
    assert!(e.contains("optim.lr: 0.05 → 0.07") && e.contains("data.batch_size: 32 → 64"), "{e}");
    std::fs::write(&c, &original).unwrap();
    // Given with --set, and a data field.
    let e = failure(&trgl(&["train", "--set", "method.tau=2.0", "--set", "data.train_limit=128", "--resume"], &[&dir]));
    assert!(e.contains("method.tau: 1.0 → 2.0") && e.contains("data.train_limit: 256 → 128"), "{e}");
    assert_eq!(files(&dir), before, "a refused resume changes nothing");
    // An output setting may change; the metrics say so.
    ok(&trgl(&["train", "--set", "output.log_every=3", "--resume"], &[&dir]));
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    let events: Vec<&str> = metrics.lines().filter(|l| l.contains("\"events\"")).collect();
    assert_eq!(events.len(), 1, "{metrics}");
    assert!(events[0].contains("resumed with output.log_every: 20 → 3"), "{}", events[0]);
}

#[test]
fn a_bit_flip_in_a_checkpoint_is_refused_by_name() {
    let dir = interrupted_run("bit-flip");
    for name in ["network.bpk", "optim-1.bpk", "state.json"] {
        let p = dir.join("checkpoint").join(name);
        let good = std::fs::read(&p).unwrap();
        let mut bad = good.clone();
        let i = bad.len() / 2;
        bad[i] ^= 0x10;
        std::fs::write(&p, &bad).unwrap();
        let e = failure(&trgl(&["train", "--resume"], &[&dir]));
        assert!(e.contains(name) && e.contains("checksum mismatch") && e.contains("refused"), "{name}: {e}");
        std::fs::write(&p, &good).unwrap();
    }
    ok(&trgl(&["train", "--resume"], &[&dir]));
}

#[test]
fn a_resumed_run_counts_the_time_of_every_process() {
    let dir = interrupted_run("seconds");
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("checkpoint/state.json")).unwrap()).unwrap();
    let before = state["seconds"].as_f64().unwrap();
    assert!(before > 0.0, "the checkpoint records the time spent: {state}");
    ok(&trgl(&["train", "--resume"], &[&dir]));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert!(summary["seconds"].as_f64().unwrap() >= before, "{summary} counts the first process's {before} s");
}

#[test]
fn export_never_overwrites_a_run_file_and_predict_never_uses_a_stale_export() {
    let (dir, _) = trained_run("export-guard");
    let before = files(&dir);
    for name in ["weights.bpk", "config.toml", "metrics.jsonl", "SHA256SUMS"] {
        let e = failure(&trgl(&["export", "--out"], &[&dir.join(name), &dir]));
        assert!(e.contains("the run's own files"), "{name}: {e}");
    }
    assert_eq!(files(&dir), before);
    let elsewhere = dir.with_extension("safetensors");
    std::fs::write(&elsewhere, "precious").unwrap();
    let e = failure(&trgl(&["export", "--out"], &[&elsewhere, &dir]));
    assert!(e.contains("exists") && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "precious");
    ok(&trgl(&["export", "--force", "--out"], &[&elsewhere, &dir]));
    assert_ne!(std::fs::read(&elsewhere).unwrap(), b"precious");

    // The run's own export: readable by others, and tied to the weights it came from.
    ok(&trgl(&["export"], &[&dir]));
    let model = dir.join("model.safetensors");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&model).unwrap().permissions().mode() & 0o777, 0o644);
    }
    let test = trgl::data::embedded_fashion_mnist().test;
    let image = dir.with_extension("png");
    image::GrayImage::from_raw(28, 28, test.image(0).to_vec()).unwrap().save(&image).unwrap();
    ok(&trgl(&["predict", "--run"], &[&dir, &image]));
    // The run's weights change after the export (here: another run's, as if trained further).
    let (other, _) = trained_run("export-guard-other");
    std::fs::copy(other.join("weights.bpk"), dir.join("weights.bpk")).unwrap();
    let e = failure(&trgl(&["predict", "--run"], &[&dir, &image]));
    assert!(e.contains("stale") && e.contains("trgl export"), "{e}");
    // ... which the run's checksums also catch when it is exported again.
    let e = failure(&trgl(&["export"], &[&dir]));
    assert!(e.contains("weights.bpk") && e.contains("checksum mismatch"), "{e}");
    // A damaged export is refused too.
    std::fs::write(dir.join("weights.bpk"), &before[Path::new("weights.bpk")]).unwrap();
    let mut bytes = std::fs::read(&model).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 1;
    std::fs::write(&model, &bytes).unwrap();
    let e = failure(&trgl(&["predict", "--run"], &[&dir, &image]));
    assert!(e.contains("model.safetensors") && e.contains("checksum mismatch"), "{e}");
}

#[test]
fn eval_refuses_damaged_weights() {
    let (dir, _) = trained_run("eval-flip");
    ok(&trgl(&["eval", "--run"], &[&dir]));
    let p = dir.join("weights.bpk");
    let mut bytes = std::fs::read(&p).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x40;
    std::fs::write(&p, &bytes).unwrap();
    let e = failure(&trgl(&["eval", "--run"], &[&dir]));
    assert!(e.contains("weights.bpk") && e.contains("checksum mismatch"), "{e}");
}

#[test]
fn errors_name_what_is_wrong() {
    use trgl::config::Config;
    // A bad --set value is the --set's fault, not the file's.
    let e = Config::from_toml_str("[optim]\nlr = 0.1\n", "c.toml", &["seed=1".into(), "optim.lr=\"fast\"".into()]).unwrap_err().to_string();
    assert!(e.starts_with("config --set optim.lr=\"fast\" (over c.toml)"), "{e}");
    // A bad file is the file's, whatever the --set.
    let e = Config::from_toml_str("[optim]\nlr = \"x\"\n", "c.toml", &["seed=1".into()]).unwrap_err().to_string();
    assert!(e.starts_with("config c.toml:"), "{e}");
    // The embedded set has no files.
    let e = failure(&trgl(&["data", "fetch", "fashion-mnist-demo"], &[]));
    assert!(e.contains("compiled into trgl") && !e.contains("expected fashion-mnist-demo or"), "{e}");
    // An IDX file that is not one says so.
    let e = trgl::data::idx::parse_idx(b"PK\x03\x04 a zip file", Path::new("x.idx")).unwrap_err().to_string();
    assert!(e.contains("not an IDX file") && e.contains("50 4b 03 04"), "{e}");
}

/// A full disk (Linux's /dev/full answers every write with ENOSPC) is an error naming the file, not a panic
/// and not a silently shorter metrics file.
#[test]
fn a_full_disk_is_an_error_naming_the_file() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        eprintln!("SKIPPED: no /dev/full on this system");
        return;
    }
    let record: trgl::report::Record = serde_json::from_str(
        r#"{"mode":"parallel","phase":"train","lap":1,"module":1,"epoch":1,"lr":0.1,"train_loss":1.0,"ce":1.0,
            "kinetic_energy":0.1,"tau":1.0,"train_acc":0.5,"test_acc":0.5,"steps":3}"#,
    )
    .unwrap();
    let mut w = trgl::report::MetricsWriter::create(Some(full)).unwrap();
    let e = w.write(record).unwrap_err().to_string();
    assert!(e.starts_with("/dev/full") && e.contains("No space left"), "{e}");
}

#[test]
fn a_run_being_trained_by_another_process_is_left_alone() {
    let dir = interrupted_run("locked");
    let before = files(&dir);
    let held = trgl::train::run_dir::lock(&dir).unwrap();
    let e = failure(&trgl(&["train", "--resume"], &[&dir]));
    assert!(e.contains("another process is training this run"), "{e}");
    let config = dir.with_extension("toml");
    let e = failure(&trgl(&["train", "--force", "--config"], &[&config]));
    assert!(e.contains("another process is training this run"), "{e}");
    assert_eq!(files(&dir), before);
    drop(held);
    ok(&trgl(&["train", "--resume"], &[&dir]));
}
