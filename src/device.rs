//! Picking the compute device at run time: one code path for every backend.
//!
//! Spellings (`device = "…"`, comma-separated for the pipelined mode's workers):
//! - `cpu`: Flex, the pure-Rust CPU backend (feature `flex`, the default);
//! - `vulkan` or `vulkan:N`: the N-th discrete GPU through Vulkan; `vulkan:discrete:N`,
//!   `vulkan:integrated:N`, `vulkan:virtual:N` and `vulkan:cpu` (a software driver such as Mesa's
//!   lavapipe) name the other adapter kinds, `vulkan:default` lets wgpu choose (the
//!   `CUBECL_WGPU_DEFAULT_DEVICE` variable overrides its choice). Kernels are SPIR-V with the feature
//!   `vulkan`, WGSL (compiled by wgpu's naga) with the feature `wgpu` alone;
//! - `wgpu:KIND`: the same adapter kinds on whichever graphics API wgpu settles on;
//! - `cuda:N`: libtorch's CUDA device N (feature `tch`).
//!
//! A GPU adapter is opened when its spelling is parsed, so that a missing one is an error naming the
//! adapters that do exist (`trgl devices` lists them), not a panic at the first tensor.

use burn::tensor::Device;

use crate::error::{Error, Result};

/// A kind of wgpu adapter, and its index among the adapters of that kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdapterKind {
    Discrete(usize),
    Integrated(usize),
    Virtual(usize),
    Cpu,
    Default,
}

/// A parsed device spelling, before any backend is touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceSpec {
    Cpu,
    /// wgpu pinned to the Vulkan API.
    Vulkan(AdapterKind),
    /// wgpu on the API it prefers.
    Wgpu(AdapterKind),
    Cuda(usize),
}

const SPELLINGS: &str = "cpu, vulkan:N, vulkan:discrete:N, vulkan:integrated:N, vulkan:virtual:N, vulkan:cpu, vulkan:default, wgpu:… (the same kinds), cuda:N";

/// Reads one spelling (see the module's documentation).
pub fn parse_spec(spec: &str) -> Result<DeviceSpec> {
    let bad = |why: String| Error::config("device", format!("`{spec}`: {why}; expected one of {SPELLINGS}"));
    let index = |s: &str| s.parse::<usize>().map_err(|_| bad(format!("`{s}` is not a device index (0, 1, …)")));
    let parts: Vec<&str> = spec.trim().split(':').collect();
    let adapter = |rest: &[&str]| -> Result<AdapterKind> {
        Ok(match rest {
            [] => AdapterKind::Discrete(0),
            ["cpu"] => AdapterKind::Cpu,
            ["default"] => AdapterKind::Default,
            ["discrete"] => AdapterKind::Discrete(0),
            ["integrated"] => AdapterKind::Integrated(0),
            ["virtual"] => AdapterKind::Virtual(0),
            ["discrete", i] => AdapterKind::Discrete(index(i)?),
            ["integrated", i] => AdapterKind::Integrated(index(i)?),
            ["virtual", i] => AdapterKind::Virtual(index(i)?),
            [i] if i.chars().all(|c| c.is_ascii_digit()) => AdapterKind::Discrete(index(i)?),
            _ => return Err(bad(format!("unknown adapter `{}`", rest.join(":")))),
        })
    };
    match parts.as_slice() {
        ["cpu"] => Ok(DeviceSpec::Cpu),
        ["cuda"] => Ok(DeviceSpec::Cuda(0)),
        ["cuda", i] => Ok(DeviceSpec::Cuda(index(i)?)),
        ["vulkan", rest @ ..] => Ok(DeviceSpec::Vulkan(adapter(rest)?)),
        ["wgpu", rest @ ..] => Ok(DeviceSpec::Wgpu(adapter(rest)?)),
        _ => Err(bad("unknown device".into())),
    }
}

/// The devices of a comma-separated list (`vulkan:0,vulkan:1`): the pipelined mode gives each worker one;
/// everything else runs on the first.
pub fn parse_devices(spec: &str) -> Result<Vec<Device>> {
    spec.split(',').map(|d| open(parse_spec(d)?, d.trim())).collect()
}

/// The main device of `spec` (its first entry).
pub fn parse_device(spec: &str) -> Result<Device> {
    Ok(parse_devices(spec)?.swap_remove(0))
}

fn needs(feature: &str, spec: &str) -> Error {
    Error::config("device", format!("`{spec}` needs trgl built with the feature `{feature}`"))
}

fn open(parsed: DeviceSpec, spec: &str) -> Result<Device> {
    match parsed {
        #[cfg(feature = "flex")]
        DeviceSpec::Cpu => Ok(Device::flex()),
        #[cfg(not(feature = "flex"))]
        DeviceSpec::Cpu => Err(needs("flex", spec)),
        #[cfg(feature = "tch")]
        DeviceSpec::Cuda(i) => Ok(Device::libtorch_cuda(i)),
        #[cfg(not(feature = "tch"))]
        DeviceSpec::Cuda(_) => Err(needs("tch", spec)),
        #[cfg(any(feature = "vulkan", feature = "wgpu"))]
        DeviceSpec::Vulkan(kind) | DeviceSpec::Wgpu(kind) => gpu::open(parsed, kind, spec),
        #[cfg(not(any(feature = "vulkan", feature = "wgpu")))]
        DeviceSpec::Vulkan(_) | DeviceSpec::Wgpu(_) => Err(needs("vulkan", spec)),
    }
}

/// The GPU adapters this build can reach, as `trgl devices` prints them (empty without a GPU feature).
pub fn adapters() -> Vec<String> {
    #[cfg(any(feature = "vulkan", feature = "wgpu"))]
    {
        gpu::adapters()
    }
    #[cfg(not(any(feature = "vulkan", feature = "wgpu")))]
    {
        Vec::new()
    }
}

#[cfg(any(feature = "vulkan", feature = "wgpu"))]
mod gpu {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use burn::tensor::wgpu::WgpuBackend;
    use burn::tensor::{Device, DeviceKind};

    use super::{AdapterKind, DeviceSpec};
    use crate::error::{Error, Result};

    /// Adapters opened so far: burn's runtime registers each once, and a second `init` of the same one
    /// is refused, so every later parse of a spelling gets the device opened the first time.
    static OPENED: Mutex<Option<HashMap<DeviceSpec, Device>>> = Mutex::new(None);

    pub fn open(parsed: DeviceSpec, kind: AdapterKind, spec: &str) -> Result<Device> {
        let mut opened = OPENED.lock().unwrap_or_else(|e| e.into_inner());
        let opened = opened.get_or_insert_with(HashMap::new);
        if let Some(d) = opened.get(&parsed) {
            return Ok(d.clone());
        }
        let device_kind = match kind {
            AdapterKind::Discrete(i) => DeviceKind::DiscreteGpu(i),
            AdapterKind::Integrated(i) => DeviceKind::IntegratedGpu(i),
            AdapterKind::Virtual(i) => DeviceKind::VirtualGpu(i),
            AdapterKind::Cpu => DeviceKind::Cpu,
            AdapterKind::Default => DeviceKind::DefaultDevice,
        };
        let api = match parsed {
            DeviceSpec::Vulkan(_) => WgpuBackend::Vulkan,
            _ => WgpuBackend::Auto,
        };
        let device = Device::wgpu_options().device_kind(device_kind).graphics_api(api).init().map_err(|e| {
            let found = adapters();
            let found = if found.is_empty() { "none".to_string() } else { found.join("; ") };
            Error::config("device", format!("`{spec}`: cannot open this adapter ({e}); adapters found: {found}"))
        })?;
        if kind == AdapterKind::Cpu && cfg!(feature = "vulkan") {
            eprintln!(
                "warning: `{spec}` in a build with the feature `vulkan`: Mesa's lavapipe 22.3 crashes on its SPIR-V kernels \
                 (cubecl's matmul, in vkCreateComputePipelines); a build with `--features wgpu` alone runs there"
            );
        }
        opened.insert(parsed, device.clone());
        Ok(device)
    }

    /// Every adapter wgpu finds, with its name, driver and the spelling that opens it (an adapter's index
    /// counts the adapters of its kind on its API, as burn's runtime counts them).
    pub fn adapters() -> Vec<String> {
        use burn::tensor::wgpu::wgpu;
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let found = block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let mut counts: HashMap<(wgpu::Backend, wgpu::DeviceType), usize> = HashMap::new();
        found
            .iter()
            .map(|a| {
                let info = a.get_info();
                let n = counts.entry((info.backend, info.device_type)).or_insert(0);
                let api = if info.backend == wgpu::Backend::Vulkan { "vulkan" } else { "wgpu" };
                let kind = match info.device_type {
                    wgpu::DeviceType::DiscreteGpu => format!("discrete:{n}"),
                    wgpu::DeviceType::IntegratedGpu => format!("integrated:{n}"),
                    wgpu::DeviceType::VirtualGpu => format!("virtual:{n}"),
                    wgpu::DeviceType::Cpu => "cpu".into(),
                    wgpu::DeviceType::Other => "default".into(),
                };
                *n += 1;
                format!("{api}:{kind} = {} ({:?}, {:?}, driver {} {})", info.name, info.device_type, info.backend, info.driver, info.driver_info)
            })
            .collect()
    }

    /// Runs a future of wgpu's native API, which is ready when first polled (no executor needed).
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::yield_now();
        }
    }
}
