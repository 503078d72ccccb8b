//! Exporting a trained network for other tools, and what `predict` needs to preprocess images as training did.
//!
//! `model.safetensors` holds the assembled network — stem, every module's blocks, every module's head (the
//! last one is the network's own classifier; the others allow early exits) — with PyTorch's conventions:
//! `weight`/`bias` for BatchNorm's γ/β, `running_mean`/`running_var`, linear weights as [out, in], names
//! like `modules.0.blocks.1.conv1.weight` (no enum variant names). `preprocess.json` records the input shape,
//! the normalisation and the class names of the training data.

pub mod files;
pub mod predict;
pub mod preprocess;
pub mod safetensors;

pub use files::{PREPROCESS_FILE, SAFETENSORS_FILE, SOURCE_FILE};
pub use predict::{Prediction, predict};
pub use preprocess::Preprocess;
pub use safetensors::{check_export_path, export_safetensors, import_safetensors, record_export_source};
