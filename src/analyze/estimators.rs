//! Estimators of a map T's regularity and optimality from samples: rows of an input cloud (projected to
//! the output's shape where the map changes it) and the matching rows of the output cloud. Host-side f64
//! arithmetic on flattened samples, so that each can be checked on maps with known constants.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A distribution's median, 99th percentile and maximum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    pub median: f64,
    pub p99: f64,
    pub max: f64,
    pub count: usize,
}

/// Median, 99 % and max of `values` (nearest-rank percentiles); all zero for no values.
pub fn quantiles(values: &[f64]) -> Quantiles {
    if values.is_empty() {
        return Quantiles::default();
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    Quantiles { median: at(0.5), p99: at(0.99), max: v[v.len() - 1], count: v.len() }
}

pub fn distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum::<f64>().sqrt()
}

fn norm(a: &[f32]) -> f64 {
    a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt()
}

/// `count` random pairs of distinct indices below `n`.
pub fn random_pairs(n: usize, count: usize, rng: &mut impl Rng) -> Vec<(usize, usize)> {
    if n < 2 {
        return Vec::new();
    }
    (0..count)
        .map(|_| {
            let i = rng.random_range(0..n);
            let j = (i + rng.random_range(1..n)) % n;
            (i, j)
        })
        .collect()
}

/// For each pair (i, j): ‖x_i − x_j‖ and ‖y_i − y_j‖ (pairs with equal inputs are left out).
pub fn pair_distances(x: &[Vec<f32>], y: &[Vec<f32>], pairs: &[(usize, usize)]) -> Vec<(f64, f64)> {
    pairs.iter().map(|&(i, j)| (distance(&x[i], &x[j]), distance(&y[i], &y[j]))).filter(|(dx, _)| *dx > 0.0).collect()
}

/// ‖T(x) − T(x')‖ / ‖x − x'‖ of each pair: samples of the map's local or global Lipschitz ratio.
pub fn lipschitz_ratios(distances: &[(f64, f64)]) -> Vec<f64> {
    distances.iter().map(|(dx, dy)| dy / dx).collect()
}

/// Mean over samples of ‖y_i − x_i‖ / ‖x_i‖: how far the map moves a point, relative to its size.
pub fn relative_displacement(x: &[Vec<f32>], y: &[Vec<f32>]) -> f64 {
    let terms: Vec<f64> = x.iter().zip(y).filter(|(a, _)| norm(a) > 0.0).map(|(a, b)| distance(a, b) / norm(a)).collect();
    terms.iter().sum::<f64>() / terms.len().max(1) as f64
}

/// The exact discrete W₂² between the input and output clouds (uniform weights) against the cost of the
/// map's own coupling x_i ↦ y_i.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Optimality {
    pub samples: usize,
    /// min over permutations σ of (1/N) Σ ‖y_i − x_σ(i)‖², solved exactly (Jonker–Volgenant, `lsap`).
    pub w2_squared: f64,
    /// (1/N) Σ ‖y_i − x_i‖².
    pub own_cost: f64,
    /// w2_squared / own_cost: 1 when the map is the optimal coupling on these samples, below 1 otherwise.
    pub ratio: f64,
}

/// The optimality ratio of the map x_i ↦ y_i on these samples (x already in y's space).
pub fn optimality(x: &[Vec<f32>], y: &[Vec<f32>]) -> Result<Optimality> {
    let n = x.len().min(y.len());
    let own_cost = (0..n).map(|i| distance(&y[i], &x[i]).powi(2)).sum::<f64>() / n.max(1) as f64;
    if n == 0 || own_cost == 0.0 {
        return Ok(Optimality { samples: n, w2_squared: 0.0, own_cost, ratio: 1.0 });
    }
    let cost: Vec<f64> = (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| distance(&y[i], &x[j]).powi(2)).collect();
    let (rows, cols) = lsap::solve(n, n, &cost, false).map_err(|e| Error::config("analyze.samples", format!("the assignment problem has no solution: {e:?}")))?;
    let w2_squared = rows.iter().zip(&cols).map(|(&i, &j)| cost[i * n + j]).sum::<f64>() / n as f64;
    Ok(Optimality { samples: n, w2_squared, own_cost, ratio: w2_squared / own_cost })
}

/// ‖T(x) − T(y)‖ ≤ C·‖x − y‖^η fitted to the pairs' upper envelope: the pairs between the 5th and 95th
/// percentile of log‖x − y‖ are cut into bins of equal width, each bin keeps its largest log‖T(x) − T(y)‖,
/// and a least-squares line through those maxima gives η (slope) and C (e^intercept). The bound the
/// paper's regularity argument uses is on the worst pairs, which a fit through all pairs (their mean)
/// would miss; the tails are left out because a bin of a few pairs says little about the worst of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HolderFit {
    pub eta: f64,
    pub constant: f64,
    /// R² of the line through the bins' maxima.
    pub r_squared: f64,
    pub bins: usize,
}

pub fn holder_fit(distances: &[(f64, f64)], bins: usize) -> HolderFit {
    let logs: Vec<(f64, f64)> = distances.iter().filter(|(dx, dy)| *dx > 0.0 && *dy > 0.0).map(|(dx, dy)| (dx.ln(), dy.ln())).collect();
    if logs.len() < 2 {
        return HolderFit::default();
    }
    let mut xs: Vec<f64> = logs.iter().map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    let (lo, hi) = (xs[xs.len() / 20], xs[(xs.len() * 19 / 20).min(xs.len() - 1)]);
    let width = ((hi - lo) / bins as f64).max(f64::MIN_POSITIVE);
    let mut top: Vec<Option<(f64, f64)>> = vec![None; bins];
    for &(x, y) in logs.iter().filter(|(x, _)| (lo..=hi).contains(x)) {
        let b = (((x - lo) / width) as usize).min(bins - 1);
        if top[b].is_none_or(|(_, ty)| y > ty) {
            top[b] = Some((x, y));
        }
    }
    let points: Vec<(f64, f64)> = top.into_iter().flatten().collect();
    let (slope, intercept, r_squared) = least_squares(&points);
    HolderFit { eta: slope, constant: intercept.exp(), r_squared, bins: points.len() }
}

/// The line y = a·x + b through `points` by least squares, and its R².
fn least_squares(points: &[(f64, f64)]) -> (f64, f64, f64) {
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    if sxx == 0.0 {
        return (0.0, my, 0.0);
    }
    let a = sxy / sxx;
    let r2 = if syy == 0.0 { 1.0 } else { (sxy * sxy) / (sxx * syy) };
    (a, my - a * mx, r2)
}
