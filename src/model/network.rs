//! A split network: K local modules, each its consecutive units and a classifier head.

use burn::prelude::*;

use super::block::{Block, Stem};
use super::config::HeadSpec;
use super::head::Head;
use super::init::Init;
use super::plan::ArchPlan;
use super::vit::TokenHead;
use super::split::Split;
use crate::local_loss::AuxObjective;

/// Module k of the split: the stem (module 1 only), its blocks, its head F_k (the network's own
/// classifier for the last module) and the learned part of its local loss, if any (InfoPro's decoder,
/// PredSim's projection: training only, not exported).
#[derive(Module, Debug)]
pub struct LocalModule {
    pub stem: Option<Stem>,
    pub blocks: Vec<Block>,
    pub head: Head,
    pub aux: Option<AuxObjective>,
}

/// A module's output features and every residual branch computed on the way.
pub struct ModuleOutput {
    pub features: Tensor<4>,
    pub residuals: Vec<Tensor<4>>,
}

impl LocalModule {
    pub fn forward(&self, x: Tensor<4>) -> ModuleOutput {
        let mut x = match &self.stem {
            Some(stem) => stem.forward(x),
            None => x,
        };
        let mut residuals = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let out = block.forward(x);
            residuals.extend(out.residuals);
            x = out.output;
        }
        ModuleOutput { features: x, residuals }
    }

    /// Features only, for the inference path (frozen prefixes, evaluation).
    pub fn features(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward(x).features
    }
}

/// The whole network, as its modules. End-to-end training differentiates through all of them.
#[derive(Module, Debug)]
pub struct Network {
    pub modules: Vec<LocalModule>,
}

impl Network {
    /// Builds the modules of `split` over `plan`, auxiliary heads from `head`, the last module with the
    /// network's own classifier. All blocks are drawn first, in unit order, then the heads: for a seed, the
    /// body's initial weights are the same whatever the split or the head kind.
    pub fn new(plan: &ArchPlan, split: &Split, head: &HeadSpec, init: &Init, device: &Device) -> Network {
        let mut bodies: Vec<(Option<Stem>, Vec<Block>)> = Vec::with_capacity(split.len());
        for range in &split.modules {
            let mut stem = None;
            let mut blocks = Vec::new();
            for u in range.clone() {
                match plan.units[u].build_block(init, device) {
                    Some(b) => blocks.push(b),
                    None => stem = plan.units[u].build_stem(init, device),
                }
            }
            bodies.push((stem, blocks));
        }
        let k = split.len();
        let modules = bodies
            .into_iter()
            .zip(&split.modules)
            .enumerate()
            .map(|(m, ((stem, blocks), range))| {
                let last = &plan.units[range.end - 1];
                let head = match plan.token_pool() {
                    // Every head of a ViT, the last one included, is LN → pool → linear.
                    Some(pool) => Head::Token(TokenHead::new(last.out_channels, plan.classes, pool, device)),
                    None if m + 1 == k && head.last == super::config::LastHead::Network => Head::classifier(last.out_channels, plan.classes, init, device),
                    None => Head::new(&head.for_module(m), last.out_channels, last.out_size, plan.classes, init, device),
                };
                LocalModule { stem, blocks, head, aux: None }
            })
            .collect();
        Network { modules }
    }

    /// Logits of the last head, through every module (end-to-end path), and all residuals.
    /// Draws every parameter now. burn initialises parameters lazily, at their first use: without this the
    /// draws from the process-wide RNG would happen whenever the network first runs, interleaved with
    /// other networks' draws in the same process, and a seed would no longer fix the weights.
    pub fn materialize(self) -> Self {
        struct Touch;
        impl burn::module::ModuleVisitor for Touch {
            fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
                let _ = param.val();
            }
        }
        burn::module::Module::visit(&self, &mut Touch);
        self
    }

    /// Gives module k the learned part `aux[k]` of its local loss (`local_loss::aux_objectives`).
    pub fn with_aux(mut self, aux: Vec<Option<AuxObjective>>) -> Self {
        for (module, a) in self.modules.iter_mut().zip(aux) {
            module.aux = a;
        }
        self
    }

    /// The network without its local losses' learned parts: what inference and export carry.
    pub fn without_aux(mut self) -> Self {
        for module in &mut self.modules {
            module.aux = None;
        }
        self
    }

    /// Moves the modules of `range` out (to train them by value); [`Network::restore_modules`] puts them back.
    pub fn take_modules(&mut self, range: std::ops::Range<usize>) -> Vec<LocalModule> {
        self.modules.drain(range).collect()
    }

    pub fn restore_modules(&mut self, at: usize, modules: Vec<LocalModule>) {
        self.modules.splice(at..at, modules);
    }

    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Vec<Tensor<4>>) {
        let mut x = x;
        let mut residuals = Vec::new();
        for module in &self.modules {
            let out = module.forward(x);
            residuals.extend(out.residuals);
            x = out.features;
        }
        let logits = self.modules.last().expect("a network has at least one module").head.forward(x);
        (logits, residuals)
    }
}
