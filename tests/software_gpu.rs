//! trgl's GPU code path without a GPU: the wgpu backend on a software Vulkan driver (Mesa's lavapipe,
//! `vulkan:cpu`), in a build with the feature `wgpu` (WGSL kernels, compiled by wgpu's naga; the `vulkan`
//! build's own SPIR-V segfaults lavapipe 22.3.6 in vkCreateComputePipelines on cubecl's matmul kernel).
//! Against Flex on the same weights, seed and data: per-step losses within 1e-3 relative for 20 steps,
//! per-module test accuracies within a point; no kernel compiled after the warm-up steps; no host read
//! between logging points.
//!
//! `.ci/run` installs lavapipe and sets TRGL_REQUIRE_SOFTWARE_GPU=1; without it and without the driver,
//! each test prints one SKIPPED line and passes.
#![cfg(any(feature = "wgpu", feature = "vulkan"))]

mod common;

use std::sync::{Mutex, Once};

use burn::module::Module;
use burn::prelude::*;
use common::tiny_config;
use trgl::bench::compilations::{compilations, count_compilations, counting};
use trgl::model::LocalModule;
use trgl::readback::{host_reads, read_f32};
use trgl::train::step::chain_steps;
use trgl::train::{Mode, Optimizers, Pass, Session, train_pass};

const GPU: &str = "vulkan:cpu";
static SETUP: Once = Once::new();
/// One GPU test at a time: the software driver uses every core, and the read counter is process-wide.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The GPU session of `config`, with the weights of `cpu`'s network; None (after one SKIPPED line) when
/// no software adapter exists and the CI did not ask for one.
fn gpu_twin(config: &trgl::Config, cpu: &Session, data: &trgl::data::Splits) -> Option<Session> {
    SETUP.call_once(|| assert!(count_compilations(), "cubecl's configuration was read before the compile counter was installed"));
    if let Err(e) = trgl::device::parse_device(GPU) {
        assert!(std::env::var_os("TRGL_REQUIRE_SOFTWARE_GPU").is_none(), "TRGL_REQUIRE_SOFTWARE_GPU is set, but: {e}");
        eprintln!("SKIPPED: no software Vulkan adapter ({e})");
        return None;
    }
    let mut c = config.clone();
    c.device = GPU.into();
    let mut gpu = Session::new(&c, data, None).unwrap();
    gpu.trainer.network.modules = cpu.trainer.network.modules.iter().map(|m| m.clone().fork(&gpu.trainer.device)).collect();
    Some(gpu)
}

/// One parallel-mode step of every module on the session's next batch; the losses, read back.
fn step(s: &mut Session, batch: &trgl::data::loader::Batch, optims: &mut [burn::optim::ModuleOptimizer]) -> Vec<f32> {
    let t = &mut s.trainer;
    let x = Tensor::<4>::from_data(TensorData::new(batch.images.clone(), batch.shape), &t.infer_device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(batch.labels.clone(), [batch.shape[0]]), &t.device);
    let k = t.network.modules.len();
    let training: Vec<LocalModule> = t.network.take_modules(0..k);
    let w = t.weights.to_device(0..k, &t.infer_device);
    let weights: Vec<_> = (0..k).map(|j| w.weight(j)).collect();
    let (updated, _, stats) = chain_steps(training, optims, x.autodiff(), &y.clone().into(), &weights, s.config.train.label_smoothing, &vec![s.config.optim.lr; k]);
    s.trainer.network.restore_modules(0, updated);
    read_f32(Tensor::cat(stats.into_iter().map(|st| st.values.slice(0..1)).collect(), 0))
}

fn data() -> trgl::data::Splits {
    // 20 batches of 16 in one pass.
    trgl::data::synthetic(320, 64, 1, 8, 3, 7)
}

#[test]
fn twenty_steps_on_the_software_gpu_match_flex() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let config = tiny_config(Mode::Parallel);
    let data = data();
    let mut cpu = Session::new(&config, &data, None).unwrap();
    let Some(mut gpu) = gpu_twin(&config, &cpu, &data) else { return };
    let (mut cpu_optims, mut gpu_optims) = (Optimizers::per_module(&cpu, |_| 1), Optimizers::per_module(&gpu, |_| 1));
    let batches: Vec<_> = cpu.loaders.train.epoch(0).take(20).collect();
    assert_eq!(batches.len(), 20);
    for (i, batch) in batches.iter().enumerate() {
        let want = step(&mut cpu, batch, &mut cpu_optims.optims);
        let got = step(&mut gpu, batch, &mut gpu_optims.optims);
        for (k, (w, g)) in want.iter().zip(&got).enumerate() {
            assert!(((g - w) / w).abs() <= 1e-3, "step {}, module {}: loss {g} on the GPU, {w} on Flex", i + 1, k + 1);
        }
    }
    let (want, got) = (cpu.evaluate(0..4), gpu.evaluate(0..4));
    for (k, (w, g)) in want.iter().zip(&got).enumerate() {
        let (w, g) = (w.unwrap(), g.unwrap());
        assert!((w - g).abs() <= 0.01, "module {}: test accuracy {g} on the GPU, {w} on Flex", k + 1);
    }
}

#[test]
fn after_warm_up_a_step_compiles_nothing_and_reads_only_at_logging_points() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut config = tiny_config(Mode::Parallel);
    config.output.log_every = 5;
    config.train.max_steps_per_epoch = 10;
    let data = data();
    let cpu = Session::new(&config, &data, None).unwrap();
    let Some(mut gpu) = gpu_twin(&config, &cpu, &data) else { return };
    assert!(counting());
    let mut optims = Optimizers::per_module(&gpu, |_| 2);
    // Steps 1-10: the warm-up, which compiles (and autotunes) every kernel of the step.
    let before = compilations();
    train_pass(&mut gpu, &Pass::Local(0..4), &mut optims, "").unwrap();
    let warm = compilations();
    // The first steps compile kernels, unless the other test of this process ran first and compiled them
    // (the tests take turns in either order): either way the counter must have counted some.
    assert!(warm > before || before > 0, "the first steps compile kernels ({before} -> {warm}): is the counter counting?");
    // Steps 11-20: nothing new to compile; reads at step 15 and at the end only.
    let reads = host_reads();
    train_pass(&mut gpu, &Pass::Local(0..4), &mut optims, "").unwrap();
    assert_eq!(host_reads() - reads, 2, "one read at the logging point (step 5 of 10), one at the epoch's end");
    assert_eq!(compilations(), warm, "steps 11-20 compiled kernels");
    assert_eq!(optims.steps, vec![20; 4]);
}
