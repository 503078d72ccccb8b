//! Checks that a crate depending on trgl got trgl's kernels: the published burn-flex has no
//! `TRGL_KERNELS`, so without the `[patch.crates-io]` section of Cargo.toml this does not compile.

fn main() {
    let kernels: &str = burn_flex::TRGL_KERNELS;
    assert!(kernels.starts_with("trgl"), "burn_flex::TRGL_KERNELS is {kernels:?}, not trgl's marker");
    // trgl itself links and runs as a library.
    trgl::Config::default().validate().expect("trgl's default configuration validates");
    println!("library user: burn-flex is trgl's copy ({kernels})");
}
