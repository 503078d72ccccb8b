//! A small synthetic image set with a learnable signal, for tests and benchmarks that must not depend on
//! files: class c brightens a class-specific square of a noisy image.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::dataset::{ImageSet, Splits};

pub fn synthetic(train: usize, test: usize, channels: usize, size: usize, classes: usize, seed: u64) -> Splits {
    let make = |n: usize, seed: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let plane = size * size;
        let mut pixels = vec![0u8; n * channels * plane];
        let mut labels = Vec::with_capacity(n);
        let patch = (size / 2).max(1);
        for (i, img) in pixels.chunks_exact_mut(channels * plane).enumerate() {
            let c = i % classes;
            labels.push(c as u16);
            let (oy, ox) = ((c * 7) % (size - patch + 1), (c * 3) % (size - patch + 1));
            for ch in 0..channels {
                for y in 0..size {
                    for x in 0..size {
                        let inside = (oy..oy + patch).contains(&y) && (ox..ox + patch).contains(&x);
                        let base: u8 = if inside { 150 } else { 40 };
                        img[ch * plane + y * size + x] = base.saturating_add(rng.random_range(0..80));
                    }
                }
            }
        }
        ImageSet { pixels, labels, channels, height: size, width: size, classes: (0..classes).map(|c| format!("class{c}")).collect() }
    };
    Splits { name: "synthetic".into(), train: make(train, seed), test: make(test, seed ^ 0x5EED) }
}
