//! A linear probe: how linearly separable a representation is, independently of the module's own head. A
//! ridge classifier (least squares onto the one-hot labels with an L2 penalty, the decision the larger
//! output) fitted on train features and scored on test features; features standardised with the train
//! statistics. Closed form, so that the probe has no training schedule of its own to tune.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub train_samples: usize,
    pub test_samples: usize,
    pub features: usize,
    pub ridge: f64,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
}

/// Fits the probe on (`train`, `train_labels`) and scores it on both sets. `ridge` is the penalty per
/// sample (λ = ridge · N on the standardised features).
pub fn ridge_probe(train: &[Vec<f32>], train_labels: &[usize], test: &[Vec<f32>], test_labels: &[usize], classes: usize, ridge: f64) -> ProbeResult {
    let d = train.first().map_or(0, Vec::len);
    let n = train.len();
    let mut mean = vec![0f64; d];
    let mut var = vec![0f64; d];
    for row in train {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64 / n as f64;
        }
    }
    for row in train {
        for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v as f64 - m).powi(2) / n as f64;
        }
    }
    let scale: Vec<f64> = var.iter().map(|v| if *v > 1e-12 { 1.0 / v.sqrt() } else { 0.0 }).collect();
    // One more column of ones: the intercept (not penalised).
    let standardise = |row: &[f32]| -> Vec<f64> { row.iter().zip(&mean).zip(&scale).map(|((&v, m), s)| (v as f64 - m) * s).chain(std::iter::once(1.0)).collect() };
    let xs: Vec<Vec<f64>> = train.iter().map(|r| standardise(r)).collect();
    let p = d + 1;
    let mut gram = vec![0f64; p * p];
    let mut rhs = vec![0f64; p * classes];
    for (x, &y) in xs.iter().zip(train_labels) {
        for i in 0..p {
            for j in 0..=i {
                gram[i * p + j] += x[i] * x[j];
            }
            for c in 0..classes {
                rhs[i * classes + c] += x[i] * if c == y { 1.0 } else { 0.0 };
            }
        }
    }
    for i in 0..p {
        for j in 0..i {
            gram[j * p + i] = gram[i * p + j];
        }
        if i < d {
            gram[i * p + i] += ridge * n as f64;
        }
    }
    let weights = solve_spd(&mut gram, p, &rhs, classes);
    let accuracy = |rows: &[Vec<f32>], labels: &[usize]| -> f64 {
        let hits = rows
            .iter()
            .zip(labels)
            .filter(|(r, y)| {
                let x = standardise(r);
                let scores: Vec<f64> = (0..classes).map(|c| (0..p).map(|i| x[i] * weights[i * classes + c]).sum()).collect();
                let best = (0..classes).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap_or(0);
                best == **y
            })
            .count();
        hits as f64 / rows.len().max(1) as f64
    };
    ProbeResult {
        train_samples: n,
        test_samples: test.len(),
        features: d,
        ridge,
        train_accuracy: accuracy(train, train_labels),
        test_accuracy: accuracy(test, test_labels),
    }
}

/// Solves A·X = B for a symmetric positive (semi)definite `a` (p×p, overwritten by its Cholesky factor) and
/// `k` right-hand sides; a tiny jitter keeps a singular intercept-only direction solvable.
fn solve_spd(a: &mut [f64], p: usize, b: &[f64], k: usize) -> Vec<f64> {
    for j in 0..p {
        let mut d = a[j * p + j] - (0..j).map(|t| a[j * p + t].powi(2)).sum::<f64>();
        if d <= 1e-12 {
            d = 1e-12;
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let s = a[i * p + j] - (0..j).map(|t| a[i * p + t] * a[j * p + t]).sum::<f64>();
            a[i * p + j] = s / d;
        }
    }
    let mut x = b.to_vec();
    for c in 0..k {
        // L·z = b, then Lᵀ·x = z.
        for i in 0..p {
            let s = x[i * k + c] - (0..i).map(|t| a[i * p + t] * x[t * k + c]).sum::<f64>();
            x[i * k + c] = s / a[i * p + i];
        }
        for i in (0..p).rev() {
            let s = x[i * k + c] - (i + 1..p).map(|t| a[t * p + i] * x[t * k + c]).sum::<f64>();
            x[i * k + c] = s / a[i * p + i];
        }
    }
    x
}
