//! `model.safetensors`: the network in PyTorch's names and layouts, written beside the run's weights with
//! a record of which weights it came from, and read back.

use std::path::Path;

use burn::module::Module;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};

use super::files::{SAFETENSORS_FILE, SOURCE_FILE};
use crate::error::{Error, Result};
use crate::model::Network;
use crate::train::WEIGHTS_FILE;
use crate::train::run_dir::RUN_FILES;

#[derive(Serialize, Deserialize)]
struct ExportSource {
    weights_sha256: String,
}

/// Writes `network` (inference copy, without its local losses' decoders or projections) to `path` as
/// safetensors with PyTorch's names and layouts.
pub fn export_safetensors(network: &Network, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_file(path).with_to_adapter(BurnToPyTorchAdapter).skip_enum_variants(true).overwrite(true);
    network.valid().without_aux().save_into(&mut store).map_err(|e| Error::Weights { path: path.to_path_buf(), message: e.to_string() })?;
    // The store creates its file owner-only (0600); an export is for other tools and people to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Where `trgl export` may write: the run's own export, or a path that is neither a file of the run nor an
/// existing file (unless `force`).
pub fn check_export_path(run_dir: &Path, out: &Path, force: bool) -> Result<()> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let in_run = parent.canonicalize().ok().zip(run_dir.canonicalize().ok()).is_some_and(|(p, r)| p == r);
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if in_run && name == SAFETENSORS_FILE {
        return Ok(());
    }
    if in_run && (RUN_FILES.contains(&name.as_str()) || name == SOURCE_FILE) {
        return Err(Error::data(out, "is one of the run's own files: choose another --out"));
    }
    if out.is_dir() {
        return Err(Error::data(out, "is a folder: --out names the file to write"));
    }
    if out.exists() && !force {
        return Err(Error::data(out, "exists; nothing was written (--force replaces it)"));
    }
    Ok(())
}

/// Records, beside the run's export, the checksum of the weights it came from, and its own in the run's
/// `SHA256SUMS`.
pub fn record_export_source(run_dir: &Path) -> Result<()> {
    let source = ExportSource { weights_sha256: crate::integrity::sha256_file(&run_dir.join(WEIGHTS_FILE))? };
    let p = run_dir.join(SOURCE_FILE);
    std::fs::write(&p, serde_json::to_string_pretty(&source).expect("serialises")).map_err(|e| Error::io(&p, e))?;
    crate::integrity::record(run_dir, &[SAFETENSORS_FILE])
}

/// The run's export, checked: present, unchanged since it was written, and made from the run's current
/// weights (a run trained further after its export would otherwise predict with the old network).
pub(crate) fn checked_export(run_dir: &Path) -> Result<std::path::PathBuf> {
    let (st, sp) = (run_dir.join(SAFETENSORS_FILE), run_dir.join(SOURCE_FILE));
    if !st.is_file() {
        return Err(Error::data(&st, format!("no export: run `trgl export {}` first", run_dir.display())));
    }
    let text = std::fs::read_to_string(&sp).map_err(|_| {
        Error::data(&sp, format!("missing: which weights {SAFETENSORS_FILE} came from is unknown; run `trgl export {}` again", run_dir.display()))
    })?;
    let source: ExportSource = serde_json::from_str(&text).map_err(|e| Error::data(&sp, format!("corrupt: {e}")))?;
    crate::integrity::verify(run_dir, SAFETENSORS_FILE, true)?;
    if crate::integrity::sha256_file(&run_dir.join(WEIGHTS_FILE))? != source.weights_sha256 {
        return Err(Error::data(
            &st,
            format!("is stale: it was exported from other weights than the run's {} now; run `trgl export {}` again", WEIGHTS_FILE, run_dir.display()),
        ));
    }
    Ok(st)
}

/// Reads a network exported by [`export_safetensors`] into `network` (same architecture and split).
pub fn import_safetensors(network: Network, path: &Path) -> Result<Network> {
    let mut network = network.without_aux();
    let mut store = SafetensorsStore::from_file(path).with_from_adapter(burn::store::PyTorchToBurnAdapter).skip_enum_variants(true);
    let result = network.load_from(&mut store).map_err(|e| Error::Weights { path: path.to_path_buf(), message: e.to_string() })?;
    if !result.missing.is_empty() || !result.errors.is_empty() {
        return Err(Error::Weights {
            path: path.to_path_buf(),
            message: format!("does not fit the run's network: missing {:?}, errors {:?}", result.missing, result.errors),
        });
    }
    Ok(network)
}
