//! Device spellings: every form parses to the adapter it names, and a device this build or machine
//! cannot open is an error naming the field, never a panic.

use trgl::device::{AdapterKind, DeviceSpec, parse_device, parse_devices, parse_spec};

#[test]
fn every_spelling_names_its_adapter() {
    use AdapterKind::*;
    for (spelling, want) in [
        ("cpu", DeviceSpec::Cpu),
        ("vulkan", DeviceSpec::Vulkan(Discrete(0))),
        ("vulkan:0", DeviceSpec::Vulkan(Discrete(0))),
        ("vulkan:3", DeviceSpec::Vulkan(Discrete(3))),
        ("vulkan:discrete", DeviceSpec::Vulkan(Discrete(0))),
        ("vulkan:discrete:1", DeviceSpec::Vulkan(Discrete(1))),
        ("vulkan:integrated", DeviceSpec::Vulkan(Integrated(0))),
        ("vulkan:integrated:2", DeviceSpec::Vulkan(Integrated(2))),
        ("vulkan:virtual:1", DeviceSpec::Vulkan(Virtual(1))),
        ("vulkan:cpu", DeviceSpec::Vulkan(Cpu)),
        ("vulkan:default", DeviceSpec::Vulkan(Default)),
        ("wgpu:cpu", DeviceSpec::Wgpu(Cpu)),
        ("wgpu:integrated:0", DeviceSpec::Wgpu(Integrated(0))),
        ("wgpu", DeviceSpec::Wgpu(Discrete(0))),
        ("cuda", DeviceSpec::Cuda(0)),
        ("cuda:1", DeviceSpec::Cuda(1)),
        (" vulkan:cpu ", DeviceSpec::Vulkan(Cpu)),
    ] {
        assert_eq!(parse_spec(spelling).unwrap(), want, "{spelling}");
    }
}

#[test]
fn a_misspelt_device_is_an_error_naming_the_field_and_the_spellings() {
    for bad in ["gpu", "vulkan:x", "vulkan:cpu:0", "vulkan:integrated:one", "vulkan:discrete:1:2", "cuda:-1", "", "cpu:0", "metal"] {
        let e = parse_spec(bad).unwrap_err().to_string();
        assert!(e.starts_with("config field `device`"), "{bad}: {e}");
        assert!(e.contains("vulkan:integrated:N") && e.contains("vulkan:cpu"), "{bad}: the message lists the spellings: {e}");
    }
}

#[test]
fn the_cpu_opens_and_lists_split_on_commas() {
    assert_eq!(parse_devices("cpu, cpu").unwrap().len(), 2);
    parse_device("cpu").unwrap();
}

#[cfg(not(any(feature = "vulkan", feature = "wgpu")))]
#[test]
fn a_gpu_in_a_cpu_build_is_an_error_naming_the_feature() {
    for spec in ["vulkan:0", "vulkan:cpu", "wgpu:default", "cpu,vulkan:1"] {
        let e = parse_devices(spec).unwrap_err().to_string();
        assert!(e.contains("feature `vulkan`"), "{spec}: {e}");
    }
    assert!(trgl::device::adapters().is_empty());
}

#[cfg(not(feature = "tch"))]
#[test]
fn cuda_without_libtorch_is_an_error_naming_the_feature() {
    assert!(parse_device("cuda:0").unwrap_err().to_string().contains("feature `tch`"));
}

/// Run where the GPU build is tested (CI: the software-driver build): an adapter that is not there.
#[cfg(any(feature = "vulkan", feature = "wgpu"))]
#[test]
fn a_missing_adapter_is_an_error_listing_the_adapters_found() {
    let e = parse_device("vulkan:virtual:7").unwrap_err().to_string();
    assert!(e.starts_with("config field `device`: `vulkan:virtual:7`: cannot open this adapter"), "{e}");
    assert!(e.contains("adapters found: "), "{e}");
}
