//! Readers for the official distribution formats. Each turns the publisher's files into [`Splits`] of
//! compact u8 images, and every way a file can be wrong becomes an error naming the file.
//!
//! [`Splits`]: crate::data::Splits

pub mod cifar;
pub mod decode;
pub mod image_folder;
pub mod matv5;
pub mod stl10;
pub mod svhn;
pub mod tiny_imagenet;

use std::path::Path;

use crate::error::{Error, Result};

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}
