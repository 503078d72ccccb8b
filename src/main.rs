//! The `trgl` command line. With no arguments: the demo (VanGL then TRGL on the embedded data).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use clap::{Parser, Subcommand};

use trgl::config::Config;
use trgl::model::split::module_activation_floats;
use trgl::report::aggregate::{build, load_runs};
use trgl::report::write::write_all;
use trgl::report::{RunSummary, side_by_side};
use trgl::train::session::{Session, infopro_balanced, network_from_config};
use trgl::train::{self, WEIGHTS_FILE};

mod cli;

// Exact host-memory accounting for every run (metrics, summaries, `trgl bench memory`).
#[global_allocator]
static ALLOC: trgl::alloc::CountingAlloc = trgl::alloc::CountingAlloc;

const DEMO_CONFIG: &str = include_str!("../configs/demo.toml");

/// What the evidence says about the demo's setting (REPRODUCTION.md, "The demo"): one run cannot say it,
/// so the demo states it beside its own numbers. Change it only with that section.
const DEMO_EVIDENCE: &str = "One seed's difference is mostly seed-to-seed noise. The demo's τ was chosen on the validation split \
over seeds 0–4 and was not confirmed on the test set over seeds 5–9, and at CPU scale no setting has yet shown TRGL \
above VanGL at the last module: REPRODUCTION.md gives the sweeps, with 95 % intervals.";

#[derive(Parser)]
#[command(name = "trgl", version, about = "Module-wise training of deep networks with Transport-Regularized Greedy Learning")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Train as a TOML config says; writes config.toml, metrics.jsonl, weights.bpk and summary.json.
    Train {
        /// The run's config (not with --resume, which reads the run directory's).
        #[arg(long, required_unless_present = "resume", conflicts_with = "resume")]
        config: Option<PathBuf>,
        /// Continue the run in this directory from its last checkpoint.
        #[arg(long, value_name = "RUN_DIR")]
        resume: Option<PathBuf>,
        /// Override a field: --set optim.lr=0.01 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// When output.dir holds a run: move it aside to <dir>.replaced-N and train anew (nothing is deleted).
        #[arg(long, conflicts_with = "resume")]
        force: bool,
    },
    /// Test accuracy of every module's head of a finished run.
    Eval {
        /// The run directory (holds config.toml and weights.bpk).
        #[arg(long)]
        run: PathBuf,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// The split: each module's blocks, parameters and estimated activation memory (`--models`: the
    /// architectures there are).
    Info {
        /// List the architectures and exit.
        #[arg(long)]
        models: bool,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Architecture (overrides the config's model.arch).
        #[arg(long)]
        model: Option<String>,
        /// K (overrides split.modules).
        #[arg(long)]
        modules: Option<usize>,
        /// even | cuts | infopro | balanced (overrides split.method).
        #[arg(long)]
        split: Option<String>,
        #[arg(long, default_value_t = 128)]
        batch: usize,
        #[arg(long, default_value_t = 32)]
        image_size: usize,
        #[arg(long, default_value_t = 3)]
        channels: usize,
        #[arg(long, default_value_t = 10)]
        classes: usize,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Write a finished run's network (stem, modules, every head) as `model.safetensors` with PyTorch's names.
    Export {
        /// The run directory.
        run: PathBuf,
        /// Output file (default: RUN/model.safetensors).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace --out when it exists (never a file of the run itself).
        #[arg(long)]
        force: bool,
    },
    /// Classify image files with a run's exported network (run `trgl export` first).
    Predict {
        #[arg(long)]
        run: PathBuf,
        /// Leave at module K's head (early exit; default: the last module).
        #[arg(long = "exit", value_name = "K")]
        exit: Option<usize>,
        /// JPEG or PNG files.
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Datasets: list, download with checksums, verify.
    Data {
        #[command(subcommand)]
        command: cli::data::DataCommand,
    },
    /// Benchmarks: train-step throughput, peak memory per mode, loader throughput.
    Bench {
        #[command(subcommand)]
        command: cli::bench::BenchCommand,
    },
    /// Run a sweep (seeds × settings) on this machine, resumably; `trgl sweep status DIR` shows its runs.
    Sweep(cli::sweep::SweepArgs),
    /// Summarise runs and sweeps: each setting's per-module accuracies over seeds with 95 % intervals.
    Report(cli::report::ReportArgs),
    /// The GPU adapters this build can open, each with the `device` spelling that opens it.
    Devices,
    /// The demo: sequential VanGL then TRGL on the embedded Fashion-MNIST subset, side by side.
    Demo {
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

fn main() -> Result<()> {
    trgl::alloc::keep_freed_memory();
    // Before any GPU work: `bench step` reports compilations in its timed steps (there should be none).
    #[cfg(any(feature = "vulkan", feature = "wgpu"))]
    trgl::bench::kernels::compilations::count_compilations();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Demo { set: Vec::new() }) {
        Command::Devices => {
            println!("cpu = Flex, the CPU backend{}", if cfg!(feature = "flex") { "" } else { " (not in this build: feature `flex`)" });
            let gpu = cfg!(any(feature = "vulkan", feature = "wgpu"));
            if !gpu {
                println!("(no GPU backend in this build: build with --features vulkan)");
            }
            let adapters = trgl::device::adapters();
            if gpu && adapters.is_empty() {
                println!("(no GPU adapter found: is a Vulkan driver installed? VK_DRIVER_FILES names its ICD file)");
            }
            for a in adapters {
                println!("{a}");
            }
        }
        Command::Train { config, resume, set, force } => {
            let (config, dir) = match (&config, &resume) {
                (_, Some(run)) => {
                    trgl::train::checkpoint::find(run)?;
                    (Config::from_file(&run.join("config.toml"), &set)?, run.clone())
                }
                (Some(path), None) => {
                    let c = Config::from_file(path, &set)?;
                    let dir = c.output.dir.clone();
                    (c, dir)
                }
                (None, None) => bail!("give --config or --resume"),
            };
            if resume.is_none() {
                if let Some(aside) = trgl::train::run_dir::claim_new(&dir, force)? {
                    eprintln!("moved the run that was in {} to {}", dir.display(), aside.display());
                }
            }
            // Held until training ends: no second process starts, resumes or replaces this run meanwhile.
            let _lock = trgl::train::run_dir::lock(&dir)?;
            let data = trgl::data::open(&config.data)?;
            let label = config.train.mode.name();
            let outcome = match resume {
                Some(_) => train::resume(&config, &data, &dir, label)?,
                None => train::run(&config, &data, Some(&dir), label)?,
            };
            println!("{}", side_by_side(&[outcome.summary]));
            println!("run directory: {}", dir.display());
        }
        Command::Eval { run, set } => eval(&run, &set)?,
        Command::Info { models: true, .. } => {
            for (names, what) in trgl::model::registry::MODELS {
                println!("{names}\n    {what}");
            }
        }
        Command::Info { config, model, modules, split, batch, image_size, channels, classes, mut set, .. } => {
            if let Some(m) = model {
                set.push(format!("model.arch=\"{m}\""));
            }
            if let Some(k) = modules {
                set.push(format!("split.modules={k}"));
            }
            if let Some(s) = split {
                set.push(format!("split.method=\"{s}\""));
            }
            let config = match config {
                Some(p) => Config::from_file(&p, &set)?,
                None => Config::from_toml_str("", "defaults", &set)?,
            };
            info(&config, batch, image_size, channels, classes)?;
        }
        Command::Export { run, out, force } => {
            let default_out = run.join(trgl::train::export::SAFETENSORS_FILE);
            let out = out.unwrap_or_else(|| default_out.clone());
            trgl::train::export::check_export_path(&run, &out, force)?;
            trgl::integrity::verify(&run, WEIGHTS_FILE, false)?;
            let mut config = Config::from_file(&run.join("config.toml"), &[])?;
            config.output.progress = false;
            let pre = trgl::train::export::Preprocess::load(&run)?;
            let (_, _, network) = network_from_config(&config, pre.channels, pre.size, pre.classes.len())?;
            let weights = run.join(WEIGHTS_FILE);
            let network = network
                .try_load_file(&weights)
                .with_context(|| format!("{}: cannot load the run's weights", weights.display()))?;
            trgl::train::export::export_safetensors(&network, &out)?;
            if out == default_out {
                trgl::train::export::record_export_source(&run)?;
            }
            println!("wrote {}", out.display());
        }
        Command::Predict { run, exit, images } => {
            for p in trgl::train::export::predict(&run, &images, exit)? {
                println!("{}\t{}\t{}\t{:.4}", p.path.display(), p.class, p.name, p.probability);
            }
        }
        Command::Data { command } => cli::data::run(command)?,
        Command::Bench { command } => cli::bench::run(command)?,
        Command::Sweep(args) => cli::sweep::run(args)?,
        Command::Report(args) => cli::report::run(args)?,
        Command::Demo { set } => demo(&set)?,
    }
    Ok(())
}

fn eval(run: &Path, set: &[String]) -> Result<()> {
    // Before the data is read: damaged weights are refused at once.
    trgl::integrity::verify(run, WEIGHTS_FILE, false)?;
    let mut config = Config::from_file(&run.join("config.toml"), set)?;
    config.output.progress = false;
    let data = trgl::data::open(&config.data)?;
    let mut session = Session::new(&config, &data, None)?;
    let weights = run.join(WEIGHTS_FILE);
    session.network = session
        .network
        .clone()
        .try_load_file(&weights)
        .with_context(|| format!("{}: cannot load the run's weights", weights.display()))?;
    let k = session.modules();
    let accs = session.evaluate(0..k);
    println!("{:>6} {:>6} {:>10}", "module", "blocks", "test %");
    for (i, (a, b)) in accs.iter().zip(session.split.blocks_per_module()).enumerate() {
        println!("{:>6} {:>6} {:>10.2}", i + 1, b, 100.0 * a.unwrap_or(0.0));
    }
    Ok(())
}

fn info(config: &Config, batch: usize, image_size: usize, channels: usize, classes: usize) -> Result<()> {
    let (plan, split, network) = network_from_config(config, channels, image_size, classes)?;
    println!(
        "{} on {}×{}×{}, {} classes, K = {} ({:?} split), {} heads, batch {batch}",
        plan.name, channels, image_size, image_size, classes, split.len(), config.split.method, serde_json::to_string(&config.head.kind)?.trim_matches('"')
    );
    println!("{:>6} {:>8} {:>14} {:>12} {:>12} {:>14}", "module", "blocks", "units", "params", "head params", "activ. MiB");
    let k = split.len();
    let mut total = 0;
    for (m, (range, module)) in split.modules.iter().zip(&network.modules).enumerate() {
        let floats = module_activation_floats(&plan, range.clone(), &config.head, m + 1 == k);
        let mib = (floats * batch * 4) as f64 / (1 << 20) as f64;
        let params = trgl::model::trainable_params(module);
        total += params;
        println!(
            "{:>6} {:>8} {:>14} {:>12} {:>12} {:>14.1}",
            m + 1,
            range.clone().filter(|&u| u != 0).count(),
            format!("{}..{}", range.start, range.end),
            params,
            trgl::model::trainable_params(&module.head),
            mib
        );
    }
    // end to end = one module holding every unit, with the network's own head
    let e2e = module_activation_floats(&plan, 0..plan.units.len(), &config.head, true);
    println!("total parameters {total}; end-to-end activations ≈ {:.1} MiB", (e2e * batch * 4) as f64 / (1 << 20) as f64);
    if let Some(cuts) = infopro_balanced(&plan, k) {
        println!("InfoPro*'s memory-balanced cuts for this K: {cuts:?}");
    }
    Ok(())
}

fn demo(set: &[String]) -> Result<()> {
    let base = Config::from_toml_str(DEMO_CONFIG, "configs/demo.toml", set)?;
    let data = trgl::data::embedded_fashion_mnist();
    println!(
        "trgl demo: {} on {} ({} train images, {} % of each class held out for validation; {} test), K = {}, {} mode",
        base.model.arch, data.name, data.train.len(), 100.0 * base.data.val_fraction, data.test.len(), base.split.modules, base.train.mode.name()
    );
    let tau = base.method.tau;
    if !tau.is_finite() {
        bail!("the demo compares VanGL with TRGL: method.tau must be finite");
    }
    let mut summaries: Vec<RunSummary> = Vec::new();
    // A fresh folder each time (runs/demo, runs/demo-2, …): an earlier demo's runs are kept.
    let root = (1..)
        .map(|n| if n == 1 { base.output.dir.clone() } else { PathBuf::from(format!("{}-{n}", base.output.dir.display())) })
        .find(|d| ["vangl", "trgl"].iter().all(|r| matches!(trgl::train::run_dir::occupant(&d.join(r)), Ok(trgl::train::run_dir::Occupant::Nothing))))
        .expect("a free folder");
    for (label, tau) in [("VanGL (tau = inf)".to_string(), f64::INFINITY), (format!("TRGL (tau = {tau})"), tau)] {
        let mut config = base.clone();
        config.method.tau = tau;
        let dir = root.join(if tau.is_finite() { "trgl" } else { "vangl" });
        println!("training {label} …");
        let outcome = train::run(&config, &data, Some(&dir), &label)?;
        summaries.push(outcome.summary);
    }
    println!("\nTest accuracy of each module's head (final = after all training, best = over its epochs):\n");
    println!("{}", side_by_side(&summaries));
    let differences: Vec<String> = summaries[1]
        .modules
        .iter()
        .zip(&summaries[0].modules)
        .map(|(t, v)| match (t.final_acc, v.final_acc) {
            (Some(t), Some(v)) => format!("{:+.1}", 100.0 * (t - v)),
            _ => "–".to_string(),
        })
        .collect();
    println!("TRGL − VanGL, final test accuracy per module (points): {}\n", differences.join(", "));
    println!("{DEMO_EVIDENCE}\n");
    let (runs, skipped) = load_runs(&[root.clone()])?;
    let report = build(&runs, skipped, Some(("method.tau", "inf")));
    let out = root.join("report");
    write_all(&report, &out)?;
    println!("figure: {} (each module's final test accuracy, both methods); per epoch: {}", out.join("modules.png").display(), out.join("test_accuracy.png").display());
    println!("report: {}; metrics: {}/{{vangl,trgl}}/metrics.jsonl", out.join("report.html").display(), root.display());
    Ok(())
}
