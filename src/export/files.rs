//! The names of the files an export adds to a run directory (a run directory's own files are listed in
//! `train::run_dir`, which refuses to start a run over them).

pub const PREPROCESS_FILE: &str = "preprocess.json";
/// The export `trgl export` writes into the run directory, and `predict` reads.
pub const SAFETENSORS_FILE: &str = "model.safetensors";
/// Beside it: which weights it was exported from, so that `predict` never uses a stale export.
pub const SOURCE_FILE: &str = "model.safetensors.json";
