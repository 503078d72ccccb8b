//! Field checks shared by the validation of the config sections (each section validates its own fields,
//! in its owner's `config` module); the error names the field, as `Error::config` does.

use crate::error::{Error, Result};

/// A count that must be at least 1.
pub(crate) fn positive(field: &str, v: usize) -> Result<()> {
    if v == 0 { Err(Error::config(field, "must be at least 1")) } else { Ok(()) }
}

/// A number that must be finite and ≥ 0.
pub(crate) fn finite_nonneg(field: &str, v: f64) -> Result<()> {
    if !v.is_finite() || v < 0.0 { Err(Error::config(field, format!("must be a finite number ≥ 0, got {v}"))) } else { Ok(()) }
}
