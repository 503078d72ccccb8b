//! Picking the compute device at run time: one code path for every backend.

use burn::tensor::Device;

use crate::error::{Error, Result};

/// `cpu` (Flex), `vulkan:N` (feature `vulkan`), `cuda:N` (feature `tch`, libtorch CUDA).
pub fn parse_device(spec: &str) -> Result<Device> {
    let (kind, index) = match spec.split_once(':') {
        Some((k, i)) => {
            let i = i.parse::<usize>().map_err(|_| Error::config("device", format!("`{spec}`: the device index must be a number")))?;
            (k, i)
        }
        None => (spec, 0),
    };
    match kind {
        #[cfg(feature = "flex")]
        "cpu" => Ok(Device::flex()),
        #[cfg(feature = "vulkan")]
        "vulkan" => Ok(Device::vulkan(burn::tensor::DeviceKind::DiscreteGpu(index))),
        #[cfg(feature = "tch")]
        "cuda" => Ok(Device::libtorch_cuda(index)),
        #[allow(unreachable_patterns)]
        "cpu" | "vulkan" | "cuda" => {
            let _ = index;
            Err(Error::config("device", format!("`{spec}` needs trgl built with the feature `{}`", match kind { "cpu" => "flex", "cuda" => "tch", k => k })))
        }
        _ => Err(Error::config("device", format!("unknown device `{spec}`; expected cpu, vulkan:N or cuda:N"))),
    }
}
