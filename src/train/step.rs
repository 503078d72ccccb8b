//! The one local training step every mode shares: forward module k on its (detached) input, local loss,
//! backward — which stops at the module's input, since nothing before it is on the graph — and an
//! update of module k's parameters by module k's own optimizer. A step reads nothing back from the
//! device: its statistics stay there ([`StepStats`]) until a logging point sums them up
//! ([`super::running::RunningStats`]).

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use crate::model::LocalModule;
use crate::readback;
use crate::local_loss::Targets;
use crate::transport::{EnergyWeight, LocalLoss, LossSpec, local_loss_with};

/// What one step measured, still on the device (no autodiff): `[loss, ce, kinetic energy, correct
/// predictions]`, and the batch size.
#[derive(Clone, Debug)]
pub struct StepStats {
    pub values: Tensor<1>,
    pub count: usize,
}

impl StepStats {
    /// The step's CE, as a one-value tensor on the device (Uzawa's λ update takes it from there).
    pub fn ce(&self) -> Tensor<1> {
        self.values.clone().slice(1..2)
    }
}

/// The step's loss terms and number of correct predictions, gathered on the device without a read.
pub fn step_stats(loss: &LocalLoss, logits: &Tensor<2>, targets: &Tensor<1, Int>) -> StepStats {
    let [count, _] = logits.dims();
    let correct = logits.clone().detach().argmax(1).flatten::<1>(0, 1).equal(targets.clone()).int().sum().float();
    let values = Tensor::cat(vec![loss.total.clone().detach(), loss.ce.clone().detach(), loss.kinetic.clone().detach(), correct], 0);
    StepStats { values: values.without_autodiff(), count }
}

/// One update of `module` on `input` (not on any graph). Returns the updated module, the features it
/// produced (detached: the next module's input) and the step's statistics (on the device).
pub fn local_step(
    module: LocalModule,
    optim: &mut ModuleOptimizer,
    input: Tensor<4>,
    targets: &Targets,
    energy_weight: impl Into<EnergyWeight>,
    loss: impl Into<LossSpec>,
    lr: f64,
) -> (LocalModule, Tensor<4>, StepStats) {
    let out = module.forward(input);
    let (logits, extra) = match &module.aux {
        None => (module.head.forward(out.features.clone()), None),
        Some(aux) => {
            let logits = module.head.forward(aux.head_input(out.features.clone()));
            let classes = logits.dims()[1];
            (logits, Some(aux.term(out.features.clone(), targets, classes)))
        }
    };
    let loss = local_loss_with(logits.clone(), targets.labels.clone(), extra, &out.residuals, energy_weight, loss);
    let stats = step_stats(&loss, &logits, &targets.labels);
    if readback::planted_read() {
        readback::read_f32(loss.total.clone().detach());
    }
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
    targets: &Targets,
    weights: &[EnergyWeight],
    loss: impl Into<LossSpec>,
    lrs: &[f64],
) -> (Vec<LocalModule>, Tensor<4>, Vec<StepStats>) {
    let loss = loss.into();
    let mut updated = Vec::with_capacity(modules.len());
    let mut stats = Vec::with_capacity(modules.len());
    for (j, module) in modules.into_iter().enumerate() {
        let (module, features, s) = local_step(module, &mut optims[j], x, targets, weights[j].clone(), loss, lrs[j]);
        updated.push(module);
        stats.push(s);
        x = features;
    }
    (updated, x, stats)
}

/// Means of step statistics over the steps summed so far (read back from a [`super::running::RunningStats`]).
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
