//! `trgl sweep FILE`, `trgl sweep status DIR` (and the hidden `trgl sweep run DIR INDEX` that each job runs).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use trgl::sweep::slurm::{SlurmOptions, scheduler_states};
use trgl::sweep::{LocalOptions, Manifest, RunState, Sweep, prepare, run_local, select};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    command: Option<SweepCommand>,
    /// The sweep file (TOML: a base config, axes over config fields, zip groups; see configs/sweeps/).
    file: Option<PathBuf>,
    /// Runs at a time on this machine.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Kernel threads of each run (default: the cores divided by --jobs). Runs compute the same for the
    /// same threads per run, whatever --jobs is.
    #[arg(long)]
    threads_per_run: Option<usize>,
    /// List the runs, their state and their settings; train nothing, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only the runs whose name matches this pattern (`*` and `?`; repeatable).
    #[arg(long, value_name = "NAME-PATTERN")]
    only: Vec<String>,
    /// Accept a sweep file changed since the sweep started: runs whose config is unchanged are kept, the
    /// directories of runs removed or changed move to DIR/replaced/ (never deleted).
    #[arg(long)]
    force: bool,
    /// Submit the runs still to train to Slurm as one job array (sbatch) instead of training them here.
    #[arg(long)]
    slurm: bool,
    /// Slurm partition (--slurm).
    #[arg(long, requires = "slurm")]
    partition: Option<String>,
    /// Time limit of each run, Slurm's syntax, e.g. 2:00:00 (--slurm).
    #[arg(long, requires = "slurm")]
    time: Option<String>,
    /// CPUs of each array task; its kernel pool gets as many threads (--slurm; default 1).
    #[arg(long, requires = "slurm")]
    cpus_per_task: Option<usize>,
    /// GPUs of each array task (--slurm).
    #[arg(long, requires = "slurm")]
    gpus_per_task: Option<usize>,
    /// Memory of each array task, Slurm's syntax, e.g. 8G (--slurm).
    #[arg(long, requires = "slurm")]
    mem: Option<String>,
    /// Array tasks running at once (--slurm; sbatch's --array=…%N).
    #[arg(long, requires = "slurm")]
    max_running: Option<usize>,
    /// A further #SBATCH option, verbatim, e.g. --sbatch=--account=proj (repeatable; --slurm).
    #[arg(long = "sbatch", value_name = "OPTION", requires = "slurm", allow_hyphen_values = true)]
    sbatch: Vec<String>,
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Each run's state, read from its directory.
    Status {
        /// The sweep's directory (holds manifest.json).
        dir: PathBuf,
    },
    /// Train one run of a sweep (what each job of `trgl sweep` and each Slurm array task runs).
    #[command(hide = true)]
    Run { dir: PathBuf, index: usize },
}

pub fn run(args: SweepArgs) -> Result<()> {
    match args.command {
        Some(SweepCommand::Status { dir }) => status(&dir),
        Some(SweepCommand::Run { dir, index }) => {
            let action = trgl::sweep::run_one(&dir, index)?;
            eprintln!("run {index} of {}: {action:?}", dir.display());
            Ok(())
        }
        None => {
            let Some(file) = args.file else { bail!("give a sweep file: trgl sweep FILE (or trgl sweep status DIR)") };
            let sweep = Sweep::from_file(&file)?;
            let prepared = prepare(&sweep, args.force, !args.dry_run)?;
            for (name, to) in &prepared.moved {
                eprintln!("moved run {name} (its config changed or it left the sweep) to {}", to.display());
            }
            let selected = select(&prepared.manifest, &args.only);
            if args.dry_run {
                print_runs(&prepared.manifest, &selected);
                return Ok(());
            }
            if selected.is_empty() {
                eprintln!("sweep {}: nothing to train ({} runs, all finished or outside --only)", sweep.dir.display(), prepared.manifest.runs.len());
                return Ok(());
            }
            let exe = std::env::current_exe().context("locating the trgl binary for the sweep's jobs")?;
            if args.slurm {
                let options = SlurmOptions {
                    partition: args.partition,
                    time: args.time,
                    cpus_per_task: args.cpus_per_task,
                    gpus_per_task: args.gpus_per_task,
                    mem: args.mem,
                    max_running: args.max_running,
                    extra: args.sbatch,
                };
                let sub = trgl::sweep::slurm::submit(&sweep.dir, &selected, &exe, &options)?;
                println!("submitted job array {} ({} runs; script {})", sub.job_id, selected.len(), sub.script.display());
                println!("trgl sweep status {}   # each run's state, and the scheduler's", sweep.dir.display());
                return Ok(());
            }
            let mut manifest = prepared.manifest;
            let options = LocalOptions::new(args.jobs, args.threads_per_run, exe);
            let outcome = run_local(&sweep.dir, &mut manifest, &selected, &options)?;
            if !outcome.failed.is_empty() {
                let names: Vec<&str> = outcome.failed.iter().map(|f| f.0.as_str()).collect();
                bail!("{} of {} runs failed: {} (each run's log.txt says why; the same command retries them)", names.len(), selected.len(), names.join(", "));
            }
            println!("sweep directory: {}", sweep.dir.display());
            Ok(())
        }
    }
}

fn print_runs(manifest: &Manifest, selected: &[usize]) {
    println!("{:>5}  {:<12} {:<40} settings", "index", "state", "name");
    for r in &manifest.runs {
        let mark = if selected.contains(&r.index) { "" } else { " (skipped)" };
        println!("{:>5}  {:<12} {:<40} {}{mark}", r.index, r.state.name(), r.name, r.assignments.join(" "));
    }
    println!("{} runs, {} to train", manifest.runs.len(), selected.len());
}

fn status(dir: &std::path::Path) -> Result<()> {
    let mut manifest = Manifest::load(dir)?;
    manifest.refresh_states(dir);
    let (scheduler, notes) = scheduler_states(dir)?;
    let mut counts = std::collections::BTreeMap::new();
    println!("{:>5}  {:<12} {:<40} detail", "index", "state", "name");
    for r in &manifest.runs {
        *counts.entry(r.state.name()).or_insert(0) += 1;
        let mut detail = match r.state {
            RunState::Failed => std::fs::read_to_string(dir.join(&r.dir).join(trgl::sweep::manifest::FAILED)).unwrap_or_default().lines().next().unwrap_or("").to_string(),
            _ => String::new(),
        };
        if let Some(s) = scheduler.get(&r.index) {
            detail = if detail.is_empty() { s.clone() } else { format!("{s}; {detail}") };
        }
        println!("{:>5}  {:<12} {:<40} {detail}", r.index, r.state.name(), r.name);
    }
    let counts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!("{} runs: {}", manifest.runs.len(), counts.join(", "));
    for n in notes {
        println!("scheduler: {n}");
    }
    Ok(())
}
