//! Test accuracy of every module's head, in one pass: each batch flows through the modules in inference
//! mode (BatchNorm running statistics, no graph) and each wanted head classifies the features on the way.

use burn::prelude::*;

use crate::data::Loader;
use crate::model::LocalModule;
use crate::readback;

/// Accuracy of head k for each k with `want[k]`; `modules` are inference copies (`Module::valid`).
pub fn evaluate(modules: &[LocalModule], want: &[bool], loader: &Loader, device: &Device) -> Vec<Option<f64>> {
    let last = match want.iter().rposition(|&w| w) {
        Some(l) => l,
        None => return vec![None; want.len()],
    };
    // Hits are counted on the device and read once, after the last batch.
    let mut correct: Vec<Option<Tensor<1, Int>>> = vec![None; want.len()];
    let mut total = 0usize;
    for batch in loader.epoch(0) {
        let mut x = Tensor::<4>::from_data(TensorData::new(batch.images, batch.shape), device);
        let y = Tensor::<1, Int>::from_data(TensorData::new(batch.labels, [batch.shape[0]]), device);
        total += batch.shape[0];
        for (k, module) in modules[..=last].iter().enumerate() {
            x = module.features(x);
            if want[k] {
                let hits = module.head.forward(x.clone()).argmax(1).flatten::<1>(0, 1).equal(y.clone()).int().sum();
                correct[k] = Some(match correct[k].take() {
                    Some(c) => c + hits,
                    None => hits,
                });
            }
        }
    }
    let counted: Vec<Tensor<1, Int>> = correct.iter().flatten().cloned().collect();
    let mut read = if counted.is_empty() { Vec::new() } else { readback::read_i64(Tensor::cat(counted, 0)) }.into_iter();
    correct
        .iter()
        .zip(want)
        .map(|(c, &w)| {
            let hits = c.as_ref().map_or(0, |_| read.next().expect("one count per head") as usize);
            w.then(|| hits as f64 / total.max(1) as f64)
        })
        .collect()
}
