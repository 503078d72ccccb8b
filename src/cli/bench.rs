//! `trgl bench step|memory|loader`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use trgl::bench::loader::time_loader;
use trgl::bench::memory::memory_table;
use trgl::bench::step::{StepKind, time_steps};
use trgl::config::Config;
use trgl::train::session::Session;

#[derive(Args, Clone)]
pub struct Workload {
    /// Base config (default: the built-in defaults).
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, default_value = "resnet20")]
    model: String,
    #[arg(long, default_value_t = 4)]
    modules: usize,
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Synthetic images of this side (the step's cost does not depend on their content).
    #[arg(long, default_value_t = 32)]
    image_size: usize,
    #[arg(long, default_value_t = 3)]
    channels: usize,
    #[arg(long, default_value_t = 10)]
    classes: usize,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Train-step throughput (median of timed steps after warm-up) of e2e, parallel and sequential steps.
    Step {
        #[command(flatten)]
        workload: Workload,
        /// e2e | parallel | e2e+parallel | sequential (module 1 … K) | all | pipelined (whole passes of --steps batches,
        /// serial parallel mode against the pipelined mode with train.pipeline_workers workers)
        #[arg(long, default_value = "all")]
        mode: String,
        #[arg(long, default_value_t = 10)]
        steps: usize,
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        #[arg(long)]
        json: bool,
    },
    /// GPU only: each kernel's own time per step (cubecl's launch observer) against the step's wall time.
    Kernels {
        #[command(flatten)]
        workload: Workload,
        /// e2e | parallel | sequential (module 1 … K)
        #[arg(long, default_value = "parallel")]
        mode: String,
        #[arg(long, default_value_t = 5)]
        steps: usize,
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        /// Kernels listed one by one; the rest share a row.
        #[arg(long, default_value_t = 12)]
        top: usize,
        #[arg(long)]
        json: bool,
    },
    /// Peak host memory of e2e, sequential, multi-lap and parallel steps at the same batch, and the ratio to e2e.
    Memory {
        #[command(flatten)]
        workload: Workload,
        #[arg(long, default_value_t = 2)]
        steps: usize,
        #[arg(long)]
        json: bool,
    },
    /// Loader-only throughput on the config's dataset (augmentation included) against the throughput of
    /// the config's training step on the same batches.
    Loader {
        #[arg(long)]
        config: PathBuf,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Batches to draw from the loader (at most an epoch).
        #[arg(long, default_value_t = 100)]
        batches: usize,
        #[arg(long, default_value_t = 5)]
        steps: usize,
    },
}

fn session_for(w: &Workload, batches: usize) -> Result<Session> {
    // TRGL by default (the built-in default is τ = ∞); --set may change it.
    let mut set = vec!["method.tau=2.0".to_string()];
    set.extend(w.set.iter().cloned());
    set.push(format!("model.arch=\"{}\"", w.model));
    set.push(format!("split.modules={}", w.modules));
    set.push(format!("data.batch_size={}", w.batch));
    set.push("output.progress=false".into());
    let config = match &w.config {
        Some(p) => Config::from_file(p, &set)?,
        None => Config::from_toml_str("", "defaults", &set)?,
    };
    // Enough images for a pass of `batches` batches (the pipelined comparison streams them).
    let data = trgl::data::synthetic(w.batch * batches.max(1), 2, w.channels, w.image_size, w.classes, config.seed);
    Ok(Session::new(&config, &data, None)?)
}

fn mib(b: Option<usize>) -> String {
    b.map(|b| format!("{:.1}", b as f64 / (1u64 << 20) as f64)).unwrap_or_else(|| "-".into())
}

pub fn run(command: BenchCommand) -> Result<()> {
    match command {
        BenchCommand::Step { workload, mode, steps, warmup, json } => {
            let mut session = session_for(&workload, if mode == "pipelined" { steps } else { 1 })?;
            let k = session.modules();
            if mode == "pipelined" {
                let serial = trgl::bench::step::time_epochs(&mut session, false, steps)?;
                let piped = trgl::bench::step::time_epochs(&mut session, true, steps)?;
                println!("{} K={} batch {} on {}: passes of {steps} batches, loader included", workload.model, k, workload.batch, session.config.device);
                for t in [&serial, &piped] {
                    println!("{:<24} {:>10.1} img/s", t.kind, t.images_per_second);
                }
                println!("pipelined / serial: {:.2}×", piped.images_per_second / serial.images_per_second);
                return Ok(());
            }
            let kinds: Vec<StepKind> = match mode.as_str() {
                "e2e" => vec![StepKind::E2e],
                "parallel" => vec![StepKind::Parallel],
                "e2e+parallel" => vec![StepKind::E2e, StepKind::Parallel],
                "sequential" => (0..k).map(StepKind::Sequential).collect(),
                "all" => [vec![StepKind::E2e, StepKind::Parallel], (0..k).map(StepKind::Sequential).collect()].concat(),
                other => anyhow::bail!("--mode {other}: expected e2e, parallel, e2e+parallel, sequential, all or pipelined"),
            };
            let timings = kinds.into_iter().map(|kind| time_steps(&mut session, kind, warmup, steps)).collect::<trgl::Result<Vec<_>>>()?;
            if json {
                let report = serde_json::json!({
                    "model": workload.model,
                    "bounds": session.split.modules.iter().skip(1).map(|r| r.start).collect::<Vec<_>>(),
                    "params": session.trainer.network.modules.iter().map(trgl::model::trainable_params).sum::<usize>(),
                    "config": session.config,
                    "image_size": workload.image_size, "channels": workload.channels, "classes": workload.classes,
                    "timings": timings,
                });
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{} K={} batch {} on {} ({} timed steps after {} warm-up; median)", workload.model, k, workload.batch, session.config.device, steps, warmup);
                println!("{:<22} {:>12} {:>10} {:>12} {:>9}", "step", "ms/step", "img/s", "first step s", "compiled");
                for t in &timings {
                    let first = t.first_step_seconds.map_or("-".into(), |s| format!("{s:.2}"));
                    // kernels compiled during the timed steps, where counted (GPU builds)
                    let compiled = t.compiled_in_timed_steps.map_or("-".into(), |n| n.to_string());
                    println!("{:<22} {:>12.1} {:>10.1} {first:>12} {compiled:>9}", t.kind, 1000.0 * t.median_seconds, t.images_per_second);
                }
            }
        }
        BenchCommand::Kernels { workload, mode, steps, warmup, top, json } => {
            let mut session = session_for(&workload, 1)?;
            let k = session.modules();
            let kinds: Vec<StepKind> = match mode.as_str() {
                "e2e" => vec![StepKind::E2e],
                "parallel" => vec![StepKind::Parallel],
                "sequential" => (0..k).map(StepKind::Sequential).collect(),
                other => anyhow::bail!("--mode {other}: expected e2e, parallel or sequential"),
            };
            kernels(&mut session, &workload, kinds, warmup, steps, top, json)?;
        }
        BenchCommand::Memory { workload, steps, json } => {
            if !trgl::alloc::counting() {
                anyhow::bail!("the counting allocator is not installed in this binary");
            }
            let mut session = session_for(&workload, 1)?;
            let rows = memory_table(&mut session, steps)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!("{} K={} batch {}: peak host memory of training steps (above weights and data)", workload.model, session.modules(), workload.batch);
                println!("{:<12} {:>12} {:>10}   per module (MiB)", "mode", "peak MiB", "vs e2e");
                for r in &rows {
                    let per: Vec<String> = r.per_module.iter().map(|m| mib(m.peak_alloc_bytes)).collect();
                    let ratio = r.ratio_to_e2e.map(|x| format!("{:.1} %", 100.0 * x)).unwrap_or_default();
                    println!("{:<12} {:>12} {:>10}   {}", r.mode, mib(r.peak_alloc_bytes), ratio, per.join(" / "));
                }
            }
        }
        BenchCommand::Loader { config, set, batches, steps } => {
            let config = Config::from_file(&config, &set)?;
            let start = std::time::Instant::now();
            let data = trgl::data::open(&config.data)?;
            let open_s = start.elapsed().as_secs_f64();
            let mut session = Session::new(&config, &data, None)?;
            let loader = time_loader(&session.loaders.train, batches);
            let step = time_steps(&mut session, StepKind::Parallel, 1, steps)?;
            println!("{}: {} train images opened in {open_s:.1} s", data.name, data.train.len());
            println!(
                "loader ({} workers, augmentation {}): {:.0} img/s ({} images in {:.2} s)",
                config.data.workers,
                if config.data.augment.crop_padding > 0 || config.data.augment.flip { "on" } else { "off" },
                loader.images_per_second,
                loader.images,
                loader.seconds
            );
            println!("{} K={} parallel train step at batch {}: {:.1} img/s", config.model.arch, session.modules(), config.data.batch_size, step.images_per_second);
            println!("loader / train step: {:.1}×", loader.images_per_second / step.images_per_second);
        }
    }
    Ok(())
}

#[cfg(any(feature = "vulkan", feature = "wgpu"))]
fn kernels(session: &mut Session, w: &Workload, kinds: Vec<StepKind>, warmup: usize, steps: usize, top: usize, json: bool) -> Result<()> {
    if session.config.device == "cpu" {
        anyhow::bail!("`bench kernels` profiles GPU kernels: give it a GPU device, e.g. --set 'device=\"vulkan:0\"'");
    }
    let profiles = kinds.into_iter().map(|kind| trgl::bench::kernels::profile_kernels(session, kind, warmup, steps, top)).collect::<trgl::Result<Vec<_>>>()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&profiles)?);
    } else {
        println!("{} K={} batch {} on {} ({} profiled steps after {} warm-up)", w.model, session.modules(), w.batch, session.config.device, steps, warmup);
        for p in &profiles {
            println!("{}", p.table());
        }
    }
    Ok(())
}

#[cfg(not(any(feature = "vulkan", feature = "wgpu")))]
fn kernels(_: &mut Session, _: &Workload, _: Vec<StepKind>, _: usize, _: usize, _: usize, _: bool) -> Result<()> {
    anyhow::bail!("`bench kernels` profiles GPU kernels: build trgl with --features vulkan")
}
