//! The one local training step every mode shares: forward module k on its (detached) input, local loss,
//! backward — which stops at the module's input, since nothing before it is on the graph — and an
//! update of module k's parameters by module k's own optimizer.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use crate::model::LocalModule;
use crate::transport::{LocalLoss, local_loss};

/// What one step measured, read back from the device in one transfer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepStats {
    pub loss: f32,
    pub ce: f32,
    pub kinetic: f32,
    pub correct: usize,
    pub count: usize,
}

/// Reads loss terms and the number of correct predictions back to the host.
pub fn read_stats(loss: &LocalLoss, logits: &Tensor<2>, targets: &Tensor<1, Int>) -> StepStats {
    let [count, _] = logits.dims();
    let correct = logits.clone().detach().argmax(1).flatten::<1>(0, 1).equal(targets.clone()).int().sum().float();
    let all = Tensor::cat(vec![loss.total.clone().detach(), loss.ce.clone().detach(), loss.kinetic.clone().detach(), correct], 0);
    let v: Vec<f32> = all.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 stats");
    StepStats { loss: v[0], ce: v[1], kinetic: v[2], correct: v[3].round() as usize, count }
}

/// One update of `module` on `input` (not on any graph). Returns the updated module, the features it
/// produced (detached: the next module's input) and the step's statistics.
pub fn local_step(
    module: LocalModule,
    optim: &mut ModuleOptimizer,
    input: Tensor<4>,
    targets: &Tensor<1, Int>,
    energy_weight: f64,
    smoothing: f64,
    lr: f64,
) -> (LocalModule, Tensor<4>, StepStats) {
    let out = module.forward(input);
    let logits = module.head.forward(out.features.clone());
    let loss = local_loss(logits.clone(), targets.clone(), &out.residuals, energy_weight, smoothing);
    let stats = read_stats(&loss, &logits, targets);
    let grads = GradientsParams::from_grads(loss.total.backward(), &module);
    let module = optim.step(lr, module, grads);
    (module, out.features.detach(), stats)
}

/// Local steps of consecutive modules on one batch: each module's input is the previous one's detached
/// output, taken before that module's update (the paper's code does the same). `weights[j]` and `lrs[j]`
/// belong to `modules[j]`. Returns the updated modules, the last one's (detached) features and the stats.
pub fn chain_steps(
    modules: Vec<LocalModule>,
    optims: &mut [ModuleOptimizer],
    mut x: Tensor<4>,
    targets: &Tensor<1, Int>,
    weights: &[f64],
    smoothing: f64,
    lrs: &[f64],
) -> (Vec<LocalModule>, Tensor<4>, Vec<StepStats>) {
    let mut updated = Vec::with_capacity(modules.len());
    let mut stats = Vec::with_capacity(modules.len());
    for (j, module) in modules.into_iter().enumerate() {
        let (module, features, s) = local_step(module, &mut optims[j], x, targets, weights[j], smoothing, lrs[j]);
        updated.push(module);
        stats.push(s);
        x = features;
    }
    (updated, x, stats)
}

/// Running means of step statistics over an epoch.
#[derive(Clone, Copy, Debug, Default)]
pub struct EpochStats {
    pub loss_sum: f64,
    pub ce_sum: f64,
    pub kinetic_sum: f64,
    pub correct: usize,
    pub count: usize,
    pub steps: usize,
}

impl EpochStats {
    pub fn add(&mut self, s: &StepStats) {
        self.loss_sum += s.loss as f64;
        self.ce_sum += s.ce as f64;
        self.kinetic_sum += s.kinetic as f64;
        self.correct += s.correct;
        self.count += s.count;
        self.steps += 1;
    }
    pub fn loss(&self) -> f64 {
        self.loss_sum / self.steps.max(1) as f64
    }
    pub fn ce(&self) -> f64 {
        self.ce_sum / self.steps.max(1) as f64
    }
    pub fn kinetic(&self) -> f64 {
        self.kinetic_sum / self.steps.max(1) as f64
    }
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.count.max(1) as f64
    }
}
