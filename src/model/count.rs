//! Parameter counts as PyTorch reports them: trainable tensors only, BatchNorm's running statistics
//! (buffers) excluded — burn's `num_params` counts those too.

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;

struct Counter {
    path: Vec<String>,
    count: usize,
}

impl ModuleVisitor for Counter {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let buffer = matches!(self.path.last().map(String::as_str), Some("running_mean" | "running_var"));
        if !buffer {
            self.count += param.lazy_shape().num_elements();
        }
    }
}

pub fn trainable_params<M: Module>(module: &M) -> usize {
    let mut c = Counter { path: Vec::new(), count: 0 };
    module.visit(&mut c);
    c.count
}
