//! trgl: module-wise (greedy, local) training of deep networks, with TRGL — Transport-Regularized Greedy
//! Learning (Karkar et al., NeurIPS 2023) — as its flagship.
//!
//! A network is a stem, blocks and a classifier ([`model`]), cut into K modules by a [`model::Split`];
//! each module trains on its detached input with its own head and optimizer, on the local loss of
//! [`transport`]; the modes of [`train`] schedule which module trains when.

pub mod alloc;
pub mod analyze;
pub mod bench;
pub(crate) mod checks;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod export;
pub mod flat;
pub mod integrity;
pub mod local_loss;
pub mod model;
pub mod readback;
pub mod report;
pub mod sweep;
pub mod threads;
pub mod train;
pub mod transport;

pub use config::Config;
pub use error::{Error, Result};
