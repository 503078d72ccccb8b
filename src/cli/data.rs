//! `trgl data list|fetch|check`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Subcommand;

use trgl::data::config::DataConfig;
use trgl::data::catalog::{CATALOG, dataset_dir, find};
use trgl::data::fetch::{check_files, fetch};
use trgl::data::{ImageSet, data_root};

#[derive(Subcommand)]
pub enum DataCommand {
    /// The datasets trgl reads, and where it looks for them.
    List,
    /// Download a dataset from its official URL (resuming partial files), verify its checksums, unpack it.
    Fetch {
        name: String,
        /// Folder to put it in (default: the data root's <name>).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Verify a dataset's files against the published checksums, read it, and print its counts.
    Check {
        name: String,
        #[arg(long)]
        dir: Option<PathBuf>,
        /// JPEG/PNG datasets: resize to this side.
        #[arg(long)]
        resize: Option<usize>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn set_report(set: &ImageSet) -> serde_json::Value {
    let mut per_class = vec![0usize; set.classes.len()];
    for &l in &set.labels {
        per_class[l as usize] += 1;
    }
    let (mean, std) = set.channel_stats();
    serde_json::json!({
        "images": set.len(), "shape": [set.channels, set.height, set.width], "classes": set.classes.len(),
        "per_class": per_class, "mean": mean, "std": std,
    })
}

pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::List => {
            println!("data root: {} (set TRGL_DATA_DIR to change it)\n", data_root().display());
            println!("{:<19} {:<9} about", "name", "download");
            println!("{:<19} {:<9} the embedded Fashion-MNIST subset (6 000 / 1 000), no files needed", trgl::data::EMBEDDED, "-");
            for d in CATALOG {
                println!("{:<19} {:<9} {}", d.name, if d.remote.is_empty() { "-" } else { "fetch" }, d.about);
            }
        }
        DataCommand::Fetch { name, dir } => {
            let info = find(&name)?;
            let dir = dataset_dir(info, dir.as_deref());
            for f in fetch(info, &dir)? {
                println!("ok {}", f.display());
            }
            println!("{} is in {}", info.name, dir.display());
        }
        DataCommand::Check { name, dir, resize, json } => {
            let info = find(&name)?;
            let dir = dataset_dir(info, dir.as_deref());
            let checked = check_files(info, &dir)?;
            let bad: Vec<_> = checked.iter().filter(|c| !c.ok()).collect();
            let config = DataConfig { dataset: name.clone(), dir: Some(dir.clone()), resize, cache: false, ..DataConfig::default() };
            let splits = if bad.is_empty() { Some(trgl::data::open(&config)?) } else { None };
            let report = serde_json::json!({
                "dataset": info.name,
                "dir": dir,
                "files": checked.iter().map(|c| serde_json::json!({"path": c.path, "md5": c.md5, "expected": c.expected, "ok": c.ok()})).collect::<Vec<_>>(),
                "train": splits.as_ref().map(|s| set_report(&s.train)),
                "test": splits.as_ref().map(|s| set_report(&s.test)),
            });
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for c in &checked {
                    println!("{} {} md5 {}", if c.ok() { "ok      " } else { "MISMATCH" }, c.path.display(), c.md5);
                }
                if checked.is_empty() {
                    println!("(the publisher gives no checksum for these files; reading them checks their structure)");
                }
                if let Some(s) = &splits {
                    for (split, set) in [("train", &s.train), ("test", &s.test)] {
                        let r = set_report(set);
                        println!("{split}: {} images of {}×{}×{}, {} classes, per class {}", set.len(), set.channels, set.height, set.width, set.classes.len(), r["per_class"]);
                    }
                }
            }
            if !bad.is_empty() {
                bail!("{} file(s) do not match the published checksum: {}", bad.len(), bad.iter().map(|c| format!("{} (md5 {}, expected {})", c.path.display(), c.md5, c.expected)).collect::<Vec<_>>().join(", "));
            }
        }
    }
    Ok(())
}
