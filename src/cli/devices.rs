//! `trgl devices`: the GPU adapters this build can open, each with the `device` spelling that opens it.

pub fn run() {
    println!("cpu = Flex, the CPU backend{}", if cfg!(feature = "flex") { "" } else { " (not in this build: feature `flex`)" });
    let gpu = cfg!(any(feature = "vulkan", feature = "wgpu"));
    if !gpu {
        println!("(no GPU backend in this build: build with --features vulkan)");
    }
    let adapters = trgl::device::adapters();
    if gpu && adapters.is_empty() {
        println!("(no GPU adapter found: is a Vulkan driver installed? VK_DRIVER_FILES names its ICD file)");
    }
    for a in adapters {
        println!("{a}");
    }
}
