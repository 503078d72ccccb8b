//! The metrics file: JSON lines, one record per (epoch, module).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub mode: String,
    /// `train`: after an epoch of the module; `final`: every module once training is over.
    pub phase: String,
    /// Multilap: the lap, from 1 (else 1).
    pub lap: usize,
    /// From 1.
    pub module: usize,
    /// Epoch of this module's training, from 1 (the last epoch for `final`).
    pub epoch: usize,
    pub lr: f64,
    pub train_loss: f64,
    pub ce: f64,
    pub kinetic_energy: f64,
    /// Effective τ_k; `null` for τ = ∞ (VanGL).
    pub tau: Option<f64>,
    pub train_acc: f64,
    pub test_acc: Option<f64>,
    /// Accuracy on the validation split held out from training (`data.val_fraction`); absent without one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub val_acc: Option<f64>,
    pub steps: usize,
    /// Wall-clock seconds of the epoch (absent when `output.timings` is off).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seconds: Option<f64>,
    /// Peak host bytes allocated while the epoch trained (evaluation excluded), above what was live before
    /// it: weights and data are not counted, activations, gradients and optimizer state are. Absent when
    /// the counting allocator is not installed (the `trgl` binary installs it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peak_alloc_bytes: Option<usize>,
    /// The process's peak RSS at the end of the epoch's training (reset at its start on Linux).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peak_rss_bytes: Option<usize>,
    /// What happened to the run before this record that a reader must know of (a resume with a changed
    /// output setting); usually absent.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub events: Vec<String>,
}

pub struct MetricsWriter {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    pub records: Vec<Record>,
    /// Events for the next record written.
    pub pending_events: Vec<String>,
}

impl MetricsWriter {
    /// Writes to `path` (created, truncated); `None` keeps records in memory only.
    pub fn create(path: Option<&Path>) -> Result<Self> {
        let out = match path {
            Some(p) => Some(BufWriter::new(File::create(p).map_err(|e| Error::io(p, e))?)),
            None => None,
        };
        Ok(MetricsWriter { path: path.map(Path::to_path_buf).unwrap_or_default(), out, records: Vec::new(), pending_events: Vec::new() })
    }

    /// Continues the metrics file at `path` after its first `keep` records (those a checkpoint covers);
    /// later lines, written after that checkpoint, are dropped.
    pub fn resume(path: &Path, keep: usize) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let lines: Vec<&str> = text.lines().take(keep).collect();
        if lines.len() < keep {
            return Err(Error::data(path, format!("{} records, the checkpoint covers {keep}: the metrics file does not belong to this checkpoint", lines.len())));
        }
        let records = lines
            .iter()
            .enumerate()
            .map(|(i, l)| serde_json::from_str(l).map_err(|e| Error::data(path, format!("record {}: {e}", i + 1))))
            .collect::<Result<Vec<Record>>>()?;
        let mut body = lines.join("\n");
        if !body.is_empty() {
            body.push('\n');
        }
        std::fs::write(path, body).map_err(|e| Error::io(path, e))?;
        let file = std::fs::OpenOptions::new().append(true).open(path).map_err(|e| Error::io(path, e))?;
        Ok(MetricsWriter { path: path.to_path_buf(), out: Some(BufWriter::new(file)), records, pending_events: Vec::new() })
    }

    pub fn write(&mut self, mut record: Record) -> Result<()> {
        record.events.append(&mut self.pending_events);
        if let Some(out) = &mut self.out {
            let line = serde_json::to_string(&record).expect("a record serialises");
            writeln!(out, "{line}").and_then(|_| out.flush()).map_err(|e| Error::io(&self.path, e))?;
        }
        self.records.push(record);
        Ok(())
    }
}
