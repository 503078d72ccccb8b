//! Measurements side by side: training-step throughput, host memory per mode, loader throughput.

#[cfg(any(feature = "vulkan", feature = "wgpu"))]
pub mod compilations;
#[cfg(any(feature = "vulkan", feature = "wgpu"))]
pub mod kernels;
pub mod loader;
pub mod memory;
pub mod step;

