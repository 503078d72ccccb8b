//! The Slurm executor: the runs still to train become one job array (`sbatch --array=…`), each array task
//! running `trgl sweep run DIR INDEX` for its index — the same code a local job runs — with its kernel pool
//! sized to the task's CPUs. Submissions are recorded in `DIR/slurm/jobs.json`; `trgl sweep status` asks
//! the scheduler (`squeue`, then `sacct`, or `scontrol` where accounting is off) what became of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const SLURM_DIR: &str = "slurm";
const JOBS: &str = "jobs.json";

/// What a user may ask of the scheduler; `None` leaves Slurm's default.
#[derive(Clone, Debug, Default)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    /// `--time`, Slurm's syntax (`1:00:00`, `2-00:00:00`).
    pub time: Option<String>,
    pub cpus_per_task: Option<usize>,
    pub gpus_per_task: Option<usize>,
    /// `--mem`, Slurm's syntax (`8G`).
    pub mem: Option<String>,
    /// Array tasks running at once (`--array=…%N`).
    pub max_running: Option<usize>,
    /// Further `#SBATCH` lines, verbatim (`--account=x`, `--qos=y`).
    pub extra: Vec<String>,
}

/// One submitted job array.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub job_id: String,
    pub script: PathBuf,
    /// The run indices of its array tasks.
    pub indices: Vec<usize>,
}

/// `0-3,5,7-8`: Slurm's compact array syntax.
pub fn array_spec(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end = indices[i];
        }
        parts.push(if end > start { format!("{start}-{end}") } else { start.to_string() });
        i += 1;
    }
    parts.join(",")
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// The sbatch script for `indices` of the sweep in `sweep_dir` (an absolute path), run by `exe`.
pub fn sbatch_script(sweep_dir: &Path, name: &str, indices: &[usize], exe: &Path, options: &SlurmOptions) -> String {
    let mut s = String::from("#!/bin/bash\n");
    let mut line = |l: String| {
        s.push_str("#SBATCH ");
        s.push_str(&l);
        s.push('\n');
    };
    line(format!("--job-name=trgl-{name}"));
    let cap = options.max_running.map_or(String::new(), |n| format!("%{n}"));
    line(format!("--array={}{cap}", array_spec(indices)));
    line(format!("--output={}/%A_%a.out", sweep_dir.join(SLURM_DIR).display()));
    line(format!("--cpus-per-task={}", options.cpus_per_task.unwrap_or(1)));
    if let Some(p) = &options.partition {
        line(format!("--partition={p}"));
    }
    if let Some(t) = &options.time {
        line(format!("--time={t}"));
    }
    if let Some(g) = options.gpus_per_task {
        line(format!("--gpus-per-task={g}"));
    }
    if let Some(m) = &options.mem {
        line(format!("--mem={m}"));
    }
    for e in &options.extra {
        line(e.clone());
    }
    s.push_str(&format!(
        "\n# One run of the sweep per array task: the same code `trgl sweep --jobs` runs locally.\n\
         export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-1}}\"\n\
         exec {} sweep run {} \"$SLURM_ARRAY_TASK_ID\"\n",
        quote(exe),
        quote(sweep_dir)
    ));
    s
}

pub fn load_submissions(sweep_dir: &Path) -> Result<Vec<Submission>> {
    let p = sweep_dir.join(SLURM_DIR).join(JOBS);
    match std::fs::read_to_string(&p) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| Error::data(&p, format!("not a list of submissions: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(&p, e)),
    }
}

fn run_tool(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.output().map_err(|e| Error::io(what, e))?;
    if !out.status.success() {
        return Err(Error::data(what, format!("{} failed: {}", what, String::from_utf8_lossy(&out.stderr).trim())));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Writes the sbatch script for `indices` and submits it; records the submission.
pub fn submit(sweep_dir: &Path, indices: &[usize], exe: &Path, options: &SlurmOptions) -> Result<Submission> {
    let dir = std::path::absolute(sweep_dir).map_err(|e| Error::io(sweep_dir, e))?;
    let slurm = dir.join(SLURM_DIR);
    std::fs::create_dir_all(&slurm).map_err(|e| Error::io(&slurm, e))?;
    let mut submissions = load_submissions(&dir)?;
    let name = dir.file_name().map_or_else(|| "sweep".into(), |n| n.to_string_lossy().into_owned());
    let script = slurm.join(format!("array-{}.sbatch", submissions.len() + 1));
    std::fs::write(&script, sbatch_script(&dir, &name, indices, exe, options)).map_err(|e| Error::io(&script, e))?;
    let out = run_tool(Command::new("sbatch").arg("--parsable").arg(&script), "sbatch")?;
    // --parsable prints `jobid` or `jobid;cluster`.
    let job_id = out.trim().split(';').next().unwrap_or("").to_string();
    if job_id.is_empty() {
        return Err(Error::data("sbatch", format!("printed no job id: {out:?}")));
    }
    let sub = Submission { job_id, script, indices: indices.to_vec() };
    submissions.push(sub.clone());
    let p = slurm.join(JOBS);
    std::fs::write(&p, serde_json::to_string_pretty(&submissions).expect("submissions serialise")).map_err(|e| Error::io(&p, e))?;
    Ok(sub)
}

/// What the scheduler says of each run index (its latest submission's array task), with where it came from.
pub fn scheduler_states(sweep_dir: &Path) -> Result<(BTreeMap<usize, String>, Vec<String>)> {
    let submissions = load_submissions(sweep_dir)?;
    let mut states = BTreeMap::new();
    let mut notes = Vec::new();
    for sub in &submissions {
        let mut found: BTreeMap<usize, String> = BTreeMap::new();
        // Pending or running tasks.
        match run_tool(Command::new("squeue").args(["-h", "-r", "-j", &sub.job_id, "-o", "%i %T %R"]), "squeue") {
            Ok(out) => {
                for l in out.lines() {
                    let mut f = l.split_whitespace();
                    if let (Some(id), Some(state)) = (f.next(), f.next()) {
                        if let Some(idx) = id.split('_').nth(1).and_then(|i| i.parse().ok()) {
                            found.insert(idx, state.to_string());
                        }
                    }
                }
            }
            Err(e) => notes.push(format!("job {}: {e}", sub.job_id)),
        }
        // Finished tasks: accounting, else the controller's memory of them.
        let missing: Vec<usize> = sub.indices.iter().copied().filter(|i| !found.contains_key(i)).collect();
        if !missing.is_empty() {
            match run_tool(Command::new("sacct").args(["-n", "-P", "-X", "-j", &sub.job_id, "-o", "JobID,State,ExitCode"]), "sacct") {
                Ok(out) if !out.trim().is_empty() => {
                    for l in out.lines() {
                        let f: Vec<&str> = l.split('|').collect();
                        if let (Some(id), Some(state)) = (f.first(), f.get(1)) {
                            if let Some(idx) = id.split('_').nth(1).and_then(|i| i.parse().ok()) {
                                found.entry(idx).or_insert_with(|| format!("{state} (exit {})", f.get(2).unwrap_or(&"?")));
                            }
                        }
                    }
                }
                _ => match run_tool(Command::new("scontrol").args(["-o", "show", "job", &sub.job_id]), "scontrol") {
                    Ok(out) => {
                        for l in out.lines() {
                            let field = |k: &str| l.split_whitespace().find_map(|w| w.strip_prefix(k)).map(str::to_string);
                            if let (Some(idx), Some(state)) = (field("ArrayTaskId=").and_then(|i| i.parse().ok()), field("JobState=")) {
                                found.entry(idx).or_insert_with(|| format!("{state} (exit {})", field("ExitCode=").unwrap_or_else(|| "?".into())));
                            }
                        }
                    }
                    Err(_) => notes.push(format!("job {}: neither sacct nor scontrol knows it any more", sub.job_id)),
                },
            }
        }
        for (idx, state) in found {
            states.insert(idx, format!("job {}_{idx}: {state}", sub.job_id));
        }
    }
    Ok((states, notes))
}
