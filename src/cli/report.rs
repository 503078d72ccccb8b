//! `trgl report DIR…`: runs and sweeps summarised by setting, with 95 % confidence intervals over seeds.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use trgl::report::aggregate::{build, load_runs};
use trgl::report::write::{markdown, write_all};

#[derive(Args)]
pub struct ReportArgs {
    /// Run directories and sweep directories.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where report.md, report.csv and report.json go (default: DIR/report for one directory, else
    /// runs/report).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Paired per-seed differences against this value of a field, e.g. `method.tau=inf` (the default where
    /// the runs vary τ and hold VanGL) or `train.mode="sequential"`.
    #[arg(long, value_name = "FIELD=VALUE")]
    compare: Option<String>,
    /// `val`: insist on validation figures (runs trained with data.val_fraction): each module's test accuracy
    /// at its best validation epoch, and τ chosen on validation where τ varies. They are reported whenever
    /// the runs have a validation split; with this flag, runs without one are an error.
    #[arg(long, value_name = "SPLIT", value_parser = ["val"])]
    select_on: Option<String>,
}

pub fn run(args: ReportArgs) -> Result<()> {
    let compare = match &args.compare {
        Some(c) => match c.split_once('=') {
            Some((f, v)) => Some((f.trim().to_string(), v.trim().to_string())),
            None => bail!("--compare is written FIELD=VALUE, e.g. --compare method.tau=inf"),
        },
        None => None,
    };
    let (runs, skipped) = load_runs(&args.dirs)?;
    if runs.is_empty() {
        bail!("no finished run under {}", args.dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    if let Some((field, _)) = &compare {
        if !runs.iter().any(|r| r.flat.contains_key(field)) {
            bail!("--compare: no config field `{field}` (fields are written as in --set, e.g. method.tau)");
        }
    }
    if args.select_on.is_some() && !runs.iter().any(|r| r.records.iter().any(|x| x.val_acc.is_some())) {
        bail!("--select-on val: no run has validation accuracies (train with data.val_fraction > 0)");
    }
    let report = build(&runs, skipped, compare.as_ref().map(|(f, v)| (f.as_str(), v.as_str())));
    let out = args.out.unwrap_or_else(|| if args.dirs.len() == 1 { args.dirs[0].join("report") } else { PathBuf::from("runs/report") });
    println!("{}", markdown(&report));
    for p in write_all(&report, &out)? {
        println!("wrote {}", p.display());
    }
    Ok(())
}
