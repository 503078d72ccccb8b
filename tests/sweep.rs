//! `trgl sweep`: runs named and resolved from the sweep file; the same metrics whatever `--jobs` (same threads
//! per run); killed with SIGKILL halfway and started again, the metrics of an uninterrupted sweep; an edited
//! sweep file refused with the changed field named, and accepted with `--force` without losing a run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use trgl::sweep::{Manifest, RunState, Sweep, prepare};

const TRGL: &str = env!("CARGO_BIN_EXE_trgl");

fn write_sweep(root: &Path, tau: f64, epochs: usize) -> PathBuf {
    std::fs::create_dir_all(root).unwrap();
    let file = root.join("sweep.toml");
    std::fs::write(&file, common::tiny_sweep_text(&root.join("out"), tau, epochs)).unwrap();
    file
}

fn trgl(args: &[&str]) -> Output {
    Command::new(TRGL).args(args).output().expect("trgl runs")
}

fn metrics(sweep_dir: &Path) -> Vec<(String, Vec<u8>)> {
    let m = Manifest::load(sweep_dir).unwrap();
    m.runs.iter().map(|r| (r.name.clone(), std::fs::read(sweep_dir.join(&r.dir).join("metrics.jsonl")).unwrap())).collect()
}

#[test]
fn expands_axes_and_zip_groups_into_named_resolved_runs() {
    let root = common::tmp("sweep-expand");
    let file = write_sweep(&root, 2.0, 1);
    let sweep = Sweep::from_file(&file).unwrap();
    let names: Vec<&str> = sweep.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["vangl_seed-0", "vangl_seed-1", "trgl_seed-0", "trgl_seed-1"]);
    let taus: Vec<f64> = sweep.runs.iter().map(|r| r.config.method.tau).collect();
    assert_eq!(taus, [f64::INFINITY, f64::INFINITY, 2.0, 2.0]);
    let seeds: Vec<u64> = sweep.runs.iter().map(|r| r.config.seed).collect();
    assert_eq!(seeds, [0, 1, 0, 1]);
    assert!(sweep.runs.iter().all(|r| r.config.train.epochs == 1 && r.config.data.train_limit == 256 && !r.config.output.progress));
    assert_eq!(sweep.runs[2].config.output.dir, root.join("out/runs/trgl_seed-0"));
    assert_eq!(sweep.runs[2].assignments, ["method.tau=2.0", "seed=0"]);
}

#[test]
fn bad_sweep_files_are_refused_with_the_reason() {
    let root = common::tmp("sweep-bad");
    std::fs::create_dir_all(&root).unwrap();
    let cases = [
        ("[[zip]]\na = [1, 2]\nb = [1]\n", "must be equally long"),
        ("[axes]\nseed = []\n", "empty list"),
        ("[axes]\nseed = 3\n", "expected a list"),
        ("[axes]\nseed = [0]\n[[zip]]\nseed = [1]\n", "swept twice"),
        ("[axes]\n\"optim.lr\" = [0.1, -1.0]\n", "optim.lr"),
        ("[axes]\nlabel = [\"a\", \"a\"]\n", "two runs would be named `a`"),
        ("axis = 1\n", "unknown field"),
        ("[axes]\n\"optim.learning_rate\" = [0.1]\n", "unknown field `learning_rate`"),
        ("[axes]\nseed = [\"zero\"]\n", "seed"),
        ("[axes]\n\"train.mode\" = [\"sideways\"]\n", "sideways"),
    ];
    for (text, expected) in cases {
        let f = root.join("bad.toml");
        std::fs::write(&f, text).unwrap();
        let err = Sweep::from_file(&f).expect_err(text).to_string();
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn jobs_do_not_change_the_metrics() {
    let one = write_sweep(&common::tmp("sweep-jobs1"), 2.0, 2);
    let two = write_sweep(&common::tmp("sweep-jobs2"), 2.0, 2);
    let out = trgl(&["sweep", one.to_str().unwrap(), "--jobs", "1", "--threads-per-run", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = trgl(&["sweep", two.to_str().unwrap(), "--jobs", "2", "--threads-per-run", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (a, b) = (metrics(&one.parent().unwrap().join("out")), metrics(&two.parent().unwrap().join("out")));
    assert_eq!(a.len(), 4);
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(!x.is_empty(), "{name}: no metrics");
        assert!(x == y, "{name}: metrics differ between --jobs 1 and --jobs 2");
    }
    // Again: everything is finished, nothing trains.
    let out = trgl(&["sweep", one.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to train"), "{}", String::from_utf8_lossy(&out.stderr));
    let m = Manifest::load(&one.parent().unwrap().join("out")).unwrap();
    assert!(m.runs.iter().all(|r| r.state == RunState::Finished));
}

#[test]
fn a_sweep_killed_halfway_ends_as_an_uninterrupted_one() {
    let whole = write_sweep(&common::tmp("sweep-whole"), 2.0, 4);
    let out = trgl(&["sweep", whole.to_str().unwrap(), "--jobs", "1", "--threads-per-run", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let killed = write_sweep(&common::tmp("sweep-killed"), 2.0, 4);
    let dir = killed.parent().unwrap().join("out");
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(TRGL)
        .args(["sweep", killed.to_str().unwrap(), "--jobs", "1", "--threads-per-run", "1"])
        .process_group(0)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill the sweep and its job together (as a lost node would) once the second run has a checkpoint.
    let second = dir.join("runs/vangl_seed-1");
    let start = Instant::now();
    while !(second.join("checkpoint/state.json").exists() || second.join("checkpoint.old/state.json").exists()) {
        assert!(start.elapsed() < Duration::from_secs(120), "the second run never wrote a checkpoint");
        std::thread::sleep(Duration::from_millis(5));
    }
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    child.wait().unwrap();
    // The job dies with its group; its lock goes with it a moment later.
    let start = Instant::now();
    while trgl::train::run_dir::is_locked(&second) {
        assert!(start.elapsed() < Duration::from_secs(10), "the killed job still holds its lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    let states: Vec<RunState> = {
        let mut m = Manifest::load(&dir).unwrap();
        m.refresh_states(&dir);
        m.runs.iter().map(|r| r.state).collect()
    };
    assert_eq!(states[0], RunState::Finished);
    assert!(matches!(states[1], RunState::Interrupted | RunState::Finished), "{states:?}");
    assert!(states[2..].iter().all(|s| matches!(s, RunState::Pending | RunState::Started)), "{states:?}");

    let out = trgl(&["sweep", killed.to_str().unwrap(), "--jobs", "1", "--threads-per-run", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for ((name, x), (_, y)) in metrics(&whole.parent().unwrap().join("out")).iter().zip(&metrics(&dir)) {
        assert!(x == y, "{name}: the resumed sweep's metrics differ from the uninterrupted one's");
    }
}

#[test]
fn an_edited_sweep_file_is_refused_naming_the_change_and_force_keeps_every_run() {
    let root = common::tmp("sweep-edit");
    let file = write_sweep(&root, 2.0, 1);
    let dir = root.join("out");
    let out = trgl(&["sweep", file.to_str().unwrap(), "--only", "trgl_seed-0", "--threads-per-run", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let finished = std::fs::read(dir.join("runs/trgl_seed-0/metrics.jsonl")).unwrap();

    std::fs::write(&file, common::tiny_sweep_text(&dir, 0.5, 1)).unwrap();
    let out = trgl(&["sweep", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("zip") && err.contains("2.0") && err.contains("0.5"), "{err}");
    assert!(err.contains("run `trgl_seed-0`: method.tau: 2.0 → 0.5"), "{err}");
    assert!(err.contains("--force"), "{err}");

    // --dry-run --force shows the runs and changes nothing.
    let out = trgl(&["sweep", file.to_str().unwrap(), "--force", "--dry-run"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(dir.join("runs/trgl_seed-0/metrics.jsonl")).unwrap(), finished);

    let sweep = Sweep::from_file(&file).unwrap();
    let prepared = prepare(&sweep, true, true).unwrap();
    assert_eq!(prepared.moved.len(), 1, "{:?}", prepared.moved);
    let (name, to) = &prepared.moved[0];
    assert_eq!(name, "trgl_seed-0");
    assert_eq!(std::fs::read(to.join("metrics.jsonl")).unwrap(), finished, "the replaced run is kept, unchanged");
    assert_eq!(prepared.manifest.runs[2].state, RunState::Pending);
}
