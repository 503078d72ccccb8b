//! `trgl analyze`: each trained module measured as a map (`trgl::analyze`), for a run or every run of a sweep.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use clap::Args;

use trgl::analyze::{AnalyzeOptions, RunAnalysis, aggregate, analyze};
use trgl::config::Config;
use trgl::train::WEIGHTS_FILE;
use trgl::train::session::Session;

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Run directories, or directories holding runs (a sweep): every run below them with trained weights.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Test images the maps are measured on.
    #[arg(long, default_value_t = 256)]
    samples: usize,
    /// Random pairs of those images (Lipschitz quantiles, Hölder fit).
    #[arg(long, default_value_t = 4000)]
    pairs: usize,
    /// Training images the linear probe is fitted on.
    #[arg(long, default_value_t = 2000)]
    probe_train: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Writes every run's measurements there as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Writes there, over the runs grouped by setting (every config field but the seed and output.*):
    /// analysis.json (every run), analysis_groups.json and analysis.md (each measurement per module,
    /// mean ± 95 % CI over seeds), and a figure per measurement against depth (SVG and PNG).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

/// Directories below `root` (itself included) that hold a finished run's config and weights.
fn find_runs(root: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if root.join("config.toml").is_file() && root.join(WEIGHTS_FILE).is_file() {
        out.push(root.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root).with_context(|| format!("{}: cannot read the directory", root.display()))?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    entries.sort();
    for e in entries {
        find_runs(&e, out)?;
    }
    Ok(())
}

fn analyze_run(run: &Path, options: &AnalyzeOptions, set: &[String]) -> Result<RunAnalysis> {
    trgl::integrity::verify(run, WEIGHTS_FILE, false)?;
    let mut config = Config::from_file(&run.join("config.toml"), set)?;
    config.output.progress = false;
    let data = trgl::data::open(&config.data)?;
    let mut session = Session::new(&config, &data, None)?;
    let weights = run.join(WEIGHTS_FILE);
    session.trainer.network =
        session.trainer.network.clone().try_load_file(&weights).with_context(|| format!("{}: cannot load the run's weights", weights.display()))?;
    Ok(analyze(&session, options)?)
}

fn print(run: &Path, a: &RunAnalysis) {
    println!("{}", run.display());
    println!(
        "{:>6} {:>10} {:>8} {:>22} {:>22} {:>18} {:>9} {:>13} {:>8} {:>8} {:>8}",
        "module", "kinetic", "displ.", "Lip. pairs med/99%/max", "Lip. near med/99%/max", "Jacobian σ med/max", "W2/own", "Hölder η (R²)", "head CE", "head %", "probe %"
    );
    for m in &a.modules {
        let q = |q: &trgl::analyze::estimators::Quantiles| format!("{:.2}/{:.2}/{:.2}", q.median, q.p99, q.max);
        println!(
            "{:>6} {:>10.4} {:>8.3} {:>22} {:>22} {:>18} {:>9.3} {:>13} {:>8.3} {:>8.1} {:>8.1}",
            m.module,
            m.kinetic_energy,
            m.relative_displacement,
            q(&m.lipschitz_pairs),
            q(&m.lipschitz_near),
            format!("{:.2}/{:.2}", m.jacobian.sigma.median, m.jacobian.sigma.max),
            m.optimality.ratio,
            format!("{:.2} ({:.2})", m.holder.eta, m.holder.r_squared),
            m.head_loss,
            100.0 * m.head_accuracy,
            100.0 * m.probe.test_accuracy
        );
    }
    let n = a.modules.first().map_or(0, |m| m.optimality.samples);
    let by: Vec<String> = a.modules.iter().map(|m| m.optimality_by_samples.iter().chain([&m.optimality]).map(|o| format!("{:.3}", o.ratio)).collect::<Vec<_>>().join("/")).collect();
    println!("W2/own with N/4, N/2, N = {n} samples, per module: {}", by.join("  "));
    let it: Vec<String> = a.modules.iter().map(|m| format!("{} it., {}/{} converged", m.jacobian.iterations, m.jacobian.converged, m.jacobian.points)).collect();
    println!("Jacobian power iteration (tolerance {:.0e}) per module: {}\n", a.options.jacobian_tolerance, it.join("; "));
}

pub fn run(args: AnalyzeArgs) -> Result<()> {
    let options = AnalyzeOptions { samples: args.samples, pairs: args.pairs, probe_train: args.probe_train, seed: args.seed, ..AnalyzeOptions::default() };
    let mut runs = Vec::new();
    for r in &args.runs {
        find_runs(r, &mut runs)?;
    }
    if runs.is_empty() {
        bail!("no trained run (config.toml and {WEIGHTS_FILE}) under {:?}", args.runs);
    }
    let mut analysed = Vec::new();
    for run in &runs {
        let a = analyze_run(run, &options, &args.set).with_context(|| format!("{}: analysis failed", run.display()))?;
        print(run, &a);
        analysed.push((run.clone(), a));
    }
    let all = serde_json::json!({ "runs": analysed.iter().map(|(run, a)| serde_json::json!({ "run": run, "analysis": a })).collect::<Vec<_>>() });
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&all)?).with_context(|| format!("{}: cannot write", path.display()))?;
        println!("measurements: {}", path.display());
    }
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
        let path = out.join("analysis.json");
        std::fs::write(&path, serde_json::to_string_pretty(&all)?).with_context(|| format!("{}: cannot write", path.display()))?;
        let files = aggregate::write(&aggregate::group(&analysed)?, out)?;
        println!("measurements: {}; by setting: {}", path.display(), files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    Ok(())
}
