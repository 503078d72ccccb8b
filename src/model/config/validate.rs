//! The checks of the model's sections. Apart from the section structs (`config/mod.rs`) because the model
//! check plans the network, and the planner reads those structs.

use super::{HeadSpec, ModelConfig, SplitConfig};
use crate::checks::positive;
use crate::error::{Error, Result};
use crate::model::registry::plan_for;
use crate::model::split::SplitMethod;

impl ModelConfig {
    /// Checks the `[model]` section; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        // The plan for a nominal input: only the name and width are checked here.
        plan_for(self, 3, 32, 10)?;
        if let Some(w) = self.width {
            positive("model.width", w)?;
        }
        if !(self.init_gain.is_finite() && self.init_gain > 0.0) {
            return Err(Error::config("model.init_gain", "must be a finite number > 0"));
        }
        Ok(())
    }
}

/// Checks the `[split]` and `[head]` sections, which depend on each other (one pooling kernel per module);
/// the error names the first bad field.
pub fn validate_split_and_head(split: &SplitConfig, head: &HeadSpec) -> Result<()> {
    positive("split.modules", split.modules)?;
    let kernels = &head.pool_kernels;
    if !kernels.is_empty() && kernels.len() != split.modules {
        return Err(Error::config("head.pool_kernels", format!("{} kernels for {} modules: give one per module", kernels.len(), split.modules)));
    }
    if kernels.as_vec().contains(&0) {
        return Err(Error::config("head.pool_kernels", "a pooling kernel must be at least 1"));
    }
    match split.method {
        SplitMethod::Cuts if split.cuts.len() + 1 != split.modules => {
            return Err(Error::config(
                "split.cuts",
                format!("{} cuts make {} modules, but split.modules = {}", split.cuts.len(), split.cuts.len() + 1, split.modules),
            ));
        }
        SplitMethod::Cuts => {}
        _ if !split.cuts.is_empty() => {
            return Err(Error::config("split.cuts", "is only used with split.method = \"cuts\""));
        }
        _ => {}
    }
    positive("head.pool", head.pool)?;
    positive("head.hidden", head.hidden)?;
    Ok(())
}
