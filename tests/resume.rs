//! A killed run loses nothing: SIGKILL at random moments, then `--resume` until it finishes, gives the
//! metrics and weights of an uninterrupted run, bit for bit. And bad checkpoints are refused clearly.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use burn::module::Module;
use rand::{Rng, SeedableRng};
use trgl::config::Config;
use trgl::train::Session;

const TRGL: &str = env!("CARGO_BIN_EXE_trgl");

fn config_text(mode: &str, dir: &Path) -> String {
    format!(
        r#"seed = 3
[data]
dataset = "fashion-mnist-demo"
train_limit = 384
test_limit = 128
batch_size = 32
test_batch_size = 128
workers = 1
[model]
arch = "resnet8"
width = 4
[split]
modules = 3
[head]
pool = 2
[method]
tau = 1.0
schedule = "uzawa"
uzawa_every = 5
[train]
mode = "{mode}"
epochs = 3
ne1 = 1
ne2 = 1
[optim]
lr = 0.05
[lr_schedule]
kind = "cosine"
[output]
dir = "{}"
timings = false
progress = false
checkpoint_every = 1
"#,
        dir.display()
    )
}

fn write_config(mode: &str, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.with_extension("toml");
    std::fs::write(&p, config_text(mode, dir)).unwrap();
    p
}

fn weights(config: &Path, run: &Path) -> Vec<Vec<f32>> {
    let c = Config::from_file(config, &[]).unwrap();
    let data = trgl::data::open(&c.data).unwrap();
    let s = Session::new(&c, &data, None).unwrap();
    let net = s.trainer.network.clone().try_load_file(run.join("weights.bpk")).unwrap();
    common::snapshot(&net)
}

/// Runs to the end, killing the process after random delays (within `span`, what an uninterrupted run takes)
/// first; returns how many kills landed.
fn run_with_kills(config: &Path, dir: &Path, rng: &mut impl Rng, kills: usize, span: Duration) -> usize {
    let mut landed = 0;
    for attempt in 0.. {
        let resume = dir.join("checkpoint").exists() || dir.join("checkpoint.old").exists();
        let mut cmd = Command::new(TRGL);
        if resume {
            cmd.args(["train", "--resume"]).arg(dir);
        } else {
            cmd.args(["train", "--config"]).arg(config);
        }
        // stderr kept for the message of a failed attempt (a few lines: progress is off).
        let mut child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        if attempt < kills {
            // Anywhere from start-up to most of a whole run: the machine's speed sets the scale.
            let wait = span.mul_f64(rng.random_range(0.05..0.8));
            let start = Instant::now();
            while start.elapsed() < wait {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                landed += 1;
                continue;
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "attempt {attempt} ({}) failed: {}", if resume { "resume" } else { "start" }, String::from_utf8_lossy(&out.stderr));
        if dir.join("summary.json").exists() {
            return landed;
        }
    }
    unreachable!()
}

#[test]
fn killed_runs_resume_to_the_uninterrupted_result() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let base = common::tmp("resume");
    for mode in ["sequential", "parallel"] {
        let reference = base.join(format!("{mode}-ref"));
        let ref_config = write_config(mode, &reference);
        let started = Instant::now();
        assert!(Command::new(TRGL).args(["train", "--config"]).arg(&ref_config).output().unwrap().status.success());
        let span = started.elapsed();
        let expected_metrics = std::fs::read(reference.join("metrics.jsonl")).unwrap();
        let expected_weights = weights(&ref_config, &reference);
        // Three trials at least, and more until three kills have landed: a kill lands only if the
        // run is still going at its random moment, and on a noisy machine a run can finish sooner
        // than the reference did (two of nine landed once in three trials).
        let (mut total_kills, mut trial) = (0, 0);
        while trial < 3 || total_kills < 3 {
            assert!(trial < 12, "{mode}: only {total_kills} kills landed in {trial} trials: the test did not interrupt anything");
            let dir = base.join(format!("{mode}-{trial}"));
            let config = write_config(mode, &dir);
            total_kills += run_with_kills(&config, &dir, &mut rng, 3, span);
            assert_eq!(std::fs::read(dir.join("metrics.jsonl")).unwrap(), expected_metrics, "{mode}, trial {trial}: metrics differ");
            assert_eq!(weights(&config, &dir), expected_weights, "{mode}, trial {trial}: weights differ");
            assert!(!dir.join("checkpoint.tmp").exists() || dir.join("checkpoint").exists());
            trial += 1;
        }
    }
}

#[test]
fn truncated_and_foreign_checkpoints_are_refused() {
    let dir = common::tmp("bad-checkpoint");
    let config = write_config("parallel", &dir);
    assert!(Command::new(TRGL).args(["train", "--config"]).arg(&config).output().unwrap().status.success());
    // As if killed after its last checkpoint: a finished run is not resumed at all.
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    std::fs::remove_file(dir.join("weights.bpk")).unwrap();
    let resume = |dir: &Path| {
        let out = Command::new(TRGL).args(["train", "--resume"]).arg(dir).output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // Another model: the run directory's config changed under the checkpoint.
    let c = dir.join("config.toml");
    let original = std::fs::read_to_string(&c).unwrap();
    std::fs::write(&c, original.replace("width = 4", "width = 8")).unwrap();
    let e = resume(&dir);
    assert!(e.contains("checkpoint of another run") && e.contains("model"), "{e}");
    std::fs::write(&c, &original).unwrap();
    // A truncated network file.
    let net = dir.join("checkpoint/network.bpk");
    let bytes = std::fs::read(&net).unwrap();
    std::fs::write(&net, &bytes[..bytes.len() / 2]).unwrap();
    let e = resume(&dir);
    assert!(e.contains("network.bpk") && e.contains("checksum mismatch"), "{e}");
    // ... and without its checksum line (a checkpoint of an older trgl), the loader still refuses it.
    std::fs::remove_file(dir.join("checkpoint/SHA256SUMS")).unwrap();
    let e = resume(&dir);
    assert!(e.contains("network.bpk") && e.contains("cannot load"), "{e}");
    // No checkpoint at all.
    let e = resume(&common::tmp("no-checkpoint"));
    assert!(e.contains("no checkpoint"), "{e}");
}

/// VanGL's τ is ∞, which JSON cannot hold: the checkpoint state must still read back (it once failed with
/// "invalid type: null, expected f64", so that no VanGL run could resume).
#[test]
fn a_checkpoint_state_with_infinite_tau_reads_back() {
    use trgl::train::checkpoint::State;
    use trgl::transport::{TransportSpec, TransportWeights};
    let spec = TransportSpec { tau: f64::INFINITY, ..TransportSpec::default() };
    let state = State {
        fingerprint: serde_json::json!({}),
        units_done: 1,
        data_epochs: 1,
        steps: vec![3, 3],
        optimizers: 2,
        weights: TransportWeights::new(spec, 2),
        last_records: vec![None, None],
        metrics_records: 2,
        config: None,
        seconds: 0.0,
    };
    let text = serde_json::to_string(&state).unwrap();
    let back: State = serde_json::from_str(&text).unwrap();
    assert_eq!(back.weights, state.weights);
    assert_eq!(back.weights.tau(0), f64::INFINITY);
}
