//! `trgl sweep --slurm` against a real Slurm (slurmctld + slurmd; `tools/slurm/start_local_cluster.sh`
//! starts a one-node cluster on this machine): a 4-run sweep submitted as a job array finishes, and every
//! run's metrics equal those of the local executor for the same seeds and threads per run. Where no cluster
//! answers, one SKIPPED line — unless TRGL_REQUIRE_SLURM=1 (`.ci/run` sets it once the cluster is up).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use trgl::sweep::{Manifest, RunState};

const TRGL: &str = env!("CARGO_BIN_EXE_trgl");

fn sh(cmd: &str, args: &[&str]) -> String {
    match Command::new(cmd).args(args).output() {
        Ok(o) => format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
        Err(e) => format!("{cmd}: {e}"),
    }
}

fn cluster_up() -> bool {
    Command::new("sinfo").args(["-h", "-o", "%T"]).output().is_ok_and(|o| {
        let s = String::from_utf8_lossy(&o.stdout);
        o.status.success() && (s.contains("idle") || s.contains("mix") || s.contains("alloc"))
    })
}

fn write_sweep(root: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(root).unwrap();
    let file = root.join("sweep.toml");
    std::fs::write(&file, common::tiny_sweep_text(&root.join("out"), 2.0, 2)).unwrap();
    file
}

#[test]
fn a_sweep_submitted_to_slurm_ends_with_the_local_executors_metrics() {
    if !cluster_up() {
        assert!(std::env::var("TRGL_REQUIRE_SLURM").is_err(), "TRGL_REQUIRE_SLURM is set but no Slurm cluster answers (sinfo)");
        eprintln!("SKIPPED Slurm test: no cluster answers `sinfo` (tools/slurm/start_local_cluster.sh starts one)");
        return;
    }
    let local = write_sweep(&common::tmp("slurm-local"));
    let out = Command::new(TRGL).args(["sweep", local.to_str().unwrap(), "--jobs", "1", "--threads-per-run", "1"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let root = common::tmp("slurm-array");
    let file = write_sweep(&root);
    let out = Command::new(TRGL).args(["sweep", file.to_str().unwrap(), "--slurm", "--cpus-per-task", "1", "--time", "10:00"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    let job = said.split_whitespace().skip_while(|w| *w != "array").nth(1).expect("a job id").to_string();
    println!("{said}");
    println!("sinfo:\n{}", sh("sinfo", &[]));
    println!("squeue after submitting:\n{}", sh("squeue", &["-r"]));

    let dir = root.join("out");
    let start = Instant::now();
    loop {
        let mut m = Manifest::load(&dir).unwrap();
        m.refresh_states(&dir);
        let queued = sh("squeue", &["-h", "-j", &job]);
        if m.runs.iter().all(|r| r.state == RunState::Finished) && queued.trim().is_empty() {
            break;
        }
        if m.runs.iter().any(|r| r.state == RunState::Failed) || start.elapsed() > Duration::from_secs(600) {
            panic!("the job array did not finish: {:?}\n{}\n{}", m.runs.iter().map(|r| r.state).collect::<Vec<_>>(), sh("scontrol", &["show", "job", &job]), sh(TRGL, &["sweep", "status", dir.to_str().unwrap()]));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let status = sh(TRGL, &["sweep", "status", dir.to_str().unwrap()]);
    println!("trgl sweep status:\n{status}");
    println!("scontrol show job {job} (task states):");
    let scontrol = sh("scontrol", &["-o", "show", "job", &job]);
    for l in scontrol.lines() {
        let keep: Vec<&str> = l.split_whitespace().filter(|w| ["JobId=", "ArrayTaskId=", "JobState=", "ExitCode="].iter().any(|k| w.starts_with(k))).collect();
        println!("  {}", keep.join(" "));
    }
    assert_eq!(status.matches(&format!("job {job}_")).count(), 4, "the scheduler knows the four array tasks:\n{status}");
    assert_eq!(scontrol.matches("JobState=COMPLETED").count(), 4, "four array tasks COMPLETED:\n{scontrol}");

    let local_m = Manifest::load(&local.parent().unwrap().join("out")).unwrap();
    let slurm_m = Manifest::load(&dir).unwrap();
    for (a, b) in local_m.runs.iter().zip(&slurm_m.runs) {
        let x = std::fs::read(local.parent().unwrap().join("out").join(&a.dir).join("metrics.jsonl")).unwrap();
        let y = std::fs::read(dir.join(&b.dir).join("metrics.jsonl")).unwrap();
        assert!(!x.is_empty() && x == y, "{}: the Slurm run's metrics differ from the local executor's", a.name);
    }
}

#[test]
fn the_array_spec_is_compact() {
    use trgl::sweep::slurm::array_spec;
    assert_eq!(array_spec(&[0, 1, 2, 3]), "0-3");
    assert_eq!(array_spec(&[0, 2, 3, 4, 7]), "0,2-4,7");
    assert_eq!(array_spec(&[5]), "5");
}
