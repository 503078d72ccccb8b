//! Picking the compute device at run time: one code path for every backend.

use burn::tensor::Device;

use crate::error::{Error, Result};

/// The devices of a comma-separated list (`vulkan:0,vulkan:1`): the pipelined mode gives each worker one;
/// everything else runs on the first.
pub fn parse_devices(spec: &str) -> Result<Vec<Device>> {
    spec.split(',').map(|d| parse_one(d.trim())).collect()
}

/// The main device of `spec` (its first entry).
pub fn parse_device(spec: &str) -> Result<Device> {
    Ok(parse_devices(spec)?.swap_remove(0))
}

/// `cpu` (Flex), `vulkan:N` (feature `vulkan`), `cuda:N` (feature `tch`, libtorch CUDA).
fn parse_one(spec: &str) -> Result<Device> {
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
