//! The `trgl` command line. With no arguments: the demo (VanGL then TRGL on the embedded data).

use anyhow::Result;
use clap::{Parser, Subcommand};

mod cli;

// Exact host-memory accounting for every run (metrics, summaries, `trgl bench memory`).
#[global_allocator]
static ALLOC: trgl::alloc::CountingAlloc = trgl::alloc::CountingAlloc;

#[derive(Parser)]
#[command(name = "trgl", version, about = "Module-wise training of deep networks with Transport-Regularized Greedy Learning")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Train as a TOML config says; writes config.toml, metrics.jsonl, weights.bpk and summary.json.
    Train(cli::train::TrainArgs),
    /// Test accuracy of every module's head of a finished run.
    Eval(cli::eval::EvalArgs),
    /// Each trained module measured as a map: kinetic energy, displacement, Lipschitz quantiles, optimality ratio (exact W2), Hölder fit, head loss, linear probe
    Analyze(cli::analyze::AnalyzeArgs),
    /// The split: each module's blocks, parameters and estimated activation memory (`--models`: the
    /// architectures there are).
    Info(cli::info::InfoArgs),
    /// Write a finished run's network (stem, modules, every head) as `model.safetensors` with PyTorch's names.
    Export(cli::export::ExportArgs),
    /// Classify image files with a run's exported network (run `trgl export` first).
    Predict(cli::predict::PredictArgs),
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
    Demo(cli::demo::DemoArgs),
}

fn main() -> Result<()> {
    trgl::alloc::keep_freed_memory();
    // Before any GPU work: `bench step` reports compilations in its timed steps (there should be none).
    #[cfg(any(feature = "vulkan", feature = "wgpu"))]
    trgl::bench::compilations::count_compilations();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Demo(cli::demo::DemoArgs::default())) {
        Command::Train(args) => cli::train::run(args)?,
        Command::Eval(args) => cli::eval::run(args)?,
        Command::Analyze(args) => cli::analyze::run(args)?,
        Command::Info(args) => cli::info::run(args)?,
        Command::Export(args) => cli::export::run(args)?,
        Command::Predict(args) => cli::predict::run(args)?,
        Command::Data { command } => cli::data::run(command)?,
        Command::Bench { command } => cli::bench::run(command)?,
        Command::Sweep(args) => cli::sweep::run(args)?,
        Command::Report(args) => cli::report::run(args)?,
        Command::Devices => cli::devices::run(),
        Command::Demo(args) => cli::demo::run(args)?,
    }
    Ok(())
}
