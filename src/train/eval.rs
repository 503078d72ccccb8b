//! Test accuracy of every module's head, in one pass: each batch flows through the modules in inference
//! mode (BatchNorm running statistics, no graph) and each wanted head classifies the features on the way.

use burn::prelude::*;

use crate::data::Loader;
use crate::model::LocalModule;

/// Accuracy of head k for each k with `want[k]`; `modules` are inference copies (`Module::valid`).
pub fn evaluate(modules: &[LocalModule], want: &[bool], loader: &Loader, device: &Device) -> Vec<Option<f64>> {
    let last = match want.iter().rposition(|&w| w) {
        Some(l) => l,
        None => return vec![None; want.len()],
    };
    let mut correct = vec![0usize; want.len()];
    let mut total = 0usize;
    for batch in loader.epoch(0) {
        let mut x = Tensor::<4>::from_data(TensorData::new(batch.images, batch.shape), device);
        let y = Tensor::<1, Int>::from_data(TensorData::new(batch.labels, [batch.shape[0]]), device);
        total += batch.shape[0];
        for (k, module) in modules[..=last].iter().enumerate() {
            x = module.features(x);
            if want[k] {
                let hits = module.head.forward(x.clone()).argmax(1).flatten::<1>(0, 1).equal(y.clone()).int().sum();
                correct[k] += hits.into_scalar::<i64>() as usize;
            }
        }
    }
    want.iter().zip(correct).map(|(&w, c)| w.then(|| c as f64 / total.max(1) as f64)).collect()
}
