//! `preprocess.json`: how images were fed to the network in training, so that `predict` feeds them alike.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::files::PREPROCESS_FILE;
use crate::data::ImageSet;
use crate::error::{Error, Result};

const MAX_CHANNELS: usize = 4;
const MAX_SIZE: usize = 4096;
const MAX_CLASSES: usize = 100_000;

/// How images were fed to the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    pub channels: usize,
    pub size: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub classes: Vec<String>,
}

impl Preprocess {
    pub fn of(train: &ImageSet) -> Self {
        let (mean, std) = train.channel_stats();
        Preprocess { channels: train.channels, size: train.height, mean, std, classes: train.classes.clone() }
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        let p = dir.join(PREPROCESS_FILE);
        std::fs::write(&p, serde_json::to_string_pretty(self).expect("serialises")).map_err(|e| Error::io(&p, e))
    }

    pub fn load(dir: &Path) -> Result<Self> {
        let p = dir.join(PREPROCESS_FILE);
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        let pre: Preprocess = serde_json::from_str(&text).map_err(|e| Error::data(&p, format!("corrupt: {e}")))?;
        pre.check().map_err(|m| Error::data(&p, m))?;
        Ok(pre)
    }

    /// Sizes are checked before anything is allocated from them: a corrupt or hostile file could ask for
    /// a network and image buffers of any size.
    fn check(&self) -> std::result::Result<(), String> {
        if !(1..=MAX_CHANNELS).contains(&self.channels) {
            return Err(format!("channels = {}: expected 1 to {MAX_CHANNELS}", self.channels));
        }
        if !(1..=MAX_SIZE).contains(&self.size) {
            return Err(format!("size = {}: expected 1 to {MAX_SIZE} pixels", self.size));
        }
        if !(1..=MAX_CLASSES).contains(&self.classes.len()) {
            return Err(format!("{} classes: expected 1 to {MAX_CLASSES}", self.classes.len()));
        }
        if self.mean.len() != self.channels || self.std.len() != self.channels {
            return Err(format!("{} means and {} standard deviations for {} channels", self.mean.len(), self.std.len(), self.channels));
        }
        if let Some(s) = self.std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(format!("standard deviation {s}: expected a positive number"));
        }
        if let Some(m) = self.mean.iter().find(|m| !m.is_finite()) {
            return Err(format!("mean {m}: expected a finite number"));
        }
        Ok(())
    }
}
