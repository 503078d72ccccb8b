//! Errors of the library. The CLI wraps them in `anyhow` at its edge.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config field has a value the run cannot use; `field` is its dotted TOML path.
    #[error("config field `{field}`: {message}")]
    Config { field: String, message: String },

    /// A config file that is not valid TOML, or whose fields do not match the schema.
    #[error("config {path}: {message}")]
    ConfigParse { path: String, message: String },

    /// A data file that does not hold what its format promises.
    #[error("{}: {message}", path.display())]
    Data { path: PathBuf, message: String },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A requested split that cannot be made for the model (too many modules, a cut out of range).
    #[error("split: {0}")]
    Split(String),

    /// Saved weights that cannot be written or do not fit the network.
    #[error("{}: {message}", path.display())]
    Weights { path: PathBuf, message: String },

    /// A loss that became NaN or infinite: training stops rather than produce garbage.
    #[error("non-finite loss ({value}) in module {module}, epoch {epoch}, step {step}")]
    NonFinite { module: usize, epoch: usize, step: usize, value: f32 },
}

impl Error {
    pub fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config { field: field.into(), message: message.into() }
    }

    pub fn data(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data { path: path.into(), message: message.into() }
    }

    /// A non-finite loss named by the epoch of the module's own training (a mode whose passes over the
    /// data are not the module's epochs says which one it was).
    pub fn in_epoch(self, epoch: usize) -> Self {
        match self {
            Error::NonFinite { module, step, value, .. } => Error::NonFinite { module, epoch, step, value },
            other => other,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
