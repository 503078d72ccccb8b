//! The local executor: `--jobs N` runs at a time, each a `trgl sweep run DIR INDEX` process of its own
//! with its kernel thread pool sized to its share of the cores (RAYON_NUM_THREADS), so that two jobs on two
//! cores do not fight, and a run computes the same whatever else runs beside it. One progress display for
//! the sweep; each run's own output goes to its `log.txt`.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::manifest::{FAILED, Manifest, RunState};
use crate::error::{Error, Result};

pub const LOG: &str = "log.txt";

#[derive(Clone, Debug)]
pub struct LocalOptions {
    pub jobs: usize,
    /// Kernel threads of each run (RAYON_NUM_THREADS).
    pub threads_per_run: usize,
    /// The `trgl` binary the runs execute.
    pub exe: PathBuf,
}

impl LocalOptions {
    /// The cores split evenly between `jobs`, at least one thread each.
    pub fn new(jobs: usize, threads_per_run: Option<usize>, exe: PathBuf) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let jobs = jobs.max(1);
        LocalOptions { jobs, threads_per_run: threads_per_run.unwrap_or(cores / jobs).max(1), exe }
    }
}

/// How the runs asked for ended.
#[derive(Clone, Debug, Default)]
pub struct LocalOutcome {
    pub finished: Vec<String>,
    /// Run name and what went wrong (its `failed.txt`, else the exit status), with its log's path.
    pub failed: Vec<(String, String, PathBuf)>,
}

struct Active {
    index: usize,
    child: Child,
    started: Instant,
}

fn fmt_secs(s: f64) -> String {
    let s = s.round() as u64;
    if s >= 3600 { format!("{}h{:02}m", s / 3600, s % 3600 / 60) } else { format!("{}m{:02}s", s / 60, s % 60) }
}

/// Trains the runs `selected` (indices into the manifest) to their end, `options.jobs` at a time, and
/// keeps the manifest's states current as they end.
pub fn run_local(sweep_dir: &Path, manifest: &mut Manifest, selected: &[usize], options: &LocalOptions) -> Result<LocalOutcome> {
    let total = selected.len();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(ProgressStyle::with_template("sweep [{bar:30}] {pos}/{len} runs {msg}").expect("valid template").progress_chars("=> "));
    let say = |line: String| if bar.is_hidden() { eprintln!("{line}") } else { bar.println(line) };
    let mut queue: std::collections::VecDeque<usize> = selected.iter().copied().collect();
    let mut active: Vec<Active> = Vec::new();
    let mut outcome = LocalOutcome::default();
    let mut durations = Vec::new();
    let sweep_start = Instant::now();
    let mut last_status = Instant::now();
    say(format!("sweep {}: {total} runs to train, {} at a time, {} kernel threads each", sweep_dir.display(), options.jobs, options.threads_per_run));
    while !queue.is_empty() || !active.is_empty() {
        while active.len() < options.jobs {
            let Some(index) = queue.pop_front() else { break };
            let child = spawn(sweep_dir, manifest, index, options)?;
            say(format!("start  {}", manifest.runs[index].name));
            active.push(Active { index, child, started: Instant::now() });
        }
        let mut changed = false;
        let mut i = 0;
        while i < active.len() {
            let status = active[i].child.try_wait().map_err(|e| Error::io(&options.exe, e))?;
            let Some(status) = status else {
                i += 1;
                continue;
            };
            let a = active.swap_remove(i);
            let entry = &manifest.runs[a.index];
            let run_dir = sweep_dir.join(&entry.dir);
            let secs = a.started.elapsed().as_secs_f64();
            if status.success() {
                durations.push(secs);
                outcome.finished.push(entry.name.clone());
                say(format!("done   {} in {}", entry.name, fmt_secs(secs)));
            } else {
                let why = std::fs::read_to_string(run_dir.join(FAILED)).map(|s| s.trim().to_string()).unwrap_or_else(|_| format!("exited with {status}"));
                say(format!("FAILED {}: {why} (log: {})", entry.name, run_dir.join(LOG).display()));
                outcome.failed.push((entry.name.clone(), why, run_dir.join(LOG)));
            }
            bar.inc(1);
            changed = true;
        }
        if changed {
            manifest.refresh_states(sweep_dir);
            manifest.save(sweep_dir)?;
        }
        if changed || last_status.elapsed() > Duration::from_secs(1) {
            last_status = Instant::now();
            let running: Vec<String> = active.iter().map(|a| format!("{} ({})", manifest.runs[a.index].name, fmt_secs(a.started.elapsed().as_secs_f64()))).collect();
            let eta = if durations.is_empty() {
                "ETA after the first run".to_string()
            } else {
                let mean = durations.iter().sum::<f64>() / durations.len() as f64;
                let left = queue.len() as f64 * mean + active.iter().map(|a| (mean - a.started.elapsed().as_secs_f64()).max(0.0)).sum::<f64>();
                format!("ETA {}", fmt_secs(left / options.jobs as f64))
            };
            bar.set_message(format!("· running: {} · {eta}", if running.is_empty() { "-".into() } else { running.join(", ") }));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
    say(format!(
        "sweep {}: {} finished, {} failed, in {}",
        sweep_dir.display(),
        outcome.finished.len(),
        outcome.failed.len(),
        fmt_secs(sweep_start.elapsed().as_secs_f64())
    ));
    Ok(outcome)
}

fn spawn(sweep_dir: &Path, manifest: &Manifest, index: usize, options: &LocalOptions) -> Result<Child> {
    let run_dir = sweep_dir.join(&manifest.runs[index].dir);
    std::fs::create_dir_all(&run_dir).map_err(|e| Error::io(&run_dir, e))?;
    let log_path = run_dir.join(LOG);
    let log = OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| Error::io(&log_path, e))?;
    let log2 = log.try_clone().map_err(|e| Error::io(&log_path, e))?;
    Command::new(&options.exe)
        .arg("sweep")
        .arg("run")
        .arg(sweep_dir)
        .arg(index.to_string())
        .env("RAYON_NUM_THREADS", options.threads_per_run.to_string())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| Error::io(&options.exe, e))
}

/// The runs still to train, in the manifest's order, among those whose names match one of `only`
/// (all when `only` is empty).
pub fn select(manifest: &Manifest, only: &[String]) -> Vec<usize> {
    manifest
        .runs
        .iter()
        .filter(|r| r.state.to_do() && r.state != RunState::Running)
        .filter(|r| only.is_empty() || only.iter().any(|p| super::spec::glob_match(p, &r.name)))
        .map(|r| r.index)
        .collect()
}
