//! `trgl demo` (and `trgl` alone): sequential VanGL then TRGL on the embedded Fashion-MNIST subset, side
//! by side, with a report of the two runs.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use trgl::config::Config;
use trgl::report::aggregate::{build, load_runs};
use trgl::report::write::write_all;
use trgl::report::{RunSummary, side_by_side};
use trgl::train;

const DEMO_CONFIG: &str = include_str!("../../configs/demo.toml");

/// What the evidence says about the demo's setting (REPRODUCTION.md, "The demo"): one run cannot say it,
/// so the demo states it beside its own numbers. Change it only with that section.
const DEMO_EVIDENCE: &str = "One seed's difference is mostly seed-to-seed noise. The demo's τ was chosen on the validation split \
over seeds 0–4 and was not confirmed on the test set over seeds 5–9, and at CPU scale no setting has yet shown TRGL \
above VanGL at the last module: REPRODUCTION.md gives the sweeps, with 95 % intervals.";

#[derive(Args, Default)]
pub struct DemoArgs {
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

pub fn run(args: DemoArgs) -> Result<()> {
    let set = &args.set;
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
    // The report pairs the two runs by seed: its comparison is the per-module difference the demo prints.
    let (runs, skipped) = load_runs(&[root.clone()])?;
    let report = build(&runs, skipped, Some(("method.tau", "inf")));
    let comparison = report.comparisons.first().context("the demo's report pairs no TRGL run with VanGL")?;
    let differences: Vec<String> = comparison
        .modules
        .iter()
        .map(|m| m.final_acc.as_ref().map_or("–".to_string(), |d| format!("{:+.1}", 100.0 * d.mean)))
        .collect();
    println!("TRGL − VanGL, final test accuracy per module (points): {}\n", differences.join(", "));
    println!("{DEMO_EVIDENCE}\n");
    let out = root.join("report");
    write_all(&report, &out)?;
    println!("figure: {} (each module's final test accuracy, both methods); per epoch: {}", out.join("modules.png").display(), out.join("test_accuracy.png").display());
    println!("report: {}; metrics: {}/{{vangl,trgl}}/metrics.jsonl", out.join("report.html").display(), root.display());
    Ok(())
}
